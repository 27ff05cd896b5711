#!/usr/bin/env bash
# Build the PWA when its sources or lockfile changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/../pwa"
if [ ! -f node_modules/.installed-stamp ] || [ package-lock.json -nt node_modules/.installed-stamp ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed-stamp
fi
newest_src=$(find src public index.html console.html vite.config.ts package-lock.json -newer dist/index.html 2>/dev/null | head -n 1 || true)
if [ ! -f dist/index.html ] || [ -n "$newest_src" ]; then
  npm run build --silent
fi
