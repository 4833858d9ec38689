"""The `job.cost` message follows the scan: the projector writes it after the commit.

Scans go through the HTTP API of an app whose job-cost projector runs (as `isom serve` runs
it); the message lands in the outbox shortly after, and says what the job cost endpoint says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from isom.db import Database
from isom.integration import job_cost_feed
from isom.ledger.models import Outbox
from isom.web.app import create_app
from tests.builders import key, token
from tests.production.support import DAY, demo_masterdata, receive

API = "/api/v1"
HEADER = ("source", "event_key", "production_event_id", "kind", "occurred_at", "recorded_at")
HEADER += ("actor", "device", "part")


@pytest.fixture
def client(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    monkeypatch.setenv("ISOM_PROJECTORS", "on")
    with TestClient(create_app(db)) as c:
        assert c.app.state.job_cost_projector is not None  # type: ignore[attr-defined]
        yield c


def post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    r = client.post(
        f"{API}/production/{path}", json=body, headers={**headers, "Idempotency-Key": key()}
    )
    assert r.status_code == 201, r.text
    return r.json()


def cost_messages(db: Database) -> list[dict[str, Any]]:
    return db.read(
        lambda s: list(
            s.scalars(select(Outbox.payload).where(Outbox.topic == "job.cost").order_by(Outbox.id))
        )
    )


def wait_for_cost(db: Database, kind: str) -> dict[str, Any]:
    """The job.cost message of the last `kind` scan, once the projector has written it."""
    for _ in range(600):  # the projector runs in its own thread; give a busy machine time
        found = [m for m in cost_messages(db) if m["kind"] == kind]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no job.cost message after the {kind} scan")


def test_the_job_cost_message_arrives_after_a_consume_and_a_stop_and_equals_the_endpoint(
    client: TestClient, db: Database
) -> None:
    planner, operator = token(db, "planner"), token(db, "operator")
    wo = post(
        client,
        "work-orders",
        {"item": "LEAD-RD-300", "quantity": "10", "due_date": DAY.isoformat(), "release": True},
        planner,
    )["work_order"]
    post(
        client,
        "scan/start",
        {"badge": "B1001", "work_order": wo, "step": 10, "workstation": "CUT-1"},
        operator,
    )
    consume = {"work_order": wo, "step": 10, "container": "W-RD", "item": "WIRE-0.5-RD"}
    post(client, "scan/consume", {**consume, "quantity": "3.05"}, operator)
    after_consume = wait_for_cost(db, "consume")
    assert after_consume["work_order"] == wo and after_consume["actual"]["material"] == "0.61"

    post(
        client,
        "scan/stop",
        {"badge": "B1001", "work_order": wo, "step": 10, "good_quantity": "10"},
        operator,
    )
    message = wait_for_cost(db, "stop")
    answer = client.get(f"{API}/costing/jobs/{wo}", headers=token(db, "accountant"))
    assert answer.status_code == 200, answer.text
    assert {k: v for k, v in message.items() if k not in HEADER} == answer.json()
    assert message["status"] == "complete"
    assert [m["kind"] for m in cost_messages(db)] == ["consume", "stop"]
    assert not db.read(job_cost_feed.pending)


def test_a_queued_job_cost_survives_until_the_projector_runs(db: Database) -> None:
    """Nothing projects (a crash after the commit): the job waits in the queue; the next
    pass writes its message."""
    from tests.integration.test_production_feed import WO, run_job

    run_job(db, project=False)
    assert db.read(job_cost_feed.pending)
    assert cost_messages(db) == []
    assert job_cost_feed.project_all(db) == 3
    assert [m["kind"] for m in cost_messages(db)] == ["machine", "consume", "stop"]
    assert {m["work_order"] for m in cost_messages(db)} == {WO}
