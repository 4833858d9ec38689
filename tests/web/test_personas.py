"""Each person's main flow in a real browser, on the demo plant.

Pia plans (an order, its projection, the schedule, an agent's proposal), Ben buys (approves and
sends a purchase order), Carl costs a job, the quality team traces a wire lot to the customer and
downloads the recall, and Ada runs admin and master data. Every step checks what the person sees
and what the database then holds.

The five share one demo plant, loaded once for the module (a load takes seconds): each person
changes different things (a new order and job, PO-000002, a new user, token and item name), so
no test depends on another's or on their order.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom import demo
from isom.agents import intake, queries, runner
from isom.agents import services as agents
from isom.agents.models import DecisionStatus, Mode
from isom.auth import services as auth_service
from isom.costing import services as costing
from isom.costing.pages import VARIANCES
from isom.db import Database
from isom.ledger import queries as ledger_queries
from isom.masterdata import records
from isom.masterdata.models import Item
from isom.orders import services as orders
from isom.orders.customer import list_customer_orders
from isom.production.models import WorkOrder
from isom.types import utcnow
from tests.conftest import wipe

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_plant(migrated_db: Database) -> Iterator[Database]:
    """The test database with the demo plant, loaded once for this module."""
    wipe(migrated_db)
    demo.load_if_empty(migrated_db)
    yield migrated_db


@pytest.fixture
def db(demo_plant: Database) -> Database:
    """The demo plant, as the browser fixtures' server serves it (not emptied per test)."""
    return demo_plant


PASSWORDS = {username: password for username, password, _roles, _name in demo.DEMO_USERS}


def _sign_in(page: Any, server: str, username: str, path: str, password: str = "") -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/login?next={path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password or PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}{path}")


def _orders(db: Database) -> list[str]:
    return [o.number for o in db.read(lambda s: list_customer_orders(s, limit=1000))]


def _jobs(db: Database, item: str) -> int:
    """How many work orders make the item."""

    def count(session: Session) -> int:
        query = select(func.count()).select_from(WorkOrder).join(Item, WorkOrder.item_id == Item.id)
        return int(session.scalar(query.where(Item.code == item)) or 0)

    return db.read(count)


def _page(browser_page: object) -> Any:
    from playwright.sync_api import Page

    assert isinstance(browser_page, Page)
    return browser_page


def test_planner_enters_an_order_sees_its_shortage_and_approves_the_agents_job(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import expect

    page = _page(browser_page)
    before = _orders(db)
    due = (utcnow().date() + dt.timedelta(days=10)).isoformat()
    _sign_in(page, server, "planner", "/orders")

    expect(page.locator("#customer-orders")).to_contain_text("SO-9002")
    page.get_by_label("Customer").select_option("SENSORPRO")
    page.get_by_label("Item of line 1").fill("CORD-M8-2M")
    page.get_by_label("Quantity of line 1").fill("-5")
    page.get_by_label("Due date of line 1").fill(due)
    page.get_by_role("button", name="Enter order").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.get_by_role("alert")).to_contain_text("lines[0].quantity")
    assert _orders(db) == before

    expect(page.get_by_label("Item of line 1")).to_have_value("CORD-M8-2M")  # kept for a fix
    page.get_by_label("Quantity of line 1").fill("12")
    page.get_by_role("button", name="Enter order").click()
    expect(page.get_by_role("heading", name="Customer order SO-")).to_be_visible()
    [number] = set(_orders(db)) - set(before)
    expect(page).to_have_url(f"{server}/orders/{number}")
    view = db.read(lambda s: orders.customer_order_view(s, number))
    assert (
        view.customer,
        [(ln.item, ln.quantity, ln.due_date.isoformat()) for ln in view.lines],
    ) == (
        "SENSORPRO",
        [("CORD-M8-2M", Decimal(12), due)],
    )
    page.get_by_role("link", name="Customer orders").click()
    page.locator("#customer-orders").get_by_role("link", name=number, exact=True).click()
    expect(page.get_by_role("heading", name=f"Customer order {number}")).to_be_visible()
    expect(page.locator("#lines tbody tr")).to_have_count(1)
    expect(page.locator("#lines tbody tr")).to_contain_text("CORD-M8-2M")

    page.goto(f"{server}/planning/items/CORD-M8-2M")
    expect(page.locator("#projection-chart .plot-container")).to_be_visible()
    expect(page.locator("#entries")).to_contain_text(f"{number}/1")
    expect(page.locator("#first-shortage")).to_have_text(due)  # nothing makes the 12 yet

    page.goto(f"{server}/planning/schedule")
    expect(page.locator("#chart-gantt .plot-container")).to_be_visible()
    expect(page.locator("#steps")).to_contain_text("WO-000004")

    db.write(lambda s: agents.put_setting(s, runner.ROBOT, "intake", site=None, mode=Mode.propose))
    run = runner.run_agent(db, "intake", intake.run, utcnow().date(), runner.ROBOT)
    assert (run.decisions, run.proposed) == (1, 1)
    jobs_before = _jobs(db, "CORD-M8-2M")

    page.goto(f"{server}/agents")
    [proposal] = db.read(lambda s: queries.decisions(s, status=DecisionStatus.proposed, limit=10))
    row = page.locator(f"#decision-{proposal.id}")
    expect(row).to_contain_text(f"{number}/1")
    expect(row).to_contain_text("Make 12 by route R-CORD-M8-2M")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#no-decisions")).to_be_visible()  # nothing is waiting any more
    decided = db.read(
        lambda s: (lambda d: (d.status, d.decided_by))(agents.get_decision(s, proposal.id))
    )
    assert decided == (DecisionStatus.applied, "planner")
    assert _jobs(db, "CORD-M8-2M") == jobs_before + 1

    page.get_by_label("Show").select_option("applied")
    expect(page.locator(f"#decision-{proposal.id}")).to_contain_text("applied")
    page.goto(f"{server}/planning/items/CORD-M8-2M")
    expect(page.locator("#first-shortage")).to_have_text("No shortage projected.")


