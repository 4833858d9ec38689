"""One operator scan, one idempotency record, whichever door it came in by (HTTP or MQTT)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from isom.commands import Command
from isom.db import Database
from isom.devices.mqtt import IngestWorker
from isom.ledger.models import Event
from isom.production.models import ProductionEvent
from isom.web.app import create_app
from tests.builders import key, token
from tests.devices.mqtt_support import Device
from tests.devices.support import API, receive


@pytest.fixture
def client(db: Database, plant: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as c:
        yield c


def count(db: Database, model: Any) -> int:
    return int(db.read(lambda s: s.scalar(select(func.count()).select_from(model))))


def commands_of(db: Database, event_id: str) -> list[str]:
    """The keys recorded for one device event (its own and any derived key)."""
    return db.read(
        lambda s: list(s.scalars(select(Command.key).where(Command.key.contains(event_id))))
    )


def running_job(client: TestClient, db: Database, plant: dict[str, str]) -> str:
    """A released job whose first step Anna has started at CUT-1, with a reel beside it."""
    receive(db, "REEL-1", "WIRE-0.5-RD", "50", "WS-CUT-1", lot="W-1")
    r = client.post(
        f"{API}/production/work-orders",
        json={"item": "LEAD-RD-300", "quantity": "20", "due_date": "2026-12-01", "release": True},
        headers={**token(db, "planner"), "Idempotency-Key": key()},
    )
    job = f"{r.json()['work_order']}/10"
    start = {
        "device": "SCN-FLOOR",
        "kind": "scan",
        "eventID": str(uuid.uuid4()),
        "codes": ["B1001", job, "CUT-1"],
        "action": "start",
    }
    headers = {"Authorization": f"Bearer {plant['SCN-FLOOR']}"}
    assert client.post(f"{API}/devices/events", json=start, headers=headers).status_code == 201
    return job


def consume(job: str, event_id: str) -> dict[str, Any]:
    return {"eventID": event_id, "codes": [job, "REEL-1"], "action": "consume", "quantity": "6.1"}


def test_a_consume_scan_over_http_writes_one_idempotency_record(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    job = running_job(client, db, plant)
    before = (count(db, Command), count(db, ProductionEvent), count(db, Event))
    r = client.post(
        f"{API}/devices/events",
        json={"device": "SCN-FLOOR", "kind": "scan", **consume(job, "scan-http-1")},
        headers={"Authorization": f"Bearer {plant['SCN-FLOOR']}"},
    )
    assert r.status_code == 201, r.text
    after = (count(db, Command), count(db, ProductionEvent), count(db, Event))
    # one record for the scan; the production event and the ledger event it made are events
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]
    assert commands_of(db, "scan-http-1") == ["dev:SCN-FLOOR:scan-http-1"]


def test_a_consume_scan_over_mqtt_writes_one_idempotency_record(
    client: TestClient, db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    job = running_job(client, db, plant)
    before = count(db, Command)
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        payload = {**consume(job, "scan-mqtt-1"), "token": plant["SCN-FLOOR"]}
        device.publish("SCN-FLOOR", "scan", payload)
        device.publish("SCN-FLOOR", "scan", payload)  # the scanner's resend
        replies = device.wait(2)
    finally:
        worker.stop()
    assert [r["status"] for r in replies] == ["accepted", "replayed"]
    assert count(db, Command) == before + 1
    assert commands_of(db, "scan-mqtt-1") == ["dev:SCN-FLOOR:scan-mqtt-1"]
