#!/usr/bin/env bash
# Until the first release, the schema is one initial migration regenerated from the models.
# After the first release this script goes away and every change gets its own migration.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f isom/migrations/versions/0001_initial.py /tmp/isom-regen.db
ISOM_DATABASE_URL=sqlite:////tmp/isom-regen.db .venv/bin/alembic -c scripts/alembic.ini \
  revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
mv isom/migrations/versions/0001_initial_schema.py isom/migrations/versions/0001_initial.py
sed -i "s/astext_type=Text()/astext_type=sa.Text()/" isom/migrations/versions/0001_initial.py
.venv/bin/ruff format -q isom/migrations/versions/0001_initial.py
.venv/bin/ruff check -q --fix isom/migrations/versions/0001_initial.py
rm -f /tmp/isom-regen.db
echo "regenerated isom/migrations/versions/0001_initial.py"
