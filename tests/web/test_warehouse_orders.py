"""Receiving, picking, packing and shipping by scanning, in a real browser on the demo plant.

Mira, a clerk, receives the rest of PO-000001 (sent, half received) into a labelled box with the
supplier's lot, then picks the 30 connectors reserved for SO-9005 out of B-2001 into a tote
(after a container that is not on the pick list is refused and changes nothing), packs the tote
into a new carton and ships it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from isom import demo
from isom.db import Database
from isom.ledger import queries
from isom.ledger import services as ledger
from isom.orders import services as orders
from isom.orders.models import ShipOrderStatus
from isom.orders.schemas import CreateShipOrder, ShipOrderView
from isom.orders.shipping import list_ship_orders

pytestmark = pytest.mark.browser

OPEN_SHIP = {ShipOrderStatus.planned, ShipOrderStatus.picking, ShipOrderStatus.picked}


def _box(db: Database, code: str) -> queries.ContainerView:
    return db.read(lambda s: queries.container(s, code))


def _qty(view: queries.ContainerView) -> Decimal:
    return sum((c.quantity for c in view.contents), Decimal(0))


def _ship(db: Database, number: str) -> ShipOrderView:
    return db.read(lambda s: orders.ship_order_view(s, number))


def _ship_order_for(db: Database, customer_order: str) -> str:
    """The open ship order of a customer order; made (as a planner would) when there is none."""
    for view in db.read(list_ship_orders):
        if view.customer_order == customer_order and view.status in OPEN_SHIP:
            return view.number
    planner = ledger.Actor(name="planner")
    made = db.write(
        lambda s: orders.create_ship_order(
            s, planner, f"test-ship-{customer_order}", CreateShipOrder(order=customer_order)
        )
    )
    return made.number


def test_clerk_receives_picks_packs_and_ships_by_scanning(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    po = db.read(lambda s: orders.purchase_order_view(s, "PO-000001"))
    assert (po.status, po.lines[0].quantity, po.lines[0].quantity_received) == (
        "partly_received",
        Decimal(100),
        Decimal(50),
    )
    sh = _ship_order_for(db, "SO-9005")
    plan = _ship(db, sh)
    assert [(p.container, p.quantity, p.whole_container) for p in plan.picks] == [
        ("B-2001", Decimal(30), False)
    ]
    assert _qty(_box(db, "B-2001")) == Decimal(200)
    b2002 = _box(db, "B-2002").contents

    page.goto(f"{server}/login?next=/warehouse")
    page.get_by_label("User name").fill("clerk")
    page.get_by_label("Password").fill("clerk-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/warehouse")

    field = page.locator("#t-scan")
    message = page.locator("#t-message")
    order = page.locator("#t-order")
    prompt = page.locator("#t-prompt")

    def scan(code: str) -> None:
        expect(field).to_be_focused()
        field.fill(code)
        field.press("Enter")

    def task(name: str) -> None:
        page.get_by_role("button", name=name, exact=True).click()

    def confirm() -> None:
        page.get_by_role("button", name="Confirm").click()

    # Receive the other half of PO-000001 into a labelled box at the dock.
    task("Receive against PO")
    scan("PO-999999")  # no such order: said loudly, and the prompt stays
    expect(message).to_have_class("term-msg error")
    expect(message).to_contain_text("PO-999999")
    expect(prompt).to_have_text("Scan or type the purchase order number")
    scan("PO-000001")
    expect(order).to_contain_text("PO-000001 · CONNTEC · partly received")
    expect(page.get_by_label("Quantity received (ea)")).to_have_value("50")
    confirm()  # the connectors are lot tracked: the supplier's lot is asked for
    expect(message).to_contain_text("CONN-M8-4F is lot tracked")
    page.get_by_label("Supplier lot").fill("CT-88190")
    page.get_by_label("Expiry date (if any)").fill("2031-06-30")
    confirm()
    expect(prompt).to_have_text("Scan the new container's label")
    scan("B-2908")
    scan("DOCK-IN")
    expect(message).to_contain_text(
        "Receive 50 CONN-M8-4F on PO-000001/1 into B-2908: done — PO-000001 received"
    )
    po = db.read(lambda s: orders.purchase_order_view(s, "PO-000001"))
    assert (po.status, po.lines[0].quantity_received, po.lines[0].status) == (
        "received",
        Decimal(100),
        "received",
    )
    box = _box(db, "B-2908")
    assert box.location == "DOCK-IN"
    assert [(c.item, c.lot, c.expiry_date, c.quantity, c.status) for c in box.contents] == [
        ("CONN-M8-4F", "CT-88190", dt.date(2031, 6, 30), Decimal(50), "available")
    ]
    expect(order).to_contain_text("PO-000001 · CONNTEC · received")

    # Pick SO-9005's connectors: the pick list shows what is still to pick.
    task("Pick")
    scan(sh)
    expect(order).to_contain_text(f"{sh} · SO-9005 · SENSORPRO · planned")
    expect(message).to_have_text(f"{sh} for SENSORPRO: 1 to pick, 0 to pack, 0 package(s).")
    expect(order.locator("table", has_text="Still to pick")).to_contain_text("B-2001")
    scan("B-2002")  # not on the pick list: the server refuses it and nothing changes
    expect(message).to_have_class("term-msg error")
    expect(message).to_contain_text("B-2002 is not on the open pick list")
    expect(message).to_contain_text("expected one of: B-2001")
    assert [p.status for p in _ship(db, sh).picks] == ["open"]
    assert _box(db, "B-2002").contents == b2002
    scan("B-2001")  # part of the box: the quantity, then the tote it goes into
    expect(page.get_by_label("Quantity picked")).to_have_value("30")
    confirm()
    expect(prompt).to_have_text("Scan the tote to put the picked goods in (a new label makes one)")
    scan("T-3101")
    expect(message).to_contain_text(
        f"Pick 30 CONN-M8-4F from B-2001 into T-3101 for {sh}: done — {sh} picked"
    )
    expect(order).to_contain_text("Nothing left to pick.")
    expect(order.locator("table", has_text="Picked, to pack")).to_contain_text("T-3101")
    assert (_qty(_box(db, "B-2001")), _qty(_box(db, "T-3101"))) == (Decimal(170), Decimal(30))
    picked = _ship(db, sh)
    assert (picked.status, picked.lines[0].quantity_picked) == ("picked", Decimal(30))
    page.get_by_role("button", name="Done").click()

    # Pack the tote into a new carton.
    task("Pack")
    scan(sh)
    scan("K-4101")
    expect(prompt).to_have_text("Scan a picked container to pack; Done when packed")
    scan("T-3101")
    expect(message).to_contain_text(f"Pack T-3101 into K-4101 for {sh}: done — {sh} packed")
    expect(order).to_contain_text("Packages: K-4101")
    assert [c.code for c in _box(db, "K-4101").children] == ["T-3101"]
    assert (_ship(db, sh).status, _ship(db, sh).packages) == ("packed", ["K-4101"])
    page.get_by_role("button", name="Done").click()

    # Ship it: the goods leave inventory and the customer order is shipped.
    task("Ship")
    scan(sh)
    expect(page.locator("#t-qty")).to_contain_text("Ship K-4101 to SENSORPRO")
    page.get_by_label("Carrier reference (optional)").fill("DHL-4711")
    confirm()
    expect(message).to_contain_text(f"Ship {sh}: done — {sh} shipped")
    shipped = _ship(db, sh)
    assert (shipped.status, shipped.lines[0].quantity_shipped) == ("shipped", Decimal(30))
    assert _qty(_box(db, "T-3101")) == Decimal(0)
    so = db.read(lambda s: orders.customer_order_view(s, "SO-9005"))
    assert (so.status, so.lines[0].quantity_shipped) == ("shipped", Decimal(30))
    page.screenshot(path="/tmp/isom-warehouse-orders.png", full_page=True)
