"""Test stores: each run makes its own database (SQLite file or PostgreSQL database) and drops it.

`ISOM_TEST_STORE=sqlite|postgresql` picks the store; `scripts/test.sh` runs the suite on both.
Under `CI=true` a missing PostgreSQL is a failure; elsewhere its run skips with a message.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from isom import composition, schema
from isom.auth.cache import principals
from isom.db import Database
from isom.models import Base

composition.wire()  # the domains' reactions, as the app and the command line wire them

STORE = os.environ.get("ISOM_TEST_STORE", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "ISOM_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_or_skip() -> None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "missing"
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)", pytrace=False)
        pytest.skip(f"{message}; start it or run with ISOM_TEST_STORE=sqlite")


@contextmanager
def fresh_database_url(directory: Path) -> Iterator[str]:
    """A new, empty database on the store under test (a SQLite file in `directory`), dropped
    at the end."""
    if STORE == "postgresql":
        _postgres_or_skip()
        name = f"isom_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield f"sqlite:///{directory / 'isom-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this run, dropped at the end."""
    with fresh_database_url(tmp_path_factory.mktemp("store")) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_db(database_url: str) -> Iterator[Database]:
    """The test database, brought to the current schema by the Alembic migrations."""
    db = Database(database_url)
    schema.upgrade(db)
    yield db
    db.dispose()


def wipe(db: Database) -> None:
    """Empty every table so a test starts from nothing, and restart the id counters.

    DELETE, children first, rather than TRUNCATE: on PostgreSQL a TRUNCATE of every table makes
    new files for each and takes over a second; deleting the few rows a test wrote takes
    milliseconds. Ids restart so numbers made from them (WO-000001) are the same every test.
    """
    principals.clear()  # ids restart: forget callers remembered from the last test
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        for name in tables:
            conn.execute(text(f'DELETE FROM "{name}"'))
        if not db.is_sqlite:
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            for seq in list(sequences):
                conn.execute(text(f'ALTER SEQUENCE "{seq}" RESTART'))


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    """The test database, emptied before each test."""
    wipe(migrated_db)
    yield migrated_db
