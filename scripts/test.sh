#!/usr/bin/env bash
# Run every test: the PWA's unit tests, then pytest (API, worker, emulator, labels, browser).
# With TEST_DATABASE_URL set (CI: PostgreSQL) the whole suite runs there, and the database-heavy
# folders run once more on SQLite, so both backends are covered in one `make test`.
# pytest exits 5 when it collected no tests; that is a broken suite here, not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

run_pytest() {
  .venv/bin/python -m pytest "$@"
  local rc=$?
  if [ "$rc" = 5 ]; then
    echo "pytest collected no tests: failing the run" >&2
    rc=1
  fi
  [ "$rc" = 0 ] || status=$rc
}

if [ -f pwa/package.json ]; then
  echo "== PWA unit tests"
  (cd pwa && npm test --silent) || status=1
fi
echo "== pytest (${TEST_DATABASE_URL:+PostgreSQL}${TEST_DATABASE_URL:-SQLite})"
run_pytest "$@"
if [ -n "${TEST_DATABASE_URL:-}" ] && [ $# -eq 0 ]; then
  echo "== pytest, database tests again on SQLite"
  TEST_DATABASE_URL= run_pytest tests/api tests/cli tests/services tests/sync
fi
exit $status
