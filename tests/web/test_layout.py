"""Every person's screens fit a 1024x768 tablet and a 390-pixel phone, and work by keyboard.

Walks the screens of isom.web.tour (the ones `scripts/screens.py` photographs) on the demo
plant: each page answers, nothing spills sideways out of the window, and Tab moves the focus
through visible controls.
"""

from __future__ import annotations

import pytest

from isom import demo
from isom.db import Database
from isom.web.tour import SCREENS

pytestmark = pytest.mark.browser

SIZES = {"tablet": (1024, 768), "phone": (390, 844)}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  return {tag: el.tagName, visible: box.width > 0 && box.height > 0};
}"""


def test_every_screen_fits_tablet_and_phone_and_takes_the_keyboard(
    db: Database, server: str, browser_page: object
) -> None:
    from playwright.sync_api import Page

    page = browser_page
    assert isinstance(page, Page)
    demo.load_if_empty(db)
    passwords = {user: password for user, password, _roles, _name in demo.ALL_USERS}
    problems: list[str] = []
    signed_in = None
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for screen in SCREENS:
            if screen.user != signed_in:
                page.context.clear_cookies()
                page.goto(f"{server}/login")
                page.get_by_label("User name").fill(screen.user)
                page.get_by_label("Password").fill(passwords[screen.user])
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(lambda url: "/login" not in url)
                signed_in = screen.user
            answer = page.goto(f"{server}{screen.path}")
            if answer is None or answer.status != 200:
                problems.append(f"{screen.name}: answered {answer and answer.status}")
                continue
            spill = page.evaluate(OVERFLOW)
            if spill > 1:
                problems.append(f"{screen.name} on a {size}: {spill} px wider than the window")
            page.locator("body").press("Tab")
            focus = page.evaluate(FOCUSED)
            if not focus or not focus["visible"]:
                problems.append(f"{screen.name} on a {size}: Tab focuses nothing visible")
    assert not problems, "\n".join(problems)
