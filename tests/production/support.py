"""Helpers for the production tests: the demo plant's master data and scans as devices send them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.demo import DATA
from isom.errors import IsomError
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from isom.masterdata import imports as md_import
from isom.production import services as production
from isom.production.models import (
    LabourRecord,
    MachineRecord,
    ProductionEvent,
    StepMaterial,
    WorkOrder,
    WorkOrderStep,
)
from isom.production.schemas import ConsumeScan, CreateWorkOrder, ScanResult, StepScan
from tests.builders import key
from tests.ledger.support import snapshot as ledger_snapshot

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


def start_and_consume(
    db: Database,
    work_order: str,
    step: int,
    badge: str,
    workstation: str,
    started: dt.datetime,
    *,
    container: str,
    item: str,
    quantity: Decimal,
) -> None:
    """A step started by badge on a workstation, and material consumed into it a minute later."""
    scan(
        db,
        production.start_step,
        StepScan(
            badge=badge,
            work_order=work_order,
            step=step,
            workstation=workstation,
            occurred_at=started,
        ),
    )
    scan(
        db,
        production.consume_scan,
        ConsumeScan(
            work_order=work_order,
            step=step,
            container=container,
            item=item,
            quantity=quantity,
            occurred_at=started + dt.timedelta(minutes=1),
        ),
    )


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


TABLES: list[Any] = [
    WorkOrder,
    WorkOrderStep,
    StepMaterial,
    ProductionEvent,
    LabourRecord,
    MachineRecord,
]


def snapshot(db: Database) -> dict[str, Any]:
    """Every ledger and production row, to show that a refused scan changed nothing."""

    def take(s: Session) -> dict[str, Any]:
        out = {
            t.__tablename__: [tuple(r) for r in s.execute(select(*t.__table__.columns)).all()]
            for t in TABLES
        }
        return out

    return {**ledger_snapshot(db), **db.read(take)}


def refused(
    db: Database, error: type[IsomError], operation: Any, command: Any, *, field: str | None = None
) -> IsomError:
    """Apply a scan that must fail with `error` (on `field`) and change nothing."""
    before = snapshot(db)
    with pytest.raises(error) as caught:
        scan(db, operation, command)
    assert type(caught.value) is error, caught.value.to_problem()
    if field is not None:
        assert caught.value.field == field, caught.value.to_problem()
    assert snapshot(db) == before, "a refused scan changed something"
    return caught.value
