"""The bar: a burst of customer orders runs through the agents to shipped goods.

Story: the plant holds 30 JST harnesses, red wire, terminals, heat-shrink and bags, but no black
wire, housings or cartons. Four orders land at once: a rush for 20 harnesses, a normal one for
60, a low one for 40 that must ship complete, and one for a special harness nobody has a route
for. The agents reserve the stock for the rush order first, make jobs (with the lead jobs below
them) for what stock does not cover, buy the black wire, housings and cartons from the three
suppliers, release what is reserved for shipping, send the special to engineering, and flag its
shortage. Running them again makes nothing. Then the goods arrive, the jobs run on the floor,
the agents reserve and release the new harnesses, and every order ships. At each point where
the projection and the ledger should meet, they do.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents import watch
from isom.agents.models import DecisionStatus
from isom.db import Database
from isom.masterdata.models import Item, ItemType, Unit
from isom.orders import services as orders
from isom.orders.models import PurchaseOrder
from isom.orders.schemas import PackCommand, PickScan, ReceivePurchaseLine, ShipShipOrder
from isom.planning import projection, views
from tests.agents.support import (
    TODAY,
    available,
    customer_order,
    day,
    decisions,
    demo_masterdata,
    do,
    jobs_of,
    receive,
    run_agents,
    run_step,
)
from tests.builders import item
from tests.ledger.support import assert_verified

D = Decimal
NOTHING = {"intake": 0, "purchasing": 0, "shipping": 0, "alerts": 0}


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)

    def special(s: Session) -> None:
        ea = s.scalar(select(Unit).where(Unit.code == "ea"))
        assert ea is not None
        item(s, "HARN-SPECIAL", ea, type=ItemType.finished)

    db.write(special)
    receive(db, "FG-OLD", "HARN-JST-300", "30", "0.50", "FG-01", lot="H-OLD")
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.12", "A-01", lot="W-RD-1")
    receive(db, "TERM-FLOOR", "TERM-JST", "1000", "0.02", "WS-CRIMP-1")
    receive(db, "HS-FLOOR", "HSHRINK-6", "10", "0.30", "WS-ASSY-1")
    receive(db, "BAGS", "BAG-ESD-S", "100", "0.05", "A-03")
    return db


def projected(db: Database, code: str) -> views.ProjectionView:
    return db.read(lambda s: views.projection_view(s, code, TODAY))


def assert_meets_ledger(db: Database, *codes: str) -> None:
    """Today's projected on-hand is the ledger's available quantity, and the stored projection
    (kept by the incremental refresh) is what a fresh computation gives."""
    for code in codes:
        view = projected(db, code)
        assert view.on_hand == available(db, code), code

        def stored(s: Session, code: str = code) -> tuple[Decimal, Decimal] | None:
            item_id = s.scalar(select(Item.id).where(Item.code == code))
            assert item_id is not None
            kept = projection.stored(s, item_id)
            return (kept.on_hand, kept.end_quantity) if kept else None

        kept = db.read(stored)
        if kept is not None:
            assert kept == (view.on_hand, view.end_quantity), code


def harness_jobs(db: Database, line: str, quantity: str, wire: str, conn: str, box: str) -> None:
    """Run a line's job tree on the floor: cut both leads, crimp, assemble, test, pack."""
    jobs = jobs_of(db, line)
    rd, bk, top = jobs["LEAD-RD-300"][0], jobs["LEAD-BK-300"][0], jobs["HARN-JST-300"][0]
    red = run_step(db, rd, 10, "B1001", "CUT-1", [("W-RD", "WIRE-0.5-RD", wire)], quantity)
    black = run_step(db, bk, 10, "B1004", "CUT-1", [("R-WBK", "WIRE-0.5-BK", wire)], quantity)
    leads = [(red, "LEAD-RD-300", quantity), (black, "LEAD-BK-300", quantity)]
    wip = run_step(db, top, 10, "B1001", "CRIMP-1", leads, quantity)
    housings = [(wip, "HARN-JST-300", quantity), ("R-CONN", "CONN-JST-2", conn)]
    wip = run_step(db, top, 20, "B1002", "ASSY-1", housings, quantity)
    wip = run_step(db, top, 30, "B1004", "TEST-1", [(wip, "HARN-JST-300", quantity)], quantity)
    packing = [
        (wip, "HARN-JST-300", quantity),
        ("BAGS", "BAG-ESD-S", str(D(quantity) / 10)),
        ("R-BOX", "BOX-S", box),
    ]
    run_step(db, top, 40, "B1004", "PACK-1", packing, quantity, location="FG-01")
    assert {j[2] for j in jobs_of(db, line).values()} == {"complete"}


