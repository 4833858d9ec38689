"""Helpers for the DC tests: the demo plant's and the DC's master data, commands as sent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from isom.db import Database
from isom.demo import dc as demo_dc
from isom.devices import gs1
from isom.ledger import services as ledger
from isom.ledger.models import Container, Content, Genealogy, Lot
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from isom.masterdata.models import Item, Location
from tests.builders import key
from tests.production.support import demo_masterdata

ACTOR = ledger.Actor(name="tester", device="test-scanner", roles=frozenset({"clerk"}))
DAY = dt.date(2026, 11, 20)


def at(hh: int, mm: int = 0) -> dt.datetime:
    """A time on the scenario's day, UTC."""
    return dt.datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=dt.UTC)


def dc_site(db: Database) -> None:
    """The plant's master data (units, calendars) and the DC's, with terms and GS1 settings."""
    demo_masterdata(db)
    db.write(demo_dc.load_masterdata)


def sscc(serial: int, prefix: str = "7612345") -> str:
    """A supplier's SSCC: extension 0, its company prefix, a serial and the check digit."""
    body = "0" + prefix + str(serial).zfill(16 - len(prefix))
    return body + str(gs1.check_digit(body))


def do(db: Database, operation: Any, command: Any, *, idem: str | None = None) -> Any:
    """Apply one command in its own unit of work, as the API does."""
    k = idem or key()
    return db.write(lambda s: operation(s, ACTOR, k, command))


def source_lots(db: Database, lot: str) -> set[str]:
    """The lots the genealogy says `lot` was made from."""
    made_from = aliased(Lot)
    return db.read(
        lambda s: set(
            s.scalars(
                select(made_from.code)
                .join(Genealogy, Genealogy.from_lot_id == made_from.id)
                .join(Lot, Lot.id == Genealogy.to_lot_id)
                .where(Lot.code == lot)
            )
        )
    )


def contents(db: Database, code: str) -> dict[str, str]:
    """What a container holds: item -> quantity (plain strings)."""

    def read(s: Session) -> dict[str, str]:
        rows = s.execute(
            select(Item.code, func.sum(Content.quantity))
            .join(Content, Content.item_id == Item.id)
            .join(Container, Container.id == Content.container_id)
            .where(Container.code == code)
            .group_by(Item.code)
        ).all()
        return {i: format(q.normalize(), "f") for i, q in rows}

    return db.read(read)


def container(db: Database, code: str) -> dict[str, Any]:
    """A container's parent code, location code and status."""

    def read(s: Session) -> dict[str, Any]:
        c = s.scalar(select(Container).where(Container.code == code))
        assert c is not None, code
        parent = s.get(Container, c.parent_id) if c.parent_id else None
        loc = s.get(Location, c.location_id) if c.location_id else None
        return {
            "parent": parent.code if parent else None,
            "location": loc.code if loc else None,
            "status": c.status.value,
        }

    return db.read(read)


def stock(
    db: Database, code: str, location: str, item: str, qty: str, cost: str, lot: str | None = None
) -> None:
    """Receive one container of one line at a DC location, at a cost."""
    do(
        db,
        ledger.receive,
        ReceiveCommand(
            container=code,
            location=location,
            occurred_at=at(6),
            lines=[
                ReceiveLine(
                    item=item,
                    lot=LotIn(code=lot) if lot else None,
                    quantity=Decimal(qty),
                    unit_cost=Decimal(cost),
                )
            ],
        ),
    )


def dc_stock(db: Database) -> None:
    """Sensors, cables, brackets, kit boxes, ties and bags on the DC's shelves."""
    stock(db, "C-SENS-1", "DC-A01", "SENSOR-PROX-M12", "40", "14.20", "SP-2611")
    stock(db, "C-CABL-1", "DC-A02", "CABLE-M12-5M", "60", "4.10")
    stock(db, "C-BRKT-1", "DC-B01", "BRACKET-M12", "200", "0.85")
    stock(db, "C-BOXK-1", "DC-C01", "BOX-KIT", "50", "0.70")
    stock(db, "C-TIES-1", "DC-B02", "CABLE-TIE-200", "1000", "0.018", "FX-7701")
    stock(db, "C-BAGS-1", "DC-C01", "BAG-POLY-S", "500", "0.04")
