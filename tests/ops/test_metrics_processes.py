"""Several worker processes on one store: with PROMETHEUS_MULTIPROC_DIR each writes its counters
there, and whichever worker Prometheus reaches answers with the sum of all of them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from isom.db import Database

pytestmark = pytest.mark.slow

WORKER = """
import sys
from fastapi.testclient import TestClient
from isom.web.app import create_app

client = TestClient(create_app())
for _ in range(int(sys.argv[1])):
    assert client.get("/healthz").status_code == 200
if sys.argv[2] == "scrape":
    r = client.get("/metrics", headers={"Authorization": "Bearer multi-7"})
    assert r.status_code == 200, r.text
    print(r.text)
"""


def _worker(env: dict[str, str], hits: int, scrape: bool = False) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", WORKER, str(hits), "scrape" if scrape else "-"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)


def test_any_worker_answers_with_the_requests_of_all(db: Database, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "ISOM_DATABASE_URL": db.url,
        "ISOM_METRICS_TOKEN": "multi-7",
    }
    assert _worker(env, 3).wait(120) == 0
    second = _worker(env, 4, scrape=True)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0
    counts = {
        s.labels["route"]: s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
        if s.name == "isom_http_request_duration_seconds_count"
    }
    assert counts["/healthz"] == 7
    assert "isom_store_up 1.0" in out
