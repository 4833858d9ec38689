"""Fixtures for the ledger tests: a small plant on the test store."""

from __future__ import annotations

import pytest

from isom.db import Database
from tests.builders import plant


@pytest.fixture
def pdb(db: Database) -> Database:
    """The emptied test database with the small plant of `tests.builders.plant` in it."""
    plant(db)
    return db
