"""Anna's terminal at the cutter, on the late M8 cord job, shows which cable reel to cut the
25 cords from: the 100 m reel, leaving 48.75 m, not the 12.5 m rest that would end in a
remnant."""

from __future__ import annotations

import pytest

from isom import demo
from isom.db import Database
from isom.production import cutting

pytestmark = pytest.mark.browser

JOB = "WO-000004"  # 25 M8 cords for SensorPro, waiting at the cutter


def test_the_terminal_shows_the_cut_plan_of_the_step_in_hand(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    plan = db.read(lambda s: cutting.cut_plan(s, JOB, 10))
    (cable,) = plan.proposals
    assert (cable.item, cable.pieces_needed, cable.unplaced) == ("CABLE-4C-GY", 25, 0)

    page.goto(f"{server}/login?next=/terminal")
    page.get_by_label("User name").fill("operator")
    page.get_by_label("Password").fill("operator-demo")
    page.get_by_role("button", name="Sign in").click()
    scan_field = page.locator("#t-scan")
    for code in ("CUT-1", "B1001"):
        scan_field.fill(code)
        scan_field.press("Enter")
    expect(page.locator("#t-cuts")).to_be_hidden()  # no job step in hand yet
    scan_field.fill(f"{JOB}/10")
    scan_field.press("Enter")

    box = page.locator("#t-cuts")
    expect(box.locator("h2")).to_have_text(f"Cut plan for {JOB}/10")
    rows = box.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-reel", "R-1004")
    expect(rows.first).to_contain_text("25 × 2.05 m")
    expect(rows.first).to_contain_text("48.75 m")
    expect(rows.first).not_to_contain_text("remnant")
    expect(box.locator("p")).to_have_text("Remnant left: 0 m CABLE-4C-GY.")
    page.screenshot(path="/tmp/isom-terminal-cut-plan.png", full_page=True)
