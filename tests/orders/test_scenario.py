"""A week of orders as a story: a shop order comes in, glue is bought, received into quarantine,
released, reserved, picked first-expiry-first-out, packed and shipped in two shipments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.models import ContentStatus
from isom.ledger.schemas import ReleaseCommand
from isom.ledger.verify import verify
from isom.orders import queries
from isom.orders import services as orders
from isom.orders.schemas import (
    CreatePurchaseOrder,
    CreateShipOrder,
    PackCommand,
    PickScan,
    PurchaseLineIn,
    PurchaseOrderAction,
    ReceivePurchaseLine,
    ReserveCommand,
    ShipShipOrder,
    WebhookSourceIn,
)
from isom.orders.webhook import receive as shop_webhook
from isom.orders.webhook import register_source, sign
from tests.builders import key
from tests.orders.support import (
    ACTOR,
    TODAY,
    assert_projections_hold,
    do,
    on_hand,
    order_plant,
    stock,
)


def test_a_shop_order_is_bought_for_received_held_released_and_shipped_in_two_parts(
    db: Database,
) -> None:
    order_plant(db)
    stock(db, "G-OLD", "GLUE", "4", lot="G-OLD", expiry=TODAY + dt.timedelta(days=3))
    db.write(
        lambda s: register_source(
            s, WebhookSourceIn(name="shop", secret="s" * 24, default_customer="CUS")
        )
    )

    # Monday: a shop orders 10 kg of glue; 4 kg are in stock, the rest must be bought.
    body = b'{"id": "A-1", "priority": "rush", "line_items": [{"sku": "GLUE", "quantity": 10}]}'
    so = db.write(lambda s: shop_webhook(s, "shop", sign("s" * 24, body), body)).number
    demand = db.read(queries.open_customer_demand)
    assert [(d.reference, d.priority.value, d.open_quantity) for d in demand] == [
        (f"{so}/1", "rush", Decimal(10))
    ]
    po = do(
        db,
        orders.create_purchase_order,
        CreatePurchaseOrder(
            supplier="SUP", lines=[PurchaseLineIn(item="GLUE", quantity=Decimal(6))]
        ),
    ).number
    do(db, orders.approve_purchase_order, PurchaseOrderAction(order=po))
    do(db, orders.send_purchase_order, PurchaseOrderAction(order=po))

    # The first shipment takes what is in stock: the older lot, whole.
    first = do(db, orders.create_ship_order, CreateShipOrder(order=so))
    assert first.detail["short"] == {"1": "6"}
    do(db, orders.pick, PickScan(ship_order=first.number, container="G-OLD"))
    do(db, orders.pack, PackCommand(ship_order=first.number, container="G-OLD", package="BOX-A"))
    assert (
        do(db, orders.ship, ShipShipOrder(ship_order=first.number)).detail["customer_order_status"]
        == "partly_shipped"
    )

    # Wednesday: the glue arrives, goes into quarantine, and is released after inspection.
    receipt = do(
        db,
        orders.receive_purchase_line,
        ReceivePurchaseLine(
            order=po,
            line_no=1,
            quantity=Decimal(6),
            location="DOCK",
            container="G-NEW",
            supplier_lot="SUP-778",
            expiry_date=TODAY + dt.timedelta(days=120),
        ),
    )
    assert (receipt.status, receipt.detail["held"]) == ("received", True)
    waiting = db.read(lambda s: orders.customer_order_view(s, so)).lines[0]
    assert waiting.quantity_reserved == 0  # held stock is not free to reserve
    assert on_hand(db, "GLUE", ContentStatus.hold) == Decimal(6)
    k = key()
    db.write(
        lambda s: ledger.release(
            s, ACTOR, k, ReleaseCommand(container="G-NEW", reason="viscosity ok")
        )
    )

    # Thursday: the rest is reserved, picked, packed and shipped; the order is complete.
    reserved = do(db, orders.reserve, ReserveCommand(order=so, line_no=1))
    assert reserved.detail["containers"] == [
        {"container": "G-NEW", "lot": "SUP-778", "quantity": "6"}
    ]
    second = do(db, orders.create_ship_order, CreateShipOrder(order=so)).number
    do(db, orders.pick, PickScan(ship_order=second, container="G-NEW"))
    do(db, orders.pack, PackCommand(ship_order=second, container="G-NEW"))
    done = do(db, orders.ship, ShipShipOrder(ship_order=second))
    assert done.detail["customer_order_status"] == "shipped"
    assert on_hand(db, "GLUE") == Decimal(0)
    assert db.read(queries.open_customer_demand) == []
    assert db.read(queries.open_purchase_supply) == []
    assert_projections_hold(db)
    report = db.read(verify)
    assert report.ok, report.differences
