"""The demo plant's orders: what a newcomer sees after `make run`."""

from __future__ import annotations

from decimal import Decimal

from isom import demo
from isom.db import Database
from isom.ledger.queries import container
from isom.orders import queries
from isom.orders import services as orders


def test_demo_shows_open_orders_a_rush_a_shipped_order_and_a_partly_received_po(
    db: Database,
) -> None:
    demo.load_if_empty(db)
    every = db.read(queries.open_customer_demand)
    demand = [d for d in every if not d.reference.startswith("SO-DC-")]  # the plant's, not the DC's
    assert len(every) - len(demand) == 7  # the distribution centre's order lines (isom/demo/dc.py)
    assert [(d.reference, d.priority.value, d.open_quantity) for d in demand] == [
        ("SO-9002/1", "rush", Decimal(60)),
        ("SO-9003/1", "normal", Decimal(25)),
        ("SO-9004/1", "normal", Decimal(50)),
        ("SO-9005/1", "low", Decimal(30)),
    ]
    assert demand[-1].reserved_quantity == Decimal(30)
    shipped = db.read(lambda s: orders.customer_order_view(s, "SO-9001"))
    assert (shipped.status, shipped.lines[0].quantity_shipped) == ("shipped", Decimal(39))
    po = db.read(lambda s: orders.purchase_order_view(s, "PO-000001"))
    assert (po.status, po.lines[0].quantity_received, po.lines[0].quantity_open) == (
        "partly_received",
        Decimal(50),
        Decimal(50),
    )
    received = db.read(lambda s: container(s, "B-2007"))
    assert [(c.lot, c.quantity, c.status.value) for c in received.contents] == [
        ("M8-26-121", Decimal(50), "available")
    ]
    supply = db.read(queries.open_purchase_supply)
    assert [(s.reference, s.order_status.value) for s in supply] == [
        ("PO-000001/1", "partly_received"),
        ("PO-000002/1", "proposed"),
    ]
