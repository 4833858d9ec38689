"""MQTT ingest against the real Mosquitto: publish, redeliver, bad payloads, a dropped worker."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from isom.db import Database
from isom.devices.models import DeadLetter, DeviceMessage
from isom.devices.mqtt import IngestWorker
from isom.ledger import queries as ledger_queries
from isom.ledger.models import Event
from tests.devices.mqtt_support import Device, count
from tests.devices.support import receive


def move(plant: dict[str, str], n: int, event_id: str | None = None) -> dict[str, Any]:
    return {
        "eventID": event_id or f"mv-{n}",
        "token": plant["SCN-FLOOR"],
        "codes": ["T-1", "A-01" if n % 2 == 0 else "A-02"],
        "action": "move",
    }


def test_publish_redeliver_and_every_error_answered(
    db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        device.publish("SCN-FLOOR", "scan", move(plant, 0))
        device.publish("SCN-FLOOR", "scan", move(plant, 0))  # redelivered by the device
        device.publish("SCN-FLOOR", "scan", b"{not json")
        device.publish("SCN-FLOOR", "scan", {"eventID": "e-2", "codes": ["T-1"], "token": "isom_x"})
        device.publish("GHOST", "scan", {"eventID": "e-3", "codes": ["T-1"], "token": "isom_x"})
        device.publish("SCN-FLOOR", "scan", {"eventID": "e-4", "token": plant["SCN-FLOOR"]})
        device.publish(
            "CTRL-CUT-1", "machine", {"eventID": "e-5", "token": plant["SCN-FLOOR"], "state": "run"}
        )
        replies = device.wait(7)
    finally:
        worker.stop()
    moves = [r["status"] for r in replies if r["eventID"] == "mv-0"]
    assert moves == ["accepted", "replayed"]  # one device's events apply in order
    errors = {(r["device"], r["eventID"]): r["error"] for r in replies if r["status"] == "rejected"}
    assert errors[("SCN-FLOOR", None)]["field"] == "payload"
    assert errors[("SCN-FLOOR", "e-2")]["status"] == 401
    assert errors[("GHOST", "e-3")]["status"] == 404
    assert errors[("SCN-FLOOR", "e-4")]["field"] == "codes"
    assert errors[("CTRL-CUT-1", "e-5")]["field"] == "token"
    assert db.read(lambda s: ledger_queries.container(s, "T-1")).location == "A-01"
    assert count(db, Event) == 2  # the receive and one move
    dead = db.read(lambda s: list(s.scalars(select(DeadLetter.payload).order_by(DeadLetter.id))))
    assert len(dead) == 5
    assert "isom_" not in "".join(dead)  # tokens are blanked before a payload is kept
    time.sleep(0.2)
    assert len(device.dead) == 5


def test_a_dropped_worker_loses_nothing_and_applies_nothing_twice(
    db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    worker = IngestWorker(db, client_id=worker_id).start()
    total = 40
    for n in range(total):
        device.publish("SCN-FLOOR", "scan", move(plant, n))
        if n == 12:
            worker.stop()  # the ingest client drops mid-stream
    assert worker.handled < total
    again = IngestWorker(db, client_id=worker_id).start()
    try:
        end = time.monotonic() + 30
        while count(db, DeviceMessage) < total and time.monotonic() < end:
            time.sleep(0.05)
        replies = device.wait(total)
    finally:
        again.stop()
    assert count(db, DeviceMessage) == total
    assert count(db, Event) == total + 1  # one move per event, plus the receive
    answered = {r["eventID"] for r in replies if r["status"] in ("accepted", "replayed")}
    assert answered == {f"mv-{n}" for n in range(total)}
    assert db.read(lambda s: ledger_queries.container(s, "T-1")).location == "A-02"


def test_the_app_runs_the_worker_when_asked(
    db: Database,
    plant: dict[str, str],
    device: Device,
    worker_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fastapi.testclient import TestClient

    from isom.web.app import create_app

    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    monkeypatch.setenv("ISOM_MQTT_INGEST", "1")
    monkeypatch.setenv("ISOM_MQTT_CLIENT_ID", worker_id)
    with TestClient(create_app(db)):
        device.publish("SCN-FLOOR", "scan", move(plant, 1))
        [answer] = device.wait(1)
    assert answer["status"] == "accepted"
    assert db.read(lambda s: ledger_queries.container(s, "T-1")).location == "A-02"


def test_the_simulator_drives_the_plant_through_the_broker(
    db: Database, plant: dict[str, str], worker_id: str
) -> None:
    from rich.console import Console

    from isom.devices.models import MachineCount
    from isom.devices.simulate import run
    from isom.production.models import MachineRecord

    receive(db, "R-1", "TERM-JST", "500", "A-01")
    receive(db, "R-2", "CONN-JST-2", "200", "B-01")
    receive(db, "DRUM-1", "ADHESIVE-UV", "5", "A-03", lot="UV-1")
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        answers = run(db, events=60, rate=400, seed=7, console=Console(quiet=True))
    finally:
        worker.stop()
    assert answers["accepted"] == 60 and answers["rejected"] == 0
    assert count(db, DeviceMessage) == 60
    assert count(db, MachineRecord) > 0 and count(db, MachineCount) > 0
