"""kill -9 of a real `isom serve` during a burst of keyed moves under group commit.

A caller is answered only once the transaction holding its event is durable, so whatever was
acknowledged before the kill is there after a restart, and resending every move replays the
acknowledged ones and applies the rest once. On PostgreSQL two API processes serve the burst,
each with its own writer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from isom import schema
from isom.commands import Command
from isom.db import Database
from isom.ledger.models import Event, EventKind
from tests.builders import plant, token
from tests.conftest import STORE, fresh_database_url
from tests.ledger.support import receive
from tests.test_serve import ISOM, Server, _free_port, _wait_until_up

CONTAINERS = 160
KILL_AFTER = 40  # acknowledged moves before the kill


@contextmanager
def serving(url: str, log: Path) -> Iterator[Server]:
    """`isom serve` on `url` in its own process group, killed with SIGKILL at the end."""
    port = _free_port()
    workers = ["--workers", "2"] if STORE == "postgresql" else []
    env = {**os.environ, "ISOM_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(ISOM), "serve", "--no-agents", "--no-mqtt", "--port", str(port), *workers],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        kill(server)


def kill(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=20)


def move(server: Server, headers: dict[str, str], n: int) -> tuple[int, dict[str, Any]]:
    try:
        r = httpx.post(
            f"{server.url}/api/v1/ledger/move",
            json={"container": f"K{n}", "to_location": "BIN-2"},
            headers={**headers, "Idempotency-Key": f"move-{n}"},
            timeout=60,
        )
    except httpx.TransportError:
        return 0, {}  # the server died before it answered: not acknowledged
    return r.status_code, r.json()


@pytest.mark.slow
def test_every_acknowledged_move_survives_a_kill_and_each_key_applies_once(
    tmp_path: Path,
) -> None:
    with fresh_database_url(tmp_path) as url:
        db = Database(url)
        schema.upgrade(db)
        plant(db)
        headers = token(db, "supervisor")
        for n in range(CONTAINERS):
            receive(db, f"K{n}", quantity="5")
        acknowledged: dict[int, int] = {}
        enough = threading.Event()

        with serving(url, tmp_path / "serve.log") as server:

            def burst(n: int) -> None:
                status, body = move(server, headers, n)
                if status == 201:
                    acknowledged[n] = body["event_id"]
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()

            with ThreadPoolExecutor(16) as pool:
                pool.submit(lambda: enough.wait(300) and kill(server))
                list(pool.map(burst, range(CONTAINERS)))
            assert server.process.returncode == -signal.SIGKILL, "killed mid-burst"
        assert len(acknowledged) >= KILL_AFTER

        with serving(url, tmp_path / "serve.log") as server:
            with ThreadPoolExecutor(16) as pool:
                resent = list(pool.map(lambda n: move(server, headers, n), range(CONTAINERS)))

        for n, (status, body) in enumerate(resent):
            if n in acknowledged:
                assert (status, body["event_id"], body["replayed"]) == (
                    200,
                    acknowledged[n],
                    True,
                ), n
            else:
                assert status in (200, 201), (n, status, body)

        def moves(s: Any) -> tuple[int, int]:
            events = s.scalar(select(func.count()).where(Event.kind == EventKind.move)) or 0
            keys = s.scalar(select(func.count()).where(Command.key.like("move-%"))) or 0
            return events, keys

        assert db.read(moves) == (CONTAINERS, CONTAINERS), "each key applied once"
        db.dispose()
        verified = subprocess.run(
            [str(ISOM), "ledger", "verify"],
            env={**os.environ, "ISOM_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