def ship_everything(db: Database, ship_order: str) -> str:
    """Pick every container on the pick list, pack them into one carton, ship it."""
    view = db.read(lambda s: orders.ship_order_view(s, ship_order))
    package = None
    for pick in view.picks:
        picked = do(db, orders.pick, PickScan(ship_order=ship_order, container=pick.container))
        box = str(picked.detail["picked_container"] or pick.container)
        packed = do(
            db, orders.pack, PackCommand(ship_order=ship_order, container=box, package=package)
        )
        package = str(packed.detail["package"])
    return str(do(db, orders.ship, ShipShipOrder(ship_order=ship_order)).status)


def test_a_burst_of_orders_is_planned_bought_made_and_shipped(plant: Database) -> None:
    db = plant
    customer_order(db, "SO-A", "SENSORPRO", [("HARN-JST-300", "20", day(10))], priority="rush")
    customer_order(db, "SO-B", "ACME-ROBOTICS", [("HARN-JST-300", "60", day(20))])
    customer_order(
        db,
        "SO-C",
        "NORDIC-AGRI",
        [("HARN-JST-300", "40", day(24))],
        priority="low",
        allow_partial=False,
    )
    customer_order(db, "SO-D", "ACME-ROBOTICS", [("HARN-SPECIAL", "5", day(30))])

    assert run_agents(db) == {"intake": 15, "purchasing": 3, "shipping": 2, "alerts": 0}

    # Intake: stock to the rush order first, the rest to the normal one; a job of their own
    # for the rest, and below each job a child job per made input (the leads); once
    # purchasing has bought what they need in time, the six jobs are released in the same run.
    intake = decisions(db, agent="intake")
    assert [(d["kind"], d["demand"], d["rule"], d["status"]) for d in intake[:9]] == [
        ("reserve", "SO-A/1", "reserve-free-stock", DecisionStatus.applied),
        ("reserve", "SO-B/1", "reserve-free-stock", DecisionStatus.applied),
        ("work_order", "SO-B/1", "make-netted", DecisionStatus.applied),
        ("work_order", "SO-C/1", "make-netted", DecisionStatus.applied),
        ("child_work_order", "SO-B/1", "make-input", DecisionStatus.applied),
        ("child_work_order", "SO-B/1", "make-input", DecisionStatus.applied),
        ("child_work_order", "SO-C/1", "make-input", DecisionStatus.applied),
        ("child_work_order", "SO-C/1", "make-input", DecisionStatus.applied),
        ("engineering", "SO-D/1", "custom-work", DecisionStatus.noted),
    ]
    assert sorted((d["kind"], d["demand"], d["rule"], d["status"]) for d in intake[9:]) == [
        ("work_order_release", line, "release-on-time", DecisionStatus.applied)
        for line in ("SO-B/1",) * 3 + ("SO-C/1",) * 3
    ]
    assert [d["command"].get("quantity") for d in intake[:4]] == ["20", "10", "50", "40"]
    assert "(normal, 10 reserved) needs 50 HARN-JST-300" in intake[2]["explanation"]
    assert "no route and no supplier" in intake[8]["explanation"]
    for line, qty in (("SO-B/1", D(50)), ("SO-C/1", D(40))):
        jobs = jobs_of(db, line)
        assert {code: (q, st) for code, (_, q, st) in jobs.items()} == {
            "HARN-JST-300": (qty, "released"),
            "LEAD-RD-300": (qty, "released"),
            "LEAD-BK-300": (qty, "released"),
        }

    # Purchasing: one order per supplier, raised to each supplier's minimum.
    buys = decisions(db, agent="purchasing")
    lines = sorted(
        (d["command"]["supplier"], ln["item"], ln["quantity"], ln["due_date"])
        for d in buys
        for ln in d["command"]["lines"]
    )
    assert lines == [
        ("CONNTEC", "CONN-JST-2", "1000", day(19).isoformat()),
        ("PACKRITE", "BOX-S", "100", day(19).isoformat()),
        ("WIRECO", "WIRE-0.5-BK", "500", day(18).isoformat()),
    ]
    wire_po = next(d for d in buys if d["command"]["supplier"] == "WIRECO")
    assert "net requirement 27.45" in wire_po["explanation"]
    assert "minimum 500" in wire_po["explanation"]
    numbers = {d["command"]["supplier"]: d["result"]["purchase_order"] for d in buys}
    statuses = db.read(
        lambda s: {p.number: p.status.value for p in s.scalars(select(PurchaseOrder))}
    )
    assert statuses == {n: "approved" for n in numbers.values()}

    # Shipping: what is reserved goes out; the complete-only order waits.
    ships = decisions(db, agent="shipping")
    assert [(d["demand"], d["command"]["lines"]) for d in ships] == [
        ("SO-A", [{"line_no": 1, "quantity": "20"}]),
        ("SO-B", [{"line_no": 1, "quantity": "10"}]),
    ]
    alerts = db.read(lambda s: [(a.condition, a.subject) for a in watch.open_alerts(s)])
    assert ("shortage", "HARN-SPECIAL") in alerts

    # Running again: the same situation makes nothing twice.
    assert run_agents(db) == NOTHING
    harness = projected(db, "HARN-JST-300")
    assert (harness.on_hand, harness.end_quantity, harness.first_shortage_date) == (
        D(30),
        D(0),
        None,
    )

    # The stock set aside ships at once: the rush order whole, the normal one in part.
    for d in ships:
        assert ship_everything(db, d["result"]["ship_order"]) == "shipped"
    assert [
        db.read(lambda s, n=n: orders.customer_order_view(s, n)).status for n in ("SO-A", "SO-B")
    ] == ["shipped", "partly_shipped"]
    assert available(db, "HARN-JST-300") == D(0)
    assert run_agents(db) == NOTHING
    harness = projected(db, "HARN-JST-300")
    assert (harness.on_hand, harness.end_quantity) == (D(0), D(0))
    wire = projected(db, "WIRE-0.5-BK")
    after_po = next(e.balance for e in wire.entries if e.kind == "purchase")
    assert_meets_ledger(db, "HARN-JST-300", "WIRE-0.5-BK", "WIRE-0.5-RD")

    # The goods arrive: what the projection expected at the purchase's date is now on hand.
    for supplier, container, lot in (
        ("WIRECO", "R-WBK", "WBK-1"),
        ("CONNTEC", "R-CONN", None),
        ("PACKRITE", "R-BOX", None),
    ):
        po = numbers[supplier]
        view = db.read(lambda s, po=po: orders.purchase_order_view(s, po))
        do(
            db,
            orders.receive_purchase_line,
            ReceivePurchaseLine(
                order=po,
                line_no=1,
                quantity=view.lines[0].quantity,
                location="DOCK-IN",
                container=container,
                lot=lot,
            ),
        )
    assert available(db, "WIRE-0.5-BK") == after_po == D(500)
    assert projected(db, "WIRE-0.5-BK").end_quantity == wire.end_quantity
    assert run_agents(db) == NOTHING
    assert_meets_ledger(db, "WIRE-0.5-BK", "CONN-JST-2", "BOX-S")

    # The jobs run on the floor; the harnesses land in finished stock.
    harness_jobs(db, "SO-B/1", "50", "15.25", "100", "1")
    harness_jobs(db, "SO-C/1", "40", "12.2", "80", "1")
    assert available(db, "HARN-JST-300") == D(90)
    assert projected(db, "HARN-JST-300").end_quantity == D(0)

    # The agents reserve the new harnesses and release them; every order ships.
    assert run_agents(db) == {"intake": 2, "purchasing": 0, "shipping": 2, "alerts": 0}
    ships = decisions(db, agent="shipping")
    assert [(d["demand"], d["rule"], d["command"]["lines"]) for d in ships[2:]] == [
        ("SO-B", "release-reserved-stock", [{"line_no": 1, "quantity": "50"}]),
        ("SO-C", "release-complete-order", [{"line_no": 1, "quantity": "40"}]),
    ]
    assert run_agents(db) == NOTHING
    for d in ships[2:]:
        assert ship_everything(db, d["result"]["ship_order"]) == "shipped"
    for number in ("SO-A", "SO-B", "SO-C"):
        assert db.read(lambda s, n=number: orders.customer_order_view(s, n)).status == "shipped"
    assert available(db, "HARN-JST-300") == D(0)
    assert run_agents(db) == NOTHING
    assert_meets_ledger(
        db, "HARN-JST-300", "LEAD-RD-300", "WIRE-0.5-BK", "WIRE-0.5-RD", "CONN-JST-2", "BOX-S"
    )
    final = projected(db, "HARN-JST-300")
    assert [e.kind for e in final.entries] == ["on_hand"]
    assert projected(db, "WIRE-0.5-BK").on_hand == D("472.55")  # 500 - 15.25 - 12.2
    assert_verified(db)
