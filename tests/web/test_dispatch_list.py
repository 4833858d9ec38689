"""Anna's terminal at the cutter shows the cutter's dispatch list from the plan in force, in
the plan's order, with why each step is where it is."""

from __future__ import annotations

import pytest

from isom import demo
from isom.db import Database
from isom.planning.scheduling import queries
from isom.planning.scheduling import services as plans

pytestmark = pytest.mark.browser


def test_the_terminal_shows_the_workstations_dispatch_list_from_the_plan(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    db.write(lambda s: plans.replan(s, reason="morning plan", actor="pia"))
    planned = db.read(lambda s: queries.dispatch_list(s, "CUT-1"))
    assert planned

    page.goto(f"{server}/login?next=/terminal")
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill("operator-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#t-dispatch")).to_be_hidden()  # no workstation yet
    page.locator("#t-scan").fill("CUT-1")
    page.locator("#t-scan").press("Enter")

    rows = page.locator("#t-dispatch tbody tr")
    # the list comes by a fetch after the scan: wait for it as long as the queue tests do
    expect(page.locator("#t-dispatch h2")).to_have_text("Next at CUT-1", timeout=15_000)
    expect(rows).to_have_count(len(planned))
    steps = [f"{r.work_order}/{r.sequence}" for r in planned]
    assert [rows.nth(i).get_attribute("data-step") for i in range(len(planned))] == steps
    expect(rows.first).to_contain_text(planned[0].why)
