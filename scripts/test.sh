#!/usr/bin/env bash
# Run the whole suite twice: on SQLite, then on PostgreSQL (its own database, dropped after).
# Under CI=true a missing PostgreSQL fails the run; elsewhere those tests skip with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "=== test suite on SQLite ==="
ISOM_TEST_STORE=sqlite .venv/bin/pytest -q "$@" || status=$?
echo "=== test suite on PostgreSQL ==="
ISOM_TEST_STORE=postgresql .venv/bin/pytest -q -m "not browser" "$@" || status=$?
exit $status
