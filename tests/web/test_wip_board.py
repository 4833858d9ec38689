"""The supervisor's live WIP board in a real browser: a scan made elsewhere shows up on it without
a reload (the stream looks for new events every quarter second)."""

from __future__ import annotations

import pytest

from isom import demo
from isom.db import Database
from isom.ledger.services import Actor
from isom.production import services as production
from isom.production.schemas import StepScan

pytestmark = pytest.mark.browser


def test_the_board_shows_a_scan_made_on_the_floor_without_reloading(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    page.goto(f"{server}/login?next=/wip")
    page.get_by_label("User name").fill("supervisor")
    page.get_by_label("Password").fill("supervisor-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/wip")
    board = page.locator("#wip-body")
    expect(board).to_contain_text("WO-000010")
    assert "Anna Berg" not in board.inner_text()
    page.evaluate("() => { window.sameVisit = true; }")

    scan = StepScan(badge="B1001", work_order="WO-000010", step=10, workstation="CUT-1")
    db.write(lambda s: production.start_step(s, Actor(name="cutter-terminal"), "wip-live-1", scan))

    expect(board).to_contain_text("Anna Berg")
    assert page.evaluate("() => window.sameVisit === true")  # no reload happened
    expect(board).to_contain_text("running")
