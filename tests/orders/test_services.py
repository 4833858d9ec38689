"""Order services as a planner, a buyer, a receiver and a picker would use them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from isom.db import Database
from isom.errors import Conflict, InvalidInput, IsomError, NotFound
from isom.ledger.models import ContentStatus
from isom.ledger.queries import container as container_view
from isom.ledger.verify import verify
from isom.orders import queries
from isom.orders import services as orders
from isom.orders.models import Priority
from isom.orders.schemas import (
    CancelCustomerOrder,
    CancelShipOrder,
    ChangeCustomerLine,
    CreateCustomerOrder,
    CreatePurchaseOrder,
    CreateShipOrder,
    CustomerLineIn,
    PackCommand,
    PickScan,
    PurchaseLineIn,
    PurchaseOrderAction,
    ReceivePurchaseLine,
    ReserveCommand,
    SetReceiptTolerance,
    ShipLineIn,
    ShipShipOrder,
    UnreserveCommand,
)
from tests.builders import key
from tests.orders.support import (
    TODAY,
    assert_projections_hold,
    do,
    on_hand,
    order_plant,
    stock,
)


@pytest.fixture
def odb(db: Database) -> Database:
    order_plant(db)
    return db


def customer_order(
    db: Database, *lines: tuple[str, str], number: str = "SO-1", allow_partial: bool = True
) -> str:
    cmd = CreateCustomerOrder(
        number=number,
        customer="CUS",
        allow_partial=allow_partial,
        lines=[
            CustomerLineIn(item=item, quantity=Decimal(qty), due_date=TODAY + dt.timedelta(days=7))
            for item, qty in lines
        ],
    )
    return do(db, orders.create_customer_order, cmd).number


def sent_po(db: Database, *lines: tuple[str, str]) -> str:
    cmd = CreatePurchaseOrder(
        supplier="SUP",
        approve=True,
        lines=[PurchaseLineIn(item=i, quantity=Decimal(q)) for i, q in lines],
    )
    number = do(db, orders.create_purchase_order, cmd).number
    do(db, orders.send_purchase_order, PurchaseOrderAction(order=number))
    return number


# --- customer orders ---------------------------------------------------------------------


def test_customer_order_is_created_with_numbered_open_lines_and_shows_as_demand(
    odb: Database,
) -> None:
    number = customer_order(odb, ("CONN", "10"), ("WIRE", "25.5"), number="SO-A")
    view = odb.read(lambda s: orders.customer_order_view(s, number))
    assert view.status == "open"
    assert [(x.line_no, x.item, x.quantity, x.status) for x in view.lines] == [
        (1, "CONN", Decimal("10"), "open"),
        (2, "WIRE", Decimal("25.5"), "open"),
    ]
    demand = odb.read(queries.open_customer_demand)
    assert [(d.reference, d.open_quantity) for d in demand] == [
        ("SO-A/1", Decimal("10")),
        ("SO-A/2", Decimal("25.5")),
    ]


def test_a_generated_number_and_rush_demand_first(odb: Database) -> None:
    customer_order(odb, ("CONN", "1"), number="SO-NORMAL")
    rush = CreateCustomerOrder(
        customer="CUS",
        priority=Priority.rush,
        lines=[CustomerLineIn(item="CONN", quantity=Decimal(2), due_date=TODAY + dt.timedelta(30))],
    )
    number = do(odb, orders.create_customer_order, rush).number
    assert number.startswith("SO-")
    demand = odb.read(queries.open_customer_demand)
    assert [d.order_number for d in demand] == [number, "SO-NORMAL"]


def test_change_and_cancel_lines_with_clear_errors(odb: Database) -> None:
    number = customer_order(odb, ("CONN", "10"), ("WIRE", "5"))
    do(
        odb,
        orders.change_customer_line,
        ChangeCustomerLine(order=number, line_no=1, quantity=Decimal(12), due_date=TODAY),
    )
    view = odb.read(lambda s: orders.customer_order_view(s, number))
    assert (view.lines[0].quantity, view.lines[0].due_date) == (Decimal(12), TODAY)
    with pytest.raises(NotFound) as missing:
        do(
            odb,
            orders.change_customer_line,
            ChangeCustomerLine(order=number, line_no=9, quantity=Decimal(1)),
        )
    assert missing.value.field == "line_no"
    with pytest.raises(InvalidInput) as fine:  # CONN is counted in whole units
        do(
            odb,
            orders.change_customer_line,
            ChangeCustomerLine(order=number, line_no=1, quantity=Decimal("1.5")),
        )
    assert fine.value.field == "quantity"
    do(
        odb,
        orders.cancel_customer_order,
        CancelCustomerOrder(order=number, line_no=2, reason="dup"),
    )
    view = odb.read(lambda s: orders.customer_order_view(s, number))
    assert [x.status for x in view.lines] == ["open", "cancelled"]
    assert view.status == "open"
    do(odb, orders.cancel_customer_order, CancelCustomerOrder(order=number, reason="customer"))
    view = odb.read(lambda s: orders.customer_order_view(s, number))
    assert view.status == "cancelled"
    with pytest.raises(Conflict) as closed:
        do(
            odb,
            orders.change_customer_line,
            ChangeCustomerLine(order=number, line_no=1, quantity=Decimal(3)),
        )
    assert closed.value.field == "line_no"
    assert odb.read(queries.open_customer_demand) == []


def test_a_replayed_key_applies_once_and_a_reused_key_is_refused(odb: Database) -> None:
    cmd = CreateCustomerOrder(
        customer="CUS", lines=[CustomerLineIn(item="CONN", quantity=Decimal(3), due_date=TODAY)]
    )
    k = key()
    first = do(odb, orders.create_customer_order, cmd, idem=k)
    again = do(odb, orders.create_customer_order, cmd, idem=k)
    assert (again.number, again.replayed, first.replayed) == (first.number, True, False)
    assert len(odb.read(queries.open_customer_demand)) == 1
    other = cmd.model_copy(update={"priority": Priority.rush})
    with pytest.raises(Conflict) as reused:
        do(odb, orders.create_customer_order, other, idem=k)
    assert reused.value.field == "Idempotency-Key"


def test_upsert_by_external_ref_updates_the_same_order(odb: Database) -> None:
    def cmd(qty: str) -> CreateCustomerOrder:
        return CreateCustomerOrder(
            customer="CUS",
            source="erp",
            external_ref="4711",
            lines=[CustomerLineIn(item="CONN", quantity=Decimal(qty), due_date=TODAY)],
        )

    a = do(odb, orders.create_customer_order, cmd("3"))
    b = do(odb, orders.create_customer_order, cmd("5"))
    assert a.number == b.number
    assert (a.detail["created"], b.detail["created"], b.detail["changed"]) == (True, False, True)
    view = odb.read(lambda s: orders.customer_order_view(s, a.number))
    assert [x.quantity for x in view.lines] == [Decimal(5)]
    with pytest.raises(Conflict) as renamed:  # the ERP's order cannot take a second number
        do(odb, orders.create_customer_order, cmd("5").model_copy(update={"number": "SO-X"}))
    assert renamed.value.field == "number"


# --- purchase orders and receiving ------------------------------------------------------


def test_purchase_order_takes_prices_and_lead_times_from_the_price_list(odb: Database) -> None:
    cmd = CreatePurchaseOrder(
        supplier="SUP",
        lines=[
            PurchaseLineIn(item="WIRE", quantity=Decimal(100)),
            PurchaseLineIn(item="CONN", quantity=Decimal(10), unit_price=Decimal("0.40")),
        ],
    )
    number = do(odb, orders.create_purchase_order, cmd).number
    view = odb.read(lambda s: orders.purchase_order_view(s, number))
    assert view.status == "proposed"
    assert [(x.unit_price, x.due_date) for x in view.lines] == [
        (Decimal("0.1"), TODAY + dt.timedelta(days=5)),
        (Decimal("0.4"), TODAY + dt.timedelta(days=2)),
    ]
    assert view.total == Decimal("14")
    with pytest.raises(Conflict) as early:  # a proposed order cannot be sent
        do(odb, orders.send_purchase_order, PurchaseOrderAction(order=number))
    assert "proposed" in early.value.detail
    do(odb, orders.approve_purchase_order, PurchaseOrderAction(order=number))
    do(odb, orders.send_purchase_order, PurchaseOrderAction(order=number))
    view = odb.read(lambda s: orders.purchase_order_view(s, number))
    assert (view.status, view.approved_by) == ("sent", "tester")
    supply = odb.read(queries.open_purchase_supply)
    assert [(s.reference, s.open_quantity) for s in supply] == [
        (f"{number}/2", Decimal(10)),
        (f"{number}/1", Decimal(100)),
    ]


def test_an_item_without_a_price_needs_one(odb: Database) -> None:
    cmd = CreatePurchaseOrder(
        supplier="SUP", lines=[PurchaseLineIn(item="CABLE", quantity=Decimal(1))]
    )
    with pytest.raises(InvalidInput) as err:
        do(odb, orders.create_purchase_order, cmd)
    assert err.value.field == "lines[0].unit_price"


def test_partial_receipts_roll_up_and_over_tolerance_is_refused(odb: Database) -> None:
    number = sent_po(odb, ("WIRE", "100"))

    def receive(qty: str, container: str) -> dict[str, object]:
        cmd = ReceivePurchaseLine(
            order=number,
            line_no=1,
            quantity=Decimal(qty),
            location="DOCK",
            container=container,
            supplier_lot=f"S-{container}",
            expiry_date=TODAY + dt.timedelta(days=200),
        )
        return do(odb, orders.receive_purchase_line, cmd).detail

    first = receive("60", "R-1")
    assert (first["line_status"], first["quantity_received"], first["held"]) == (
        "partly_received",
        "60",
        False,
    )
    assert odb.read(lambda s: orders.purchase_order_view(s, number)).status == "partly_received"
    assert on_hand(odb, "WIRE") == Decimal(60)
    with pytest.raises(Conflict) as over:
        receive("45", "R-2")
    assert over.value.field == "quantity" and over.value.expected == "at most 40"
    assert on_hand(odb, "WIRE") == Decimal(60)  # the refused receipt changed nothing
    do(
        odb,
        orders.set_receipt_tolerance,
        SetReceiptTolerance(over_percent=Decimal(10), under_percent=Decimal(0)),
    )
    receive("45", "R-2")
    view = odb.read(lambda s: orders.purchase_order_view(s, number))
    assert (view.status, view.lines[0].status, view.lines[0].quantity_received) == (
        "received",
        "received",
        Decimal(105),
    )
    lot = odb.read(lambda s: container_view(s, "R-2")).contents[0]
    assert (lot.lot, lot.quantity) == ("S-R-2", Decimal(45))
    assert odb.read(queries.open_purchase_supply) == []
    assert_projections_hold(odb)


def test_under_tolerance_closes_a_short_line(odb: Database) -> None:
    do(
        odb,
        orders.set_receipt_tolerance,
        SetReceiptTolerance(over_percent=Decimal(0), under_percent=Decimal(5)),
    )
    number = sent_po(odb, ("CONN", "100"))
    cmd = ReceivePurchaseLine(order=number, line_no=1, quantity=Decimal(96), location="DOCK")
    assert do(odb, orders.receive_purchase_line, cmd).detail["line_status"] == "received"


def test_receipt_of_an_item_needing_inspection_lands_on_hold(odb: Database) -> None:
    number = sent_po(odb, ("GLUE", "20"))
    cmd = ReceivePurchaseLine(
        order=number, line_no=1, quantity=Decimal(20), location="DOCK", container="G-1", lot="G-LOT"
    )
    result = do(odb, orders.receive_purchase_line, cmd)
    assert result.detail["held"] is True
    assert on_hand(odb, "GLUE", ContentStatus.hold) == Decimal(20)
    assert on_hand(odb, "GLUE", ContentStatus.available) == Decimal(0)


def test_a_lot_tracked_receipt_needs_a_lot(odb: Database) -> None:
    number = sent_po(odb, ("WIRE", "10"))
    cmd = ReceivePurchaseLine(order=number, line_no=1, quantity=Decimal(10), location="DOCK")
    with pytest.raises(InvalidInput) as err:
        do(odb, orders.receive_purchase_line, cmd)
    assert err.value.field == "lot"


def test_receiving_on_a_proposed_order_is_refused(odb: Database) -> None:
    cmd = CreatePurchaseOrder(
        supplier="SUP", lines=[PurchaseLineIn(item="CONN", quantity=Decimal(5))]
    )
    number = do(odb, orders.create_purchase_order, cmd).number
    with pytest.raises(Conflict) as err:
        do(
            odb,
            orders.receive_purchase_line,
            ReceivePurchaseLine(order=number, line_no=1, quantity=Decimal(5), location="DOCK"),
        )
    assert err.value.field == "order"


# --- reservations, picking, packing, shipping -------------------------------------------


def test_reservation_takes_the_earliest_expiry_and_never_an_expired_lot(odb: Database) -> None:
    stock(odb, "W-OLD", "WIRE", "50", lot="L-OLD", expiry=TODAY - dt.timedelta(days=1))
    stock(odb, "W-LATE", "WIRE", "50", lot="L-LATE", expiry=TODAY + dt.timedelta(days=90))
    stock(odb, "W-SOON", "WIRE", "50", lot="L-SOON", expiry=TODAY + dt.timedelta(days=10))
    number = customer_order(odb, ("WIRE", "70"))
    result = do(odb, orders.reserve, ReserveCommand(order=number, line_no=1))
    assert result.detail["containers"] == [
        {"container": "W-SOON", "lot": "L-SOON", "quantity": "50"},
        {"container": "W-LATE", "lot": "L-LATE", "quantity": "20"},
    ]
    assert result.status == "reserved"
    assert odb.read(queries.reserved_by_item) == {
        odb.read(lambda s: queries.open_customer_demand(s)[0].item_id): Decimal(70)
    }
    second = customer_order(odb, ("WIRE", "40"), number="SO-2")
    with pytest.raises(Conflict) as short:
        do(odb, orders.reserve, ReserveCommand(order=second, line_no=1, quantity=Decimal(40)))
    assert "only 30" in short.value.detail


def test_fefo_pick_list_prefers_whole_containers(odb: Database) -> None:
    stock(odb, "C-BIG", "CONN", "100")
    stock(odb, "C-30", "CONN", "30")
    stock(odb, "C-20", "CONN", "20")
    number = customer_order(odb, ("CONN", "50"))
    ship = do(odb, orders.create_ship_order, CreateShipOrder(order=number)).number
    view = odb.read(lambda s: orders.ship_order_view(s, ship))
    assert [(p.container, p.quantity, p.whole_container) for p in view.picks] == [
        ("C-30", Decimal(30), True),
        ("C-20", Decimal(20), True),
    ]


def test_pick_pack_ship_takes_stock_out_of_inventory(odb: Database) -> None:
    stock(odb, "W-A", "WIRE", "30", lot="LA", expiry=TODAY + dt.timedelta(days=5))
    stock(odb, "W-B", "WIRE", "100", lot="LB", expiry=TODAY + dt.timedelta(days=50))
    stock(odb, "C-1", "CONN", "10")
    number = customer_order(odb, ("WIRE", "50"), ("CONN", "10"), allow_partial=False)
    ship = do(odb, orders.create_ship_order, CreateShipOrder(order=number)).number
    view = odb.read(lambda s: orders.ship_order_view(s, ship))
    assert [(p.container, p.lot, p.quantity, p.whole_container) for p in view.picks] == [
        ("W-A", "LA", Decimal(30), True),
        ("W-B", "LB", Decimal(20), False),
        ("C-1", None, Decimal(10), True),
    ]
    with pytest.raises(NotFound) as unknown:
        do(odb, orders.pick, PickScan(ship_order=ship, container="NOPE-1"))
    assert unknown.value.field == "container"
    stock(odb, "W-C", "WIRE", "5", lot="LC", expiry=TODAY + dt.timedelta(days=60))
    with pytest.raises(Conflict) as wrong:  # real, but not on the pick list
        do(odb, orders.pick, PickScan(ship_order=ship, container="W-C"))
    assert wrong.value.field == "container" and "W-A" in (wrong.value.expected or "")
    do(odb, orders.pick, PickScan(ship_order=ship, container="W-A"))
    tote = do(odb, orders.pick, PickScan(ship_order=ship, container="W-B")).detail[
        "picked_container"
    ]
    do(odb, orders.pick, PickScan(ship_order=ship, container="C-1"))
    with pytest.raises(Conflict):  # nothing packed yet
        do(odb, orders.ship, ShipShipOrder(ship_order=ship))
    box = do(odb, orders.pack, PackCommand(ship_order=ship, container="W-A")).detail["package"]
    for cont in (tote, "C-1"):
        do(odb, orders.pack, PackCommand(ship_order=ship, container=str(cont), package=str(box)))
    assert odb.read(lambda s: orders.ship_order_view(s, ship)).status == "packed"
    before = on_hand(odb, "WIRE")
    result = do(odb, orders.ship, ShipShipOrder(ship_order=ship))
    assert result.status == "shipped" and result.detail["customer_order_status"] == "shipped"
    assert on_hand(odb, "WIRE") == before - 50 == Decimal(85)
    assert on_hand(odb, "CONN") == Decimal(0)
    view_so = odb.read(lambda s: orders.customer_order_view(s, number))
    assert [(x.status, x.quantity_shipped, x.quantity_reserved) for x in view_so.lines] == [
        ("shipped", Decimal(50), Decimal(0)),
        ("shipped", Decimal(10), Decimal(0)),
    ]
    assert odb.read(queries.reserved_by_item) == {}
    assert_projections_hold(odb)
    assert odb.read(verify).ok  # the ledger's projections rebuild from its events


def test_partial_shipment_when_the_order_allows_it(odb: Database) -> None:
    stock(odb, "C-1", "CONN", "6")
    number = customer_order(odb, ("CONN", "10"))
    ship = do(odb, orders.create_ship_order, CreateShipOrder(order=number))
    assert ship.detail["short"] == {"1": "4"}
    do(odb, orders.pick, PickScan(ship_order=ship.number, container="C-1"))
    do(odb, orders.pack, PackCommand(ship_order=ship.number, container="C-1", package="BOX-1"))
    done = do(odb, orders.ship, ShipShipOrder(ship_order=ship.number))
    assert done.detail["customer_order_status"] == "partly_shipped"
    demand = odb.read(queries.open_customer_demand)
    assert [(d.reference, d.open_quantity) for d in demand] == [(f"{number}/1", Decimal(4))]
    stock(odb, "C-2", "CONN", "4")
    rest = do(odb, orders.create_ship_order, CreateShipOrder(order=number)).number
    do(odb, orders.pick, PickScan(ship_order=rest, container="C-2"))
    do(odb, orders.pack, PackCommand(ship_order=rest, container="C-2"))
    do(odb, orders.ship, ShipShipOrder(ship_order=rest))
    assert odb.read(lambda s: orders.customer_order_view(s, number)).status == "shipped"
    assert_projections_hold(odb)


def test_an_order_without_partial_shipments_is_not_released_short(odb: Database) -> None:
    stock(odb, "C-1", "CONN", "6")
    number = customer_order(odb, ("CONN", "10"), allow_partial=False)
    with pytest.raises(Conflict) as err:
        do(odb, orders.create_ship_order, CreateShipOrder(order=number))
    assert "partial" in err.value.detail
    with pytest.raises(Conflict):
        do(
            odb,
            orders.create_ship_order,
            CreateShipOrder(order=number, lines=[ShipLineIn(line_no=1, quantity=Decimal(5))]),
        )
    assert odb.read(queries.reserved_by_item) == {}  # the refused release reserved nothing


def test_cancelling_a_reserved_line_gives_the_stock_back(odb: Database) -> None:
    stock(odb, "C-1", "CONN", "10")
    number = customer_order(odb, ("CONN", "10"))
    do(odb, orders.reserve, ReserveCommand(order=number, line_no=1))
    result = do(odb, orders.cancel_customer_order, CancelCustomerOrder(order=number, reason="x"))
    assert result.detail["released_reservations"] == "10"
    assert odb.read(queries.reserved_by_item) == {}


def test_every_refusal_is_a_user_error_not_a_crash(odb: Database) -> None:
    with pytest.raises(NotFound) as err:
        do(odb, orders.reserve, ReserveCommand(order="SO-NONE", line_no=1))
    assert err.value.field == "order"
    with pytest.raises(NotFound) as item:
        customer_order(odb, ("NOPE", "1"))
    assert item.value.field == "lines[0].item"
    with pytest.raises(IsomError):
        do(odb, orders.ship, ShipShipOrder(ship_order="SH-NONE"))
    empty = customer_order(odb, ("CONN", "1"), number="SO-EMPTY")
    with pytest.raises(Conflict) as nothing:
        do(odb, orders.create_ship_order, CreateShipOrder(order=empty))
    assert (nothing.value.field, nothing.value.detail) == (
        "order",
        "no free stock for any line of SO-EMPTY",
    )


def test_unreserve_and_a_cancelled_ship_order_leave_picked_goods_with_the_line(
    odb: Database,
) -> None:
    stock(odb, "C-1", "CONN", "10")
    stock(odb, "C-2", "CONN", "10")
    number = customer_order(odb, ("CONN", "15"))
    do(odb, orders.reserve, ReserveCommand(order=number, line_no=1, quantity=Decimal(5)))
    released = do(odb, orders.unreserve, UnreserveCommand(order=number, line_no=1))
    assert (released.detail["released"], released.status) == ("5", "open")
    with pytest.raises(Conflict) as nothing:
        do(odb, orders.unreserve, UnreserveCommand(order=number, line_no=1))
    assert nothing.value.field == "line_no"
    ship = do(odb, orders.create_ship_order, CreateShipOrder(order=number)).number
    picked = do(odb, orders.pick, PickScan(ship_order=ship, container="C-2", quantity=Decimal(5)))
    tote = str(picked.detail["picked_container"])
    assert picked.status == "picking"
    with pytest.raises(Conflict) as bound:
        do(odb, orders.unreserve, UnreserveCommand(order=number, line_no=1, container=tote))
    assert "picked" in bound.value.detail
    cancelled = do(odb, orders.cancel_ship_order, CancelShipOrder(ship_order=ship, reason="truck"))
    assert cancelled.status == "cancelled"
    view = odb.read(lambda s: orders.customer_order_view(s, number))
    assert view.lines[0].quantity_reserved == Decimal(15)  # picked goods stay set aside
    again = do(odb, orders.create_ship_order, CreateShipOrder(order=number)).number
    picks = odb.read(lambda s: orders.ship_order_view(s, again)).picks
    assert sum(p.quantity for p in picks) == Decimal(15)
    assert tote in {p.container for p in picks}
    assert_projections_hold(odb)


def test_close_and_cancel_purchase_orders(odb: Database) -> None:
    partly = sent_po(odb, ("CONN", "10"))
    do(
        odb,
        orders.receive_purchase_line,
        ReceivePurchaseLine(order=partly, line_no=1, quantity=Decimal(4), location="DOCK"),
    )
    with pytest.raises(Conflict) as late:
        do(odb, orders.cancel_purchase_order, PurchaseOrderAction(order=partly, reason="x"))
    assert late.value.field == "order"
    closed = do(odb, orders.close_purchase_order, PurchaseOrderAction(order=partly, reason="short"))
    assert closed.status == "closed"
    fresh = sent_po(odb, ("CONN", "10"))
    assert do(odb, orders.cancel_purchase_order, PurchaseOrderAction(order=fresh)).status == (
        "cancelled"
    )
    assert odb.read(queries.open_purchase_supply) == []
