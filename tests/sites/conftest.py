"""One demo (plant and DC) for every test here: loading it is the slow part."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.conftest import wipe
from tests.sites.support import Sites, load


@pytest.fixture(scope="package")
def sites(migrated_db: Database) -> Iterator[Sites]:
    wipe(migrated_db)
    yield load(migrated_db)
    wipe(migrated_db)


@pytest.fixture(scope="package")
def client(migrated_db: Database, sites: Sites) -> Iterator[TestClient]:
    with TestClient(create_app(migrated_db), follow_redirects=False) as c:
        yield c
