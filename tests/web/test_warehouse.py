"""The warehouse flows in a real browser, on the demo plant.

Mira, a clerk, puts connectors away, splits a carton off, starts a pallet and loads it, counts
(a count far off the book waits for a supervisor), and holds a damaged carton; a release is a supervisor's, so hers is refused and changes nothing;
a move made while the network is down is sent once when it returns.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from isom import demo
from isom.db import Database
from isom.ledger import queries

pytestmark = pytest.mark.browser


def _box(db: Database, code: str) -> queries.ContainerView:
    return db.read(lambda s: queries.container(s, code))


def _qty(view: queries.ContainerView) -> Decimal:
    return sum((c.quantity for c in view.contents), Decimal(0))


def test_clerk_moves_splits_nests_counts_and_holds_by_scanning(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    assert (_box(db, "B-2001").location, _qty(_box(db, "B-2001"))) == ("B-01", Decimal(200))

    page.goto(f"{server}/login?next=/warehouse")
    page.get_by_label("User name").fill("clerk")
    page.get_by_label("Password").fill("clerk-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/warehouse")

    field = page.locator("#t-scan")
    message = page.locator("#t-message")

    def scan(code: str) -> None:
        expect(field).to_be_focused()
        field.fill(code)
        field.press("Enter")

    def task(name: str) -> None:
        page.get_by_role("button", name=name, exact=True).click()

    scan("B-2001")
    expect(message).to_contain_text("Choose a task first")

    task("Put away / move")
    expect(page.locator("#t-prompt")).to_have_text("Scan the container to move")
    scan("B-2001")
    scan("B-02")
    expect(message).to_contain_text("Move B-2001 to B-02: done")
    assert _box(db, "B-2001").location == "B-02"

    task("Split")
    scan("B-2001")
    expect(page.get_by_label("Quantity to split off (ea)")).to_have_value("200")
    page.get_by_label("Quantity to split off (ea)").fill("50")
    page.get_by_role("button", name="Confirm").click()
    scan("B-2901")
    expect(message).to_contain_text("Split 50 CONN-M8-4F from B-2001 into B-2901: done")
    assert (_qty(_box(db, "B-2001")), _qty(_box(db, "B-2901"))) == (Decimal(150), Decimal(50))

    task("Start a pallet")
    scan("P-7001")
    scan("DOCK-OUT")
    expect(message).to_contain_text("New pallet P-7001 at DOCK-OUT: done")
    task("Nest onto a pallet")
    scan("P-7001")
    scan("B-2901")
    expect(message).to_contain_text("Put B-2901 on P-7001: done")
    expect(page.locator("#t-prompt")).to_have_text(
        "Scan a container to put on it; Done when loaded"
    )
    scan("P-7001")  # a pallet cannot go on itself: refused, nothing changes
    expect(message).to_have_class("term-msg error")
    page.get_by_role("button", name="Done").click()
    loaded = _box(db, "P-7001")
    assert [c.code for c in loaded.children] == ["B-2901"]
    assert _box(db, "B-2901").location == "DOCK-OUT"

    task("Count")
    scan("B-2001")
    page.get_by_label("Counted quantity (ea)").fill("148")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("Count CONN-M8-4F in B-2001: 148: done")
    assert _qty(_box(db, "B-2001")) == Decimal(148)
    task("Count")  # far off the book: it waits for a supervisor and changes nothing
    scan("B-2001")
    page.get_by_label("Counted quantity (ea)").fill("20")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("Count CONN-M8-4F in B-2001: 20: awaiting approval")
    assert _qty(_box(db, "B-2001")) == Decimal(148)

    task("Hold")
    scan("B-2901")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("Say why")
    page.get_by_label("Reason").fill("carton crushed")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("Hold B-2901: done")
    assert {c.status for c in _box(db, "B-2901").contents} == {"hold"}

    task("Release a hold")
    scan("B-2901")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_have_class("term-msg error")  # a clerk may not release a hold
    assert {c.status for c in _box(db, "B-2901").contents} == {"hold"}

    page.context.set_offline(True)
    task("Put away / move")
    scan("B-2001")
    scan("A-01")
    expect(page.locator("#t-queue")).to_have_text("1")
    assert _box(db, "B-2001").location == "B-02"
    page.context.set_offline(False)
    expect(page.locator("#t-queue")).to_have_text("0", timeout=15_000)
    expect(message).to_contain_text("Move B-2001 to A-01: done")
    assert _box(db, "B-2001").location == "A-01"
    page.screenshot(path="/tmp/isom-warehouse.png", full_page=True)
