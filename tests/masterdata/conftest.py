"""Shared fixtures for master data tests: an API client and tokens per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.builders import token


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as c:
        yield c


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    return token(db, "admin")


UNITS = [{"code": "m", "name": "metre", "decimals": 3}, {"code": "ea", "name": "each"}]


@pytest.fixture
def units(client: TestClient, admin: dict[str, str]) -> None:
    for u in UNITS:
        r = client.put(f"/api/v1/masterdata/units/{u['code']}", json=u, headers=admin)
        assert r.status_code == 201, r.text
