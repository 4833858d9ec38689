"""The pages' Content-Security-Policy runs only this origin's script files: in a real browser every
screen still draws (charts, the live WIP board, the forms' small behaviours) and the browser
reports no blocked script or style."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from isom import demo
from isom.db import Database
from tests.conftest import wipe

pytestmark = pytest.mark.browser

PAGES = [
    "/inventory",
    "/trace",
    "/wip",
    "/learned-times",
    "/terminal",
    "/warehouse",
    "/orders",
    "/purchasing",
    "/planning",
    "/planning/items/CORD-M8-2M",
    "/planning/schedule",
    "/agents",
    "/reconciliations",
    "/costing",
    "/costing/jobs/WO-000001",
    "/reports",
    "/masterdata",
    "/admin",
]
CHART_PAGES = {
    "/planning/items/CORD-M8-2M",
    "/planning/schedule",
    "/costing/jobs/WO-000001",
    "/reports",
}


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    wipe(migrated_db)
    demo.load_if_empty(migrated_db)
    yield migrated_db


def test_every_screen_works_under_the_policy_and_nothing_is_blocked(
    db: Database, server: str, browser_page: Any
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(f"{server}/login?next=/inventory")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("admin-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/inventory")

    for path in PAGES:
        answer = page.goto(f"{server}{path}")
        assert answer is not None and answer.status == 200, path
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        if path in CHART_PAGES:
            expect(page.locator("svg.main-svg").first).to_be_visible()
    assert refused == []

    page.goto(f"{server}/planning")
    page.get_by_label("Item").fill("CORD-M8-2M")
    page.get_by_role("button", name="Show projection").click()
    expect(page).to_have_url(f"{server}/planning/items/CORD-M8-2M")

    page.goto(f"{server}/agents")
    page.get_by_label("Show").select_option("applied")
    expect(page).to_have_url(f"{server}/agents?status=applied")
    assert refused == []
