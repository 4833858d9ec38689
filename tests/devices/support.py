"""Helpers for the device tests: an API client, ledger receipts and a production job."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from tests.builders import key

ACTOR = ledger.Actor(name="tester")
API = "/api/v1"


def receive(
    db: Database,
    container: str,
    item: str,
    quantity: str,
    location: str,
    lot: str | None = None,
    expiry: dt.date | None = None,
) -> Any:
    """Receive one container of one line through the ledger."""
    cmd = ReceiveCommand(
        container=container,
        location=location,
        lines=[
            ReceiveLine(
                item=item,
                lot=LotIn(code=lot, expiry_date=expiry) if lot else None,
                quantity=Decimal(quantity),
                unit_cost=Decimal("1"),
            )
        ],
    )
    k = key()
    return db.write(lambda s: ledger.receive(s, ACTOR, k, cmd))
