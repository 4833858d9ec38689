"""Clients of the app with some settings changed, for the operations tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app

MakeClient = Callable[..., TestClient]


@pytest.fixture
def configured(db: Database) -> Iterator[MakeClient]:
    """Make a client whose app runs on the test store with some settings changed."""
    made: list[Database] = []

    def client(base_url: str = "http://testserver", **changes: object) -> TestClient:
        settings = dataclasses.replace(db.settings, **changes)  # type: ignore[arg-type]
        made.append(Database(db.url, settings=settings))
        return TestClient(create_app(made[-1]), base_url=base_url, follow_redirects=False)

    yield client
    for other in made:
        other.dispose()
