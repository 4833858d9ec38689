"""The DC's people in a real browser, on the demo: Lina, the DC clerk, receives the announced
pallet by its SSCC and picks, packs and ships the DHL wave; Tom, the kitting operator, finishes
picking a kit's tote, assembles the kits and gets their SSCC label. Each step checks what they
see and what the database then holds (`make screens` photographs the DC screens)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from isom import demo
from isom.db import Database
from isom.dc import inbound, kits, waves
from isom.demo import dc as demo_dc
from tests.conftest import wipe

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp")
PASSWORDS = {user: password for user, password, _roles, _name in demo.ALL_USERS}


@pytest.fixture(scope="module")
def demo_site(migrated_db: Database) -> Iterator[Database]:
    """The demo plant and DC, loaded once for this module."""
    wipe(migrated_db)
    demo.load_if_empty(migrated_db)
    yield migrated_db


@pytest.fixture
def db(demo_site: Database) -> Database:
    return demo_site


def _sign_in(page: Any, server: str, username: str, path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/login?next={path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}{path}")


def _scan(page: Any, form: str, code: str) -> None:
    page.locator(f"{form} input[name=scan]").fill(code)
    page.locator(f"{form} button[type=submit]").click()


def test_dc_clerk_receives_a_pallet_by_sscc_and_ships_a_wave(
    server: str, browser_page: Any, db: Database
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    _sign_in(page, server, "dcclerk", "/dc/dock")
    pallet = demo_dc.supplier_sscc(1002)
    expect(page.locator("#expected")).to_contain_text(pallet)
    page.screenshot(path=SHOTS / "isom-dc-walk-dock-tablet.png", full_page=True)
    _scan(page, "#receive-form", f"(00){pallet}")
    expect(page.locator("#last-received")).to_contain_text(f"Pallet {pallet} received")
    expect(page.locator("#no-differences")).to_be_visible()
    assert db.read(lambda s: inbound.pallet_view(s, pallet)).received_by == "dcclerk"

    page.goto(f"{server}/dc/waves")
    dhl = next(w for w in db.read(waves.list_waves) if w.carrier == "DHL")
    page.goto(f"{server}/dc/waves?wave={dhl.number}")
    expect(page.locator("#wave-title")).to_contain_text("DHL")
    todo = [r for rows in dhl.zones.values() for r in rows if r.status == "open"]
    assert len(todo) == 3
    for row in todo:  # in walking order: zone by zone, location by location
        _scan(page, "#pick-form", row.container)
        expect(page.locator("#wave-message")).to_contain_text(f"into tote {row.tote}")
    page.screenshot(path=SHOTS / "isom-dc-walk-wave-tablet.png", full_page=True)
    page.locator("#pack-wave").click()
    expect(page.locator("#wave-message")).to_contain_text("packed:")
    page.locator("#ship-wave").click()
    expect(page.locator("#wave-message")).to_contain_text("shipped:")
    expect(page.locator("#wave-orders")).to_contain_text("despatch advice")
    assert db.read(lambda s: waves.wave_sheet(s, dhl.number)).status == "shipped"


def test_kitting_operator_picks_assembles_and_labels_a_kit(
    server: str, browser_page: Any, db: Database
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    _sign_in(page, server, "kitter", "/dc/kits")
    job = db.read(kits.open_vas_jobs)[0].work_order
    expect(page.locator("#kit-title")).to_contain_text(job)
    for case in (2007, 2008):  # the brackets and the kit boxes still to pick
        _scan(page, "#kit-pick-form", demo_dc.supplier_sscc(case))
        expect(page.locator("#kit-message")).to_contain_text(f"into {kits.tote_code(job)}")
    page.locator("#kit-start-form input[name=badge]").fill("B2002")
    page.locator("#kit-start-form button[type=submit]").click()
    expect(page.locator("#kit-message")).to_contain_text("started")
    page.locator("#kit-finish-form input[name=badge]").fill("B2002")
    page.locator("#kit-finish-form input[name=good_quantity]").fill("3")
    page.locator("#kit-finish-form button[type=submit]").click()
    expect(page.locator("#kit-message")).to_contain_text(f"lot {job}")
    expect(page.locator("#kit-output")).to_contain_text("label")
    expect(page.locator("#cost-per-unit")).to_be_visible()
    page.screenshot(path=SHOTS / "isom-dc-walk-kit-tablet.png", full_page=True)
    sheet = db.read(lambda s: kits.kit_sheet(s, job))
    assert len(sheet.output) == 1 and len(sheet.output[0]) == 18  # an SSCC: Elektro-Max wants GS1
