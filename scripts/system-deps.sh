#!/usr/bin/env bash
# Install the system libraries Fieldhand needs, only when they are missing.
#   runtime: libzbar (pyzbar's decoder) and a TrueType font for printed labels.
#   test:    also Debian's Chromium for the browser tests (never a downloaded browser).
set -euo pipefail
mode=${1:-runtime}
need=()
ldconfig -p 2>/dev/null | grep -q 'libzbar\.so' || need+=(libzbar0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] || need+=(fonts-dejavu-core)
if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${need[*]}"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" >/dev/null
