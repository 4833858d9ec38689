"""Device events over HTTP: the same payloads as MQTT, applied once, errors clear."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from isom.db import Database
from isom.devices import gs1
from isom.devices import services as devices
from isom.devices.models import DeviceMessage
from isom.ledger import queries as ledger_queries
from isom.ledger.models import Event
from isom.production.models import MachineRecord
from isom.web.app import create_app
from tests.builders import key, token
from tests.devices.support import ACTOR, API, receive

GS = gs1.GS


@pytest.fixture
def client(db: Database, plant: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as c:
        yield c


def send(client: TestClient, tokens: dict[str, str], device: str, kind: str, **body: Any) -> Any:
    body.setdefault("eventID", str(uuid.uuid4()))
    headers = {"Authorization": f"Bearer {tokens[device]}"}
    return client.post(
        f"{API}/devices/events", json={"device": device, "kind": kind, **body}, headers=headers
    )


def count(db: Database, model: Any) -> int:
    return int(db.read(lambda s: s.scalar(select(func.count()).select_from(model))))


def location_of(db: Database, code: str) -> str | None:
    return db.read(lambda s: ledger_queries.container(s, code)).location


def test_a_scanned_gs1_label_receives_the_container_at_the_scanners_dock(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    sscc = "040123450000001112"
    raw = "]C100" + sscc + "0204012345000016" + "3740" + GS + "10JOB-4711"
    r = send(client, plant, "SCN-RECV", "scan", codes=[raw], action="receive")
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted"
    view = db.read(lambda s: ledger_queries.container(s, sscc))
    assert view.location == "DOCK-IN"
    assert [(c.item, c.lot, c.quantity) for c in view.contents] == [
        ("CONN-M8-4F", "JOB-4711", Decimal(40))
    ]


def test_a_replayed_event_is_applied_once_and_a_reused_id_is_refused(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    body = {"eventID": "evt-1", "codes": ["T-1", "A-01"], "action": "move"}
    first = send(client, plant, "SCN-FLOOR", "scan", **body)
    events = count(db, Event)
    again = send(client, plant, "SCN-FLOOR", "scan", **body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "replayed"
    assert again.json()["result"] == first.json()["result"]
    assert count(db, Event) == events and location_of(db, "T-1") == "A-01"
    other = send(client, plant, "SCN-FLOOR", "scan", **{**body, "codes": ["T-1", "A-02"]})
    assert other.status_code == 409 and other.json()["field"] == "eventID"
    assert location_of(db, "T-1") == "A-01"


def test_malformed_or_wrong_scans_change_nothing(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"codes": ["T-1"], "action": "fly"}, 422, "action"),
        ({"codes": []}, 422, "codes"),
        ({"codes": ["T-1"], "extra": 1}, 422, "extra"),
        ({"codes": ["NOTHING", "A-01"], "action": "move"}, 404, "codes"),
        ({"codes": ["]C100040123450000001113"], "action": "receive"}, 422, "data"),
        ({"codes": ["T-1"], "eventID": "bad id"}, 422, "eventID"),
        ({"codes": ["T-1", "A-01"], "action": "start"}, 422, "codes"),
    ]
    before = (count(db, Event), count(db, DeviceMessage))
    for body, status, field in cases:
        r = send(client, plant, "SCN-FLOOR", "scan", **body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["field"] == field
    assert (count(db, Event), count(db, DeviceMessage)) == before


def test_unknown_device_and_a_token_of_another_device_are_refused(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    r = client.post(
        f"{API}/devices/events",
        json={"device": "GHOST", "kind": "scan", "eventID": "e1", "codes": ["A-01"]},
        headers={"Authorization": f"Bearer {plant['SCN-RECV']}"},
    )
    assert r.status_code == 404 and r.json()["field"] == "device"
    r = client.post(
        f"{API}/devices/events",
        json={"device": "SCN-FLOOR", "kind": "scan", "eventID": "e1", "codes": ["A-01"]},
        headers={"Authorization": f"Bearer {plant['SCN-RECV']}"},
    )
    assert r.status_code == 401 and r.json()["field"] == "token"
    r = client.post(
        f"{API}/devices/events",
        json={"device": "SCN-FLOOR", "kind": "scan", "eventID": "e1", "codes": ["A-01"]},
        headers=token(db, "clerk"),
    )
    assert r.status_code == 403


def test_rfid_portal_moves_read_containers_once_and_reports_strays(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    sscc = db.write(lambda s: devices.allocate_sscc(s, ACTOR, key(), "KW1")).sscc
    receive(db, sscc, "CONN-M8-4F", "40", "FG-01", lot="L1")
    receive(db, "BOX-9", "CORD-M8-2M", "1", "FG-01", lot="SN-77")
    epcs = [
        gs1.sscc_96(sscc, "4012345"),
        gs1.sscc_epc_uri(sscc, "4012345"),  # the same tag read twice, in two forms
        "urn:epc:id:sgtin:4012345.000003.SN-77",
        "urn:epc:id:sscc:4099999.0000000001",
    ]
    r = send(client, plant, "RFID-DOCK-OUT", "rfid", epcs=epcs)
    assert r.status_code == 201, r.text
    result = r.json()["result"]
    assert sorted(result["moved"]) == sorted([sscc, "BOX-9"])
    assert result["unknown"] == ["urn:epc:id:sscc:4099999.0000000001"]
    assert location_of(db, sscc) == location_of(db, "BOX-9") == "DOCK-OUT"
    again = send(client, plant, "RFID-DOCK-OUT", "rfid", epcs=epcs[:1])
    assert again.json()["result"]["already_there"] == [sscc]


def test_a_scale_weight_sets_the_quantity_of_the_weighed_item(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    receive(db, "DRUM-1", "ADHESIVE-UV", "5", "STORE", lot="UV-1")
    r = send(client, plant, "SCALE-STORE", "weight", container="DRUM-1", weight=4.875)
    assert r.status_code == 201, r.text
    assert r.json()["result"]["delta"] == "-0.125"
    view = db.read(lambda s: ledger_queries.container(s, "DRUM-1"))
    assert view.contents[0].quantity == Decimal("4.875")
    # Beyond the site's count tolerance (5 % by default) a device's weight waits for approval.
    r = send(client, plant, "SCALE-STORE", "weight", container="DRUM-1", weight=4.375)
    assert r.status_code == 201, r.text
    assert r.json()["result"]["pending"] is True and r.json()["result"]["delta"] == "-0.5"
    view = db.read(lambda s: ledger_queries.container(s, "DRUM-1"))
    assert view.contents[0].quantity == Decimal("4.875")
    receive(db, "T-2", "TERM-JST", "10", "STORE")
    r = send(client, plant, "SCALE-STORE", "weight", container="T-2", weight="1.2")
    assert r.status_code == 422 and "kg" in r.json()["detail"]


def test_machine_states_and_counts_become_machine_time_and_piece_counts(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    t0 = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
    r = send(client, plant, "CTRL-CUT-1", "machine", state="setup", occurred_at=t0.isoformat())
    assert r.status_code == 201, r.text
    later = (t0 + dt.timedelta(minutes=12)).isoformat()
    r = send(client, plant, "CTRL-CUT-1", "machine", state="run", pieces=25, occurred_at=later)
    assert r.json()["result"]["previous"] == "setup"
    r = send(client, plant, "CTRL-CUT-1", "machine", state="down", occurred_at=later)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    send(client, plant, "CTRL-CUT-1", "machine", pieces=15)
    records = db.read(
        lambda s: [
            (m.state.value, m.ended_at)
            for m in s.scalars(select(MachineRecord).order_by(MachineRecord.id))
        ]
    )
    assert records == [("setup", t0 + dt.timedelta(minutes=12)), ("run", None)]
    counts = client.get(f"{API}/devices/machine-counts", headers=token(db, "supervisor")).json()
    assert counts == [{"workstation": "CUT-1", "step": None, "pieces": "40"}]


def test_a_silent_controller_is_flagged(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    send(client, plant, "CTRL-CUT-1", "machine", state="idle")
    silent = client.get(f"{API}/devices?silent=true", headers=token(db, "supervisor")).json()
    assert sorted(d["code"] for d in silent) == ["CTRL-CRIMP-1", "CTRL-TEST-1"]


def test_a_job_step_runs_from_scans_and_its_controller(
    client: TestClient, db: Database, plant: dict[str, str]
) -> None:
    """Anna badges in at CUT-1, scans the reel into the step, the cutter runs and counts, and
    she stops the step with the good quantity: all as device events."""
    receive(db, "REEL-1", "WIRE-0.5-RD", "50", "WS-CUT-1", lot="W-1")
    r = client.post(
        f"{API}/production/work-orders",
        json={"item": "LEAD-RD-300", "quantity": "20", "due_date": "2026-12-01", "release": True},
        headers={**token(db, "planner"), "Idempotency-Key": key()},
    )
    job = f"{r.json()['work_order']}/10"
    start = send(client, plant, "SCN-FLOOR", "scan", codes=["B1001", job, "CUT-1"], action="start")
    assert start.status_code == 201, start.text
    assert start.json()["result"]["production"]["step_status"] == "running"
    run = send(client, plant, "CTRL-CUT-1", "machine", state="run", pieces=20)
    assert run.json()["result"]["step"] == job  # the count belongs to the running step
    consume = send(
        client, plant, "SCN-FLOOR", "scan", codes=[job, "REEL-1"], action="consume", quantity="6.1"
    )
    assert consume.status_code == 201, consume.text
    stop = send(
        client, plant, "SCN-FLOOR", "scan", codes=["B1001", job], action="stop", quantity="20"
    )
    assert stop.status_code == 201, stop.text
    assert stop.json()["result"]["production"]["step_status"] == "done"
    reel = db.read(lambda s: ledger_queries.container(s, "REEL-1"))
    assert reel.contents[0].quantity == Decimal("43.9")
    counts = client.get(
        f"{API}/devices/machine-counts?workstation=CUT-1", headers=token(db, "supervisor")
    ).json()
    assert counts == [{"workstation": "CUT-1", "step": job, "pieces": "20"}]
