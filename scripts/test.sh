#!/usr/bin/env bash
# Run the whole suite twice: on SQLite, then on PostgreSQL (its own database, dropped after).
# Under CI=true a missing PostgreSQL fails the run; elsewhere those tests skip with a message.
# Tests run in parallel, one worker per core (ISOM_TEST_WORKERS to change), each file on one
# worker; every worker makes its own database and its own MQTT topic root.
set -uo pipefail
cd "$(dirname "$0")/.."
workers="${ISOM_TEST_WORKERS:-auto}"
status=0
echo "=== test suite on SQLite ==="
ISOM_TEST_STORE=sqlite .venv/bin/pytest -q -n "$workers" --dist loadfile "$@" || status=$?
echo "=== test suite on PostgreSQL ==="
ISOM_TEST_STORE=postgresql .venv/bin/pytest -q -n "$workers" --dist loadfile -m "not browser" "$@" \
  || status=$?
exit $status
