#!/usr/bin/env bash
# Until the first release, the schema is one initial migration regenerated from the models
# (0002, the expression indexes autogenerate cannot see, is hand-written and stays).
# It autogenerates in a scratch copy of the migrations without 0002, so a failure loses nothing.
# After the first release this script goes away and every change gets its own migration.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp isom/migrations/env.py isom/migrations/script.py.mako "$scratch"/
mkdir "$scratch/versions"
printf '[alembic]\nscript_location = %s\n' "$scratch" > "$scratch/alembic.ini"
ISOM_DATABASE_URL="sqlite:///$scratch/regen.db" .venv/bin/alembic -c "$scratch/alembic.ini" \
  revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
out="$scratch/versions/0001_initial_schema.py"
sed -i "s/astext_type=Text()/astext_type=sa.Text()/" "$out"
.venv/bin/ruff format -q "$out"
.venv/bin/ruff check -q --fix --unsafe-fixes "$out"
mv "$out" isom/migrations/versions/0001_initial.py
echo "regenerated isom/migrations/versions/0001_initial.py"
