"""Projected inventory: time-phased balance, pegging by priority, shortages, incremental refresh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.masterdata.models import Item
from isom.orders import services as orders
from isom.orders.schemas import CreatePurchaseOrder, ReceivePurchaseLine
from isom.planning import projection, views
from isom.planning.models import PlanCursor
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder
from isom.types import utcnow
from tests.agents.support import TODAY, available, customer_order, day, demo_masterdata, do, receive

D = Decimal


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)
    receive(db, "C-CONN", "CONN-JST-2", "100", "0.08", "A-02")
    receive(db, "FG-1", "HARN-JST-300", "30", "0.50", "FG-01", lot="H1")
    return db


def purchase(db: Database, item: str, qty: str, due: dt.date) -> str:
    cmd = CreatePurchaseOrder.model_validate(
        {
            "supplier": "CONNTEC",
            "approve": True,
            "lines": [{"item": item, "quantity": qty, "due_date": due.isoformat()}],
        }
    )
    return str(do(db, orders.create_purchase_order, cmd).number)


def ids(db: Database, *codes: str) -> set[int]:
    return set(db.read(lambda s: s.scalars(select(Item.id).where(Item.code.in_(codes))).all()))


def test_balance_moves_by_date_and_rush_demand_is_served_first(plant: Database) -> None:
    db = plant
    po = purchase(db, "CONN-JST-2", "1000", day(10))
    customer_order(db, "SO-N", "ACME-ROBOTICS", [("CONN-JST-2", "80", day(5))])
    customer_order(db, "SO-R", "SENSORPRO", [("CONN-JST-2", "50", day(8))], priority="rush")
    customer_order(db, "SO-L", "NORDIC-AGRI", [("CONN-JST-2", "900", day(12))], priority="low")
    view = db.read(lambda s: views.projection_view(s, "CONN-JST-2", TODAY))
    assert view.on_hand == available(db, "CONN-JST-2") == D(100)
    assert [(e.date, e.ref, e.quantity, e.balance) for e in view.entries] == [
        (TODAY, "on hand", D(100), D(100)),
        (day(5), "SO-N/1", D(-80), D(20)),
        (day(8), "SO-R/1", D(-50), D(-30)),
        (day(10), f"{po}/1", D(1000), D(970)),
        (day(12), "SO-L/1", D(-900), D(70)),
    ]
    assert view.first_shortage_date == day(8)
    # The rush order takes the stock; the normal one waits for the purchase, late.
    assert [(p.demand, p.quantity, p.supply, p.late) for p in view.pegging] == [
        ("SO-R/1", D(50), "on hand", False),
        ("SO-N/1", D(50), "on hand", False),
        ("SO-N/1", D(30), f"{po}/1", True),
        ("SO-L/1", D(900), f"{po}/1", False),
    ]
    # Served late is still short: the balance goes 30 below zero before the purchase comes.
    assert view.shortage_quantity == 30


def test_unserved_demand_is_a_shortage_and_reserved_stock_stays_with_its_line(
    plant: Database,
) -> None:
    db = plant
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "25", day(3))])
    customer_order(db, "SO-2", "SENSORPRO", [("HARN-JST-300", "20", day(4))], priority="rush")
    from isom.orders.schemas import ReserveCommand

    do(db, orders.reserve, ReserveCommand(order="SO-1", line_no=1))
    view = db.read(lambda s: views.projection_view(s, "HARN-JST-300", TODAY))
    assert [(p.demand, p.quantity, p.supply) for p in view.pegging] == [
        ("SO-1/1", D(25), "reserved stock"),
        ("SO-2/1", D(5), "on hand"),
        ("SO-2/1", D(15), None),
    ]
    assert (view.first_shortage_date, view.shortage_quantity) == (day(4), D(15))


def test_events_mark_only_the_items_they_touch_and_the_store_follows(plant: Database) -> None:
    db = plant
    po = purchase(db, "CONN-JST-2", "1000", day(10))
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("CONN-JST-2", "300", day(12))])
    assert db.write(lambda s: projection.refresh_all(s, TODAY)) == 2  # CONN and HARN
    assert db.write(lambda s: projection.refresh_dirty(s, TODAY)) == set()

    do(
        db,
        orders.receive_purchase_line,
        ReceivePurchaseLine(order=po, line_no=1, quantity=D(400), location="DOCK-IN"),
    )
    assert db.write(lambda s: projection.refresh_dirty(s, TODAY)) == ids(db, "CONN-JST-2")

    def stored(s: Session) -> tuple[Decimal, Decimal, list[str]]:
        conn = s.scalar(select(Item.id).where(Item.code == "CONN-JST-2"))
        assert conn is not None
        kept = projection.stored(s, conn)
        assert kept is not None
        return kept.on_hand, kept.end_quantity, [e["quantity"] for e in kept.entries]

    assert db.read(stored) == (D(500), D(1100 - 300), ["500", "600", "-300"])
    assert available(db, "CONN-JST-2") == D(500)

    # A released job touches what it makes and what its steps consume.
    do(
        db,
        production.create_work_order,
        CreateWorkOrder(item="LEAD-RD-300", quantity=D(10), due_date=day(6), release=True),
    )
    assert db.write(lambda s: projection.refresh_dirty(s, TODAY)) == ids(
        db, "LEAD-RD-300", "WIRE-0.5-RD"
    )
    lead = db.read(lambda s: views.projection_view(s, "WIRE-0.5-RD", TODAY))
    assert [(e.date, e.ref, e.quantity) for e in lead.entries[1:]] == [
        (day(5), "WO-000001/10", D("-3.05"))
    ]


def test_the_cursor_waits_for_an_event_id_still_in_flight() -> None:
    cursor = PlanCursor(name="ledger", position=4)
    now = utcnow()
    projection._advance(cursor, [(5, now), (7, now)])
    assert cursor.position == 5  # 6 may still commit: read 7 again next time
    projection._advance(cursor, [(7, now - dt.timedelta(minutes=5))])
    assert cursor.position == 7  # long enough: 6 rolled back
