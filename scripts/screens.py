"""Photograph every person's screens on the demo plant into docs/screens/ (tablet and phone).

    .venv/bin/python scripts/screens.py [--out docs/screens]

Loads the demo into a scratch SQLite database, serves the app on a free local port and drives
Debian's headless Chromium with Playwright. Run it after a change to a page.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from rich.progress import Progress

from isom import demo, schema
from isom.db import Database
from isom.web.app import create_app
from isom.web.tour import SCREENS

SIZES = {"tablet": (1024, 768), "phone": (390, 844)}
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screens"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    passwords = {user: password for user, password, _roles, _name in demo.ALL_USERS}

    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/screens.db")
        schema.upgrade(db)
        demo.load_if_empty(db)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw, Progress() as progress:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            task = progress.add_task("screens", total=len(SCREENS) * len(SIZES))
            for size_name, (width, height) in SIZES.items():
                for screen in SCREENS:
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    page.goto(f"{base}/login?next={screen.path}")
                    page.get_by_label("User name").fill(screen.user)
                    page.get_by_label("Password").fill(passwords[screen.user])
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_load_state("networkidle")
                    shot = args.out / f"{screen.name}-{size_name}.png"
                    page.screenshot(path=shot, full_page=True)
                    context.close()
                    progress.advance(task)
            browser.close()
        server.should_exit = True
    print(f"{len(SCREENS) * len(SIZES)} screenshots in {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
