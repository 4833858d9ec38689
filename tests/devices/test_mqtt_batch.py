"""The batch MQTT message: a device's queue of scans in one message, each answered in order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from isom.commands import Command
from isom.db import Database
from isom.devices.models import DeadLetter
from isom.devices.mqtt import IngestWorker
from isom.ledger import queries as ledger_queries
from isom.ledger.models import Event
from tests.devices.mqtt_support import Device, count
from tests.devices.support import receive


def scan(event_id: str, *codes: str) -> dict[str, Any]:
    return {"eventID": event_id, "codes": list(codes), "action": "move"}


def where(db: Database, code: str) -> str:
    return db.read(lambda s: ledger_queries.container(s, code)).location


def test_each_scan_of_a_batch_is_answered_in_order_and_a_bad_one_alone(
    db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    receive(db, "T-2", "TERM-JST", "50", "DOCK-IN")
    batch = {
        "token": plant["SCN-FLOOR"],
        "events": [
            scan("q-1", "T-1", "A-01"),
            {"eventID": "q-2", "action": "move"},  # no codes
            scan("q-3", "T-2", "A-02"),
            "not an event",
            scan("q-5", "T-2", "NO-SUCH-LABEL"),
            scan("q-6", "T-1", "A-02"),
        ],
    }
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        device.publish("SCN-FLOOR", "batch", batch)
        first = device.wait(6)
        events, commands = count(db, Event), count(db, Command)
        device.publish("SCN-FLOOR", "batch", batch)  # the device did not hear back: resends
        replies = device.wait(12)
    finally:
        worker.stop()

    assert [(r["eventID"], r["status"]) for r in first] == [
        ("q-1", "accepted"),
        ("q-2", "rejected"),
        ("q-3", "accepted"),
        (None, "rejected"),
        ("q-5", "rejected"),
        ("q-6", "accepted"),
    ]
    assert first[1]["error"]["field"] == "codes"
    assert first[3]["error"]["field"] == "events"
    assert first[4]["error"]["status"] == 404 and "NO-SUCH-LABEL" in first[4]["error"]["detail"]
    assert first[0]["result"]["location"] == "A-01" and first[5]["result"]["location"] == "A-02"
    assert where(db, "T-1") == "A-02" and where(db, "T-2") == "A-02", "applied in order"
    assert events == 2 + 3 and commands == 2 + 4, "three moves; the refused q-5 is kept too"

    again = replies[6:]
    assert [r["status"] for r in again] == [
        "replayed",
        "rejected",
        "replayed",
        "rejected",
        "rejected",
        "replayed",
    ]
    assert again[0]["result"] == first[0]["result"] and again[4]["error"] == first[4]["error"]
    assert (count(db, Event), count(db, Command)) == (events, commands), "nothing applied twice"
    letters = db.read(
        lambda s: s.scalar(select(func.count()).where(DeadLetter.topic.like("%/SCN-FLOOR/batch")))
    )
    assert letters == 6, "each refused scan is kept as a dead letter, not the whole message"


def test_a_batch_that_is_not_a_list_of_events_is_refused_whole(
    db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        device.publish("SCN-FLOOR", "batch", {"token": plant["SCN-FLOOR"], "events": {}})
        replies = device.wait(1)
    finally:
        worker.stop()
    assert replies[0]["status"] == "rejected" and replies[0]["error"]["field"] == "events"
    assert count(db, Event) == 0
