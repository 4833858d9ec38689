"""A real browser against the real server: sign in, inventory, a container's history, a lot trace.

Runs uvicorn in a background thread on a free port and drives Debian's headless Chromium with
Playwright (fixtures in tests/web/conftest.py).
"""

from __future__ import annotations

import pytest

from isom.db import Database
from tests.web.seed import PASSWORD, received_box, user

pytestmark = pytest.mark.browser


def test_sign_in_inventory_container_and_trace(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page, expect

    page = browser_page
    assert isinstance(page, Page)
    received_box(db)
    user(db, "clara", "clerk")

    page.goto(f"{server}/inventory")
    expect(page).to_have_url(f"{server}/login?next=/inventory")
    page.get_by_label("User name").fill("clara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{server}/inventory")
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    expect(page.locator("table.data")).to_contain_text("WIRE")
    expect(page.locator("table.data")).to_contain_text("150.5 m")
    page.screenshot(path="/tmp/isom-inventory.png", full_page=True)

    page.get_by_placeholder("Scan or type a container code").fill("BOX-1")
    page.get_by_placeholder("Scan or type a container code").press("Enter")
    expect(page).to_have_url(f"{server}/containers/BOX-1")
    expect(page.get_by_role("heading", name="Container BOX-1")).to_be_visible()
    expect(page.locator("ol.history")).to_contain_text("receive")
    expect(page.locator("ol.history")).to_contain_text("150.5 m")
    page.screenshot(path="/tmp/isom-container.png", full_page=True)

    page.get_by_role("link", name="L-42").first.click()
    expect(page).to_have_url(f"{server}/trace?item=WIRE&lot=L-42")
    expect(page.get_by_role("heading", name="Recall")).to_be_visible()
    expect(page.locator("main")).to_contain_text("BOX-1")
    page.screenshot(path="/tmp/isom-trace.png", full_page=True)

    page.get_by_role("link", name="Lot trace").click()
    page.get_by_label("Item").fill("WIRE")
    page.get_by_label("Lot").fill("NOPE")
    page.get_by_role("button", name="Trace").click()
    expect(page.get_by_role("alert")).to_contain_text("has no lot")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server}/login")
    page.goto(f"{server}/inventory")
    expect(page).to_have_url(f"{server}/login?next=/inventory")
