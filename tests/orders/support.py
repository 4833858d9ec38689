"""Helpers for the order tests: a small plant with a price list, and commands as the API sends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.models import Container, Content, ContentStatus
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from isom.masterdata.models import Item, Supplier, SupplierItem, Tracking, Unit
from isom.orders.models import (
    CustomerLine,
    PurchaseLine,
    Receipt,
    Reservation,
    ReservationStatus,
)
from isom.orders.schemas import OrderResult
from tests.builders import item, key, plant

ACTOR = ledger.Actor(name="tester")
TODAY = dt.date.today()


def order_plant(db: Database) -> dict[str, Any]:
    """The ledger tests' plant plus glue that needs inspection and a price list at SUP."""
    codes = plant(db)

    def more(s: Session) -> None:
        wire = s.scalar(select(Item).where(Item.code == "WIRE"))
        conn = s.scalar(select(Item).where(Item.code == "CONN"))
        sup = s.scalar(select(Supplier).where(Supplier.code == "SUP"))
        assert wire and conn and sup
        glue = item(s, "GLUE", s.get(Unit, wire.base_unit_id), tracking=Tracking.lot)  # type: ignore[arg-type]
        glue.attributes = {"inspection_required": "true"}
        s.add_all(
            [
                SupplierItem(
                    supplier_id=sup.id, item_id=wire.id, price=Decimal("0.10"), lead_time_days=5
                ),
                SupplierItem(
                    supplier_id=sup.id, item_id=conn.id, price=Decimal("0.45"), lead_time_days=2
                ),
                SupplierItem(
                    supplier_id=sup.id, item_id=glue.id, price=Decimal("4.20"), lead_time_days=3
                ),
            ]
        )
        s.flush()

    db.write(more)
    return codes


def do(db: Database, operation: Any, command: Any, *, idem: str | None = None) -> OrderResult:
    """Apply one order command in its own unit of work, as the API does."""
    k = idem or key()
    return db.write(lambda s: operation(s, ACTOR, k, command))


def stock(
    db: Database,
    container: str,
    item_code: str,
    quantity: str,
    *,
    lot: str | None = None,
    expiry: dt.date | None = None,
    location: str = "BIN-1",
) -> None:
    """Receive one container of one line straight into the ledger (no purchase order)."""
    cmd = ReceiveCommand(
        container=container,
        location=location,
        lines=[
            ReceiveLine(
                item=item_code,
                lot=LotIn(code=lot, expiry_date=expiry) if lot else None,
                quantity=Decimal(quantity),
            )
        ],
    )
    k = key()
    db.write(lambda s: ledger.receive(s, ACTOR, k, cmd))


def on_hand(db: Database, item_code: str, status: ContentStatus | None = None) -> Decimal:
    """What the containers hold of an item (optionally of one status), shipped ones excluded."""

    def read(s: Session) -> Decimal:
        query = (
            select(func.sum(Content.quantity))
            .join(Item, Item.id == Content.item_id)
            .join(Container, Container.id == Content.container_id)
            .where(Item.code == item_code, Container.status == "active")
        )
        if status is not None:
            query = query.where(Content.status == status)
        total: Decimal | None = s.scalar(query)
        return total if total is not None else Decimal(0)

    return db.read(read)


def assert_projections_hold(db: Database) -> None:
    """Every line's reserved, shipped and received quantity equals the rows behind it."""

    def check(s: Session) -> None:
        for line in s.scalars(select(CustomerLine)):
            rows = s.scalars(select(Reservation).where(Reservation.customer_line_id == line.id))
            by_status: dict[ReservationStatus, Decimal] = {}
            for r in rows:
                by_status[r.status] = by_status.get(r.status, Decimal(0)) + r.quantity
            assert line.quantity_reserved == by_status.get(ReservationStatus.active, 0), line.id
            assert line.quantity_shipped == by_status.get(ReservationStatus.shipped, 0), line.id
        for pline in s.scalars(select(PurchaseLine)):
            got = s.scalar(
                select(func.sum(Receipt.quantity)).where(Receipt.purchase_line_id == pline.id)
            )
            assert pline.quantity_received == (got or 0), pline.id

    db.read(check)