def test_buyer_approves_then_sends_a_purchase_order(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import expect

    page = _page(browser_page)
    _sign_in(page, server, "buyer", "/purchasing")

    def status() -> str:
        return db.read(lambda s: orders.purchase_order_view(s, "PO-000002")).status

    row = page.locator("#purchase-orders tr", has_text="PO-000002")
    expect(row.locator(".status")).to_have_text("proposed")
    expect(row.get_by_role("button", name="Send PO-000002")).to_have_count(0)
    row.get_by_role("button", name="Approve PO-000002").click()
    expect(row.locator(".status")).to_have_text("approved")
    expect(row).to_contain_text("approved by buyer")
    assert status() == "approved"

    row.get_by_role("button", name="Send PO-000002").click()
    expect(row.locator(".status")).to_have_text("sent")
    expect(row.get_by_role("button")).to_have_count(0)  # nothing left to do with it here
    assert status() == "sent"
    other = page.locator("#purchase-orders tr", has_text="PO-000001").locator(".status")
    expect(other).to_have_text("partly_received")


def test_accountant_opens_a_job_cost_with_its_waterfall_and_variances(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import expect

    page = _page(browser_page)
    cost = db.read(lambda s: costing.job_cost(s, "WO-000001"))
    _sign_in(page, server, "accountant", "/costing")

    page.locator("#jobs").get_by_role("link", name="WO-000001", exact=True).click()
    expect(page).to_have_url(f"{server}/costing/jobs/WO-000001")
    expect(page.locator("#chart-waterfall .plot-container")).to_be_visible()
    expect(page.locator("#chart-waterfall")).to_contain_text("actual")

    shown = {
        (row.locator("th").text_content() or "").strip(): Decimal(row.locator("td").inner_text())
        for row in page.locator("#variances tbody tr").all()
    }
    expected = {label: getattr(cost.variances, name) for name, label in VARIANCES}
    expected["total"] = cost.variances.total
    assert shown.keys() == expected.keys()
    for label, value in expected.items():
        assert shown[label] == value, label  # the service's figure, not a rounding of it
    assert any(value != 0 for value in expected.values())
    actual_total = page.locator("#elements tr.total td").nth(1).inner_text()
    assert Decimal(actual_total) == cost.actual.total


def test_quality_traces_a_wire_lot_to_the_customer_and_downloads_the_recall(
    db: Database, server: str, browser_page: object, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = _page(browser_page)
    recall = db.read(lambda s: ledger_queries.recall(s, "WIRE-0.5-RD", "WR-2611-01"))
    assert recall.customers == ["ACME-ROBOTICS"]
    _sign_in(page, server, "supervisor", "/trace")

    page.get_by_label("Item").fill("WIRE-0.5-RD")
    page.get_by_label("Lot").fill("WR-2611-01")
    page.get_by_role("button", name="Trace").click()
    expect(page).to_have_url(f"{server}/trace?item=WIRE-0.5-RD&lot=WR-2611-01")
    backward = page.locator("h2:has-text('Where it came from') + *")
    forward = page.locator("h2:has-text('What it went into') + .tree")
    expect(forward).to_contain_text("WO-000002")
    expect(forward.locator("li.customer").first).to_contain_text("ACME-ROBOTICS")
    expect(backward).to_have_text("None.")  # bought in, not made here
    expect(page.locator("dl.facts")).to_contain_text("WIRECO")

    with page.expect_download() as info:
        page.get_by_role("link", name="Recall report (CSV)").click()
    download = info.value
    assert download.suggested_filename == "recall-WIRE-0.5-RD-WR-2611-01.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    shipped = [r for r in rows if r["kind"] == "shipment"]
    assert sorted((r["container"], Decimal(r["quantity"])) for r in shipped) == sorted(
        (sh.container, abs(sh.quantity)) for sh in recall.shipments
    )
    assert {r["customer"] for r in shipped} == {"ACME-ROBOTICS"}
    assert {r["reference"] for r in rows if r["kind"] == "job step"} == set(recall.steps)

    forward.get_by_role("link", name="WO-000001").first.click()
    expect(page).to_have_url(f"{server}/trace?item=HARN-JST-300&lot=WO-000001")
    expect(backward).to_contain_text("WR-2611-01")  # back to our wire
    expect(backward).to_contain_text("WIRECO")
    expect(page.locator("main")).to_contain_text("ACME-ROBOTICS")


def test_admin_adds_a_user_issues_and_revokes_a_token_and_edits_master_data(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import expect

    page = _page(browser_page)
    _sign_in(page, server, "admin", "/admin")

    add = page.locator("form.card", has=page.locator("input[name=action][value=create]"))
    add.get_by_label("User name").fill("otto")
    add.get_by_label("Full name").fill("Otto Operator")
    add.get_by_label("Password").fill("otto-secret-1")
    add.get_by_label("operator", exact=True).check()
    add.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("form", name="Change otto")).to_be_visible()
    otto = db.read(
        lambda s: (lambda u: (u.full_name, u.roles, u.active))(auth_service.get_user(s, "otto"))
    )
    assert otto == ("Otto Operator", ["operator"], True)

    other = page.context.browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        his = other.new_page()
        his.set_default_timeout(15_000)
        _sign_in(his, server, "otto", "/terminal", password="otto-secret-1")
        menu = his.get_by_role("navigation", name="Main")
        expect(menu.get_by_role("link", name="Terminal")).to_be_visible()
        expect(menu.get_by_role("link", name="Admin")).to_have_count(0)
        expect(menu.get_by_role("link", name="Job cost")).to_have_count(0)
    finally:
        other.close()

    issue = page.locator("form.card[action='/admin/tokens']")
    issue.get_by_label("Name").fill("erp-sap")
    issue.get_by_label("integrator", exact=True).check()
    issue.get_by_role("button", name="Issue token").click()
    secret = page.locator("#new-secret").inner_text()

    def erp_token() -> list[tuple[list[str], bool, str]]:
        return db.read(
            lambda s: [
                (t.roles, t.revoked_at is not None, t.prefix)
                for t in auth_service.list_api_tokens(s)
                if t.name == "erp-sap"
            ]
        )

    [(roles, revoked, prefix)] = erp_token()
    assert (roles, revoked) == (["integrator"], False) and secret.startswith(prefix)
    row = page.locator("tr", has_text="erp-sap")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Revoke erp-sap").click()
    expect(page.locator("tr", has_text="erp-sap")).to_contain_text("revoked")
    expect(page.locator("#new-secret")).to_have_count(0)  # shown once only
    assert [revoked for _roles, revoked, _prefix in erp_token()] == [True]

    def item() -> dict[str, Any]:
        return db.read(lambda s: records.get_record(s, "items", "WIRE-0.5-RD")).model_dump(
            mode="json"
        )

    before = item()
    page.goto(f"{server}/masterdata?kind=items")
    page.get_by_label("Code or name").fill("0.5-RD")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    page.get_by_role("link", name="WIRE-0.5-RD", exact=True).click()
    expect(page).to_have_url(f"{server}/masterdata/items/WIRE-0.5-RD")

    page.get_by_label("Standard cost").fill("-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.locator("#e-standard_cost")).to_contain_text("greater than or equal to 0")
    assert item() == before

    page.get_by_label("Standard cost").fill(before["standard_cost"])
    page.locator("#f-name").fill("Wire 0.5 mm² red, tinned")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator("#f-name")).to_have_value("Wire 0.5 mm² red, tinned")
    assert item() == {**before, "name": "Wire 0.5 mm² red, tinned"}
