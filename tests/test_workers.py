"""Several processes: `isom serve --workers N` on PostgreSQL and the long-running
`isom worker ...` processes beside it, started as a plant would start them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from isom.auth import cache
from isom.auth import services as auth_service
from isom.auth.models import ApiToken
from isom.db import Database
from isom.types import utcnow
from tests.conftest import STORE, fresh_database_url
from tests.test_serve import _free_port

ISOM = Path(sys.executable).with_name("isom")
pytestmark = pytest.mark.slow


def _start(args: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ISOM_DATABASE_URL": url,
        "PYTHONUNBUFFERED": "1",
        "ISOM_WORKER_TIMEOUT": "600",  # importing the app takes minutes on a busy machine
    }
    with log.open("wb") as out:
        return subprocess.Popen([str(ISOM), *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def _wait_for(process: subprocess.Popen[bytes], log: Path, ready: str, times: int = 1) -> None:
    deadline = time.monotonic() + 600  # imports and migrations are slow on a busy machine
    while log.read_text().count(ready) < times:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{ready!r} never came:\n{log.read_text()}")
        time.sleep(0.2)


def _answering_pids(log: Path, path: str) -> set[int]:
    """The processes that logged a request to `path` (one JSON object a line)."""
    pids = set()
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("path") == path:
                pids.add(entry["pid"])
    return pids


@pytest.mark.skipif(STORE != "sqlite", reason="the refusal concerns the SQLite store")
def test_several_api_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        done = subprocess.run(
            [str(ISOM), "serve", "--workers", "2", "--no-agents"],
            env={**os.environ, "ISOM_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=240,
        )

    assert done.returncode == 2
    assert "--workers needs PostgreSQL" in done.stderr


@pytest.mark.skipif(STORE != "postgresql", reason="several API processes need PostgreSQL")
def test_two_api_processes_answer_and_a_revocation_reaches_both(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        port, log = _free_port(), tmp_path / "serve.log"
        server = _start(["serve", "--workers", "2", "--port", str(port)], url, log)
        try:
            _wait_for(server, log, "Application startup complete", times=2)
            db = Database(url)
            secret, _ = db.write(
                lambda s: auth_service.create_api_token(s, name="two", roles=["clerk"])
            )
            me = f"http://127.0.0.1:{port}/api/v1/auth/me"
            bearer = {"Authorization": f"Bearer {secret}", "Connection": "close"}

            def ask(_: int) -> int:
                return httpx.get(me, headers=bearer, timeout=30).status_code

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(ask, range(80)))
            assert answers == [200] * 80
            assert len(_answering_pids(log, "/api/v1/auth/me")) == 2

            with db.engine.begin() as conn:  # revoked by another process: this one
                conn.execute(update(ApiToken).values(revoked_at=utcnow()))
            db.dispose()
            time.sleep(cache.TTL_SECONDS + 0.2)  # the stated bound, then every process refuses
            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(ask, range(40))) == {401}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    assert "agents and MQTT ingest are off" in log.read_text()


def test_the_feed_worker_starts_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with fresh_database_url(tmp_path) as url:
        log = tmp_path / "feed.log"
        worker = _start(["worker", "feed", "--idle-sleep", "0.2"], url, log)
        _wait_for(worker, log, "worker feed running")

        worker.send_signal(signal.SIGTERM)

        assert worker.wait(timeout=60) == 0
    assert "worker feed stopped" in log.read_text()
