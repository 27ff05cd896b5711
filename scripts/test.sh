#!/usr/bin/env bash
# Run every test: the PWA's unit tests, then pytest (API, worker, emulator, browser end-to-end).
# pytest exits 5 when it collected no tests; that is a broken suite here, not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
if [ -f pwa/package.json ]; then
  (cd pwa && npm test --silent) || status=1
fi
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "pytest collected no tests: failing the run" >&2
  rc=1
fi
[ "$rc" = 0 ] || status=$rc
exit $status
