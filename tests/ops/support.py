"""Clients of the app with some settings changed, and receipts, for the operations tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import EventResult, LotIn, ReceiveCommand, ReceiveLine
from isom.web.app import create_app
from tests.builders import key

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


def receiving(codes: dict[str, str], container: str, lot: str) -> Callable[[Session], EventResult]:
    """A unit of work receiving 2.5 m of the test plant's wire, lot `lot`, into a new container."""
    command = ReceiveCommand(
        container=container,
        location=codes["bin1"],
        lines=[
            ReceiveLine(
                item=codes["wire"],
                lot=LotIn(code=lot),
                quantity=Decimal("2.5"),
                unit_cost=Decimal("0.1"),
            )
        ],
    )
    return lambda s: ledger.receive(s, ledger.Actor(name="scanner"), key(), command)
