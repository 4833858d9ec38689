"""Multi-level netting down the route BOMs, against stock, open jobs and purchases."""

from __future__ import annotations

from decimal import Decimal

from isom.db import Database
from isom.planning import views
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder
from tests.agents.support import TODAY, customer_order, day, demo_masterdata, do, receive

D = Decimal


def test_each_level_nets_its_own_stock_and_jobs_before_planning_children(db: Database) -> None:
    demo_masterdata(db)
    receive(db, "FG-1", "HARN-JST-300", "20", "0.50", "FG-01", lot="H1")
    receive(db, "L-RD", "LEAD-RD-300", "30", "0.06", "WIP-RACK", lot="L1")
    receive(db, "W-RD", "WIRE-0.5-RD", "10", "0.12", "A-01", lot="W1")
    receive(db, "TERM", "TERM-JST", "1000", "0.02", "WS-CRIMP-1")
    do(
        db,
        production.create_work_order,
        CreateWorkOrder(item="LEAD-BK-300", quantity=D(50), due_date=day(9)),
    )
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "100", day(10))])

    plan = db.read(lambda s: views.net_view(s, TODAY))
    made = {(p.item, p.action): p for p in plan.planned}
    harness = made[("HARN-JST-300", "make")]
    assert (harness.quantity, harness.due_date, harness.demand) == (D(80), day(10), "SO-1/1")
    red, black = made[("LEAD-RD-300", "make")], made[("LEAD-BK-300", "make")]
    assert (red.quantity, red.due_date, red.parent_item, red.parent_step) == (
        D(50),  # 80 needed, 30 in stock
        day(9),
        "HARN-JST-300",
        10,
    )
    assert black.quantity == D(30)  # 80 needed, the open job makes 50
    # Wire: the planned red leads need 15.25, stock has 10; the black job and the planned
    # black leads need 0.305 x (50 + 30).
    assert made[("WIRE-0.5-RD", "buy")].quantity == D("5.25")
    assert sum(p.quantity for p in plan.planned if p.item == "WIRE-0.5-BK") == D("24.4")
    assert made[("CONN-JST-2", "buy")].quantity == D(160)
    assert ("TERM-JST", "buy") not in made  # 320 needed, 1000 on the floor
