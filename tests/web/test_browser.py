"""A real browser against the real server: sign in, inventory, a container's history, a lot trace.

Runs uvicorn in a background thread on a free port and drives Debian's headless Chromium with
Playwright. Without /usr/bin/chromium it skips, unless CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from isom.db import Database
from isom.web.app import create_app
from tests.web.seed import PASSWORD, received_box, user

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("ISOM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    """The ISOM app served by uvicorn on 127.0.0.1, against the test database."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(db), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="isom-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser_page() -> Iterator[object]:
    """A Playwright page in headless Chromium (skipped without Chromium, outside CI)."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1180, "height": 820})  # a tablet
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


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
