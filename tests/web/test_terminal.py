"""The operator's scan terminal in a real browser, on the demo plant.

Anna sets the terminal up at the cutter, starts cutting black leads for an Acme job, consumes
wire from its reel, pauses while the network is down (the scan waits on the tablet and lands once, when the
network returns), gets plain refusals for wrong scans that change nothing, and stops the step
with what she made.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from isom import demo
from isom.db import Database
from isom.ledger import queries as ledger_queries
from isom.production import queries as production_queries

pytestmark = pytest.mark.browser

JOB = "WO-000010"  # the demo's 50 black leads for Acme's second harness job, waiting at the cutter


def _step(db: Database, sequence: int) -> production_queries.StepView:
    view = db.read(lambda s: production_queries.work_order(s, JOB))
    return next(s for s in view.steps if s.sequence == sequence)


def _reel(db: Database) -> Decimal:
    view = db.read(lambda s: ledger_queries.container(s, "R-1003"))
    return sum((c.quantity for c in view.contents), Decimal(0))


def test_operator_runs_a_step_by_scans_and_a_dropped_network_loses_nothing(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    assert _reel(db) == Decimal("274.5")

    page.goto(f"{server}/login?next=/terminal")
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill("operator-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/terminal")

    scan_field = page.locator("#t-scan")
    message = page.locator("#t-message")

    def scan(code: str) -> None:
        expect(scan_field).to_be_focused()  # the scanner types into the one field, always
        scan_field.fill(code)
        scan_field.press("Enter")

    expect(page.locator("#t-prompt")).to_have_text("Scan this terminal's workstation")
    scan("CUT-1")
    expect(page.locator("#t-station")).to_have_text("CUT-1")
    scan("B9999")
    expect(message).to_have_class("term-msg error")
    expect(message).to_contain_text("not a badge")
    scan("B1001")
    expect(page.locator("#t-person")).to_contain_text("Anna Berg")
    scan(f"{JOB}/10")
    expect(page.locator("#t-job")).to_have_text(f"{JOB}/10")
    expect(page.locator("#t-panel")).to_contain_text("needs 15.25 WIRE-0.5-BK")

    page.get_by_role("button", name="Start").click()
    expect(message).to_contain_text("step 10 is running")
    assert _step(db, 10).status == "running"

    scan("B-2001")  # M8 connectors: not what cutting leads needs
    expect(message).to_have_class("term-msg error")
    expect(message).to_contain_text("holds nothing step 10 needs")

    scan("R-1003")
    expect(page.get_by_label("Quantity (m)")).to_have_value("15.25")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("Consume 15.25 WIRE-0.5-BK from R-1003: done")
    assert _reel(db) == Decimal("259.25")
    page.screenshot(path="/tmp/isom-terminal.png", full_page=True)

    page.context.set_offline(True)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#t-queue")).to_have_text("1")
    expect(page.locator("#t-net")).to_have_text("offline")
    expect(message).to_contain_text("Offline")
    assert _step(db, 10).status == "running"  # nothing reached the server yet
    page.context.set_offline(False)
    expect(page.locator("#t-queue")).to_have_text("0", timeout=15_000)
    expect(message).to_contain_text("step 10 is paused")
    assert _step(db, 10).status == "paused"

    page.get_by_role("button", name="Resume").click()
    expect(message).to_contain_text("step 10 is running")

    page.get_by_role("button", name="Stop…").click()
    page.get_by_label("Good quantity").fill("49")
    page.get_by_label("Scrap quantity").fill("1")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("Choose why 1 was scrapped")
    page.get_by_label("Scrap reason").select_option("wrong length")
    page.get_by_role("button", name="Confirm").click()
    expect(message).to_contain_text("step 10 is done")
    step = _step(db, 10)
    assert (step.status, step.quantity_good, step.quantity_scrap) == ("done", 49, 1)
    assert _reel(db) == Decimal("259.25")  # the pause went in once, the consume once

    label = page.get_by_role("link", name=re.compile(r"^Print label for "))
    made = (label.text_content() or "").removeprefix("Print label for ")
    output = db.read(lambda s: ledger_queries.container(s, made))
    assert [(c.item, c.quantity) for c in output.contents] == [("LEAD-BK-300", Decimal(49))]
    pdf = page.request.get(f"{server}{label.get_attribute('href')}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(page.get_by_role("button", name="Stop…")).to_be_visible()
