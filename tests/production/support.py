"""Helpers for the production tests: the demo plant's master data and scans as devices send them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.db import Database
from isom.demo import DATA
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from isom.masterdata import imports as md_import
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder, ScanResult
from tests.builders import key

ACTOR = ledger.Actor(name="tester", device="test-scanner")
DAY = dt.date(2026, 11, 20)


def at(hh: int, mm: int = 0) -> dt.datetime:
    """A time on the scenario's day, UTC."""
    return dt.datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=dt.UTC)


def demo_masterdata(db: Database) -> None:
    """The demo plant's master data (no stock, no history), plus a crimp operator Kai."""
    data = json.loads(DATA.read_text())
    data["people"].append(
        {
            "code": "P-KAI",
            "name": "Kai Lund",
            "badge_code": "B1006",
            "skills": ["crimp"],
            "hourly_rate": "40",
            "shift": "early",
        }
    )

    def load(s: Session) -> None:
        for kind in md_import.KINDS:
            rows = data.get(kind)
            if rows:
                md_import.import_rows(s, kind, rows)

    db.write(load)


def receive(
    db: Database,
    container: str,
    item: str,
    quantity: str,
    cost: str,
    location: str,
    lot: str | None = None,
) -> None:
    """Receive one container of one line at a cost."""
    cmd = ReceiveCommand(
        container=container,
        location=location,
        supplier=None,
        lines=[
            ReceiveLine(
                item=item,
                lot=LotIn(code=lot) if lot else None,
                quantity=Decimal(quantity),
                unit_cost=Decimal(cost),
            )
        ],
        occurred_at=at(6),
    )
    k = key()
    db.write(lambda s: ledger.receive(s, ACTOR, k, cmd))


def scan(db: Database, operation: Any, command: Any, *, idem: str | None = None) -> ScanResult:
    """Apply one production action in its own unit of work, as the API does."""
    k = idem or key()
    return db.write(lambda s: operation(s, ACTOR, k, command))


def create(
    db: Database, item: str, quantity: str, due: dt.date, *, release: bool = True
) -> ScanResult:
    """Plan (and by default release) a work order."""
    cmd = CreateWorkOrder(
        item=item,
        quantity=Decimal(quantity),
        due_date=due,
        release=release,
        customer_line="SO-1/1",
        occurred_at=at(7),
    )
    return scan(db, production.create_work_order, cmd)
