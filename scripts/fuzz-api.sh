#!/usr/bin/env bash
# The long schemathesis run: every operation of the API (the live stream excepted), generated
# requests with a random role's token, on SQLite and then PostgreSQL. It must find no server
# error and no 4xx that is not problem+json. `make test` runs the same test with 2 examples per
# operation; this runs EXAMPLES (default 200) per operation, and takes a long while.
#   scripts/fuzz-api.sh [EXAMPLES] [pytest options...]
set -uo pipefail
cd "$(dirname "$0")/.."
examples="${1:-200}"
shift || true
status=0
for store in sqlite postgresql; do
  echo "=== schemathesis, $examples examples per operation, on $store ==="
  ISOM_FUZZ_EXAMPLES="$examples" ISOM_TEST_STORE="$store" \
    .venv/bin/pytest -q -n 0 tests/web/test_schemathesis.py "$@" || status=$?
done
exit $status
