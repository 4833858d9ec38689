"""Extra, empty databases on the store under test: restore targets and release upgrades."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, STORE

NewStore = Callable[[], str]


@pytest.fixture
def new_store(tmp_path: Path) -> Iterator[NewStore]:
    """Make empty databases (an SQLite file, or a PostgreSQL database dropped afterwards)."""
    made: list[str] = []

    def make() -> str:
        name = f"isom_ops_{uuid.uuid4().hex[:12]}"
        if STORE != "postgresql":
            return f"sqlite:///{tmp_path / name}.db"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
