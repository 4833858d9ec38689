"""A plant as a past release stored it, as portable JSON: dumped once from that release's
database, loaded into either store at that release's schema by the upgrade test.

Made for the release before this one (commit ace5d0c, migration 0007) with:

    git archive ace5d0c | tar -x -C /tmp/rel
    ISOM_DATABASE_URL=sqlite:////tmp/rel/demo.db PYTHONPATH=/tmp/rel \\
        .venv/bin/python -c "from isom.cli import app; app()" demo
    .venv/bin/python -m tests.ops.release_data sqlite:////tmp/rel/demo.db \\
        tests/ops/data/release-0007.json.gz

The rows are read and written through the tables as the database itself describes them
(reflection), never through today's models, so the fixture stays loadable however the models
change later.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, MetaData, Time, create_engine, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SAWarning


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the fixture")


def reflect(engine: Engine) -> MetaData:
    """The tables as the database describes them (SQLite cannot reflect expression indexes,
    which loading rows does not need)."""
    meta = MetaData()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        meta.reflect(engine)
    return meta


def dump(url: str, path: Path) -> None:
    """Write every table's rows, in primary-key order, with the schema revision."""
    engine = create_engine(url)
    meta = reflect(engine)
    with engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        tables = {
            table.name: {
                "columns": [c.name for c in table.columns],
                "rows": [list(r) for r in conn.execute(select(table).order_by(*table.primary_key))],
            }
            for table in meta.sorted_tables
            if table.name != "alembic_version"
        }
    engine.dispose()
    body = {"revision": revision, "tables": tables}
    with gzip.open(path, "wt") as out:
        json.dump(body, out, default=_plain, separators=(",", ":"))


def _value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        stamp = dt.datetime.fromisoformat(value)
        return stamp.replace(tzinfo=dt.UTC) if column.type.timezone else stamp
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    if isinstance(column.type, Time):
        return dt.time.fromisoformat(value)
    return value


def _restart_sequences(conn: Connection, meta: MetaData) -> None:
    """PostgreSQL: move each id sequence past the loaded ids, as the release's own inserts
    would have left it."""
    for table in meta.sorted_tables:
        for column in table.primary_key:
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if seq:
                conn.execute(
                    text(
                        f'SELECT setval(:s, coalesce((SELECT max("{column.name}") '
                        f'FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"s": seq},
                )


def read(path: Path) -> dict[str, Any]:
    """The fixture: its schema `revision` and, per table, its `columns` and `rows`."""
    with gzip.open(path, "rt") as data:
        body: dict[str, Any] = json.load(data)
    return body


def load(url: str, body: dict[str, Any]) -> None:
    """Insert the fixture's rows into a database at the fixture's schema revision.

    Foreign keys are checked at the end, not per row: rows refer to each other in cycles
    (a container names its first event, an event its container's site...). SQLite's plain
    engine leaves them off; PostgreSQL skips its FK triggers in this session, as pg_restore's
    `--disable-triggers` does.
    """
    engine = create_engine(url)
    meta = reflect(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in meta.sorted_tables:
            data = body["tables"].get(table.name)
            if not data or not data["rows"]:
                continue
            columns = [table.c[name] for name in data["columns"]]
            conn.execute(
                table.insert(),
                [
                    {c.name: _value(c, v) for c, v in zip(columns, row, strict=True)}
                    for row in data["rows"]
                ],
            )
        if engine.dialect.name == "postgresql":
            _restart_sequences(conn, meta)
        else:
            broken = conn.execute(text("PRAGMA foreign_key_check")).all()
            assert not broken, f"the fixture's rows break foreign keys: {broken[:5]}"
    engine.dispose()


if __name__ == "__main__":
    dump(sys.argv[1], Path(sys.argv[2]))
