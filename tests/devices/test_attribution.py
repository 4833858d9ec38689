"""Who recorded an event: a device only by its own token, never by an X-Device-Id anyone sets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.devices import services as devices
from isom.ledger import queries as ledger_queries
from isom.web.app import create_app
from tests.builders import token
from tests.devices.support import API, receive


@pytest.fixture
def client(db: Database, plant: dict[str, str]) -> Iterator[TestClient]:
    receive(db, "T-1", "TERM-JST", "10", "DOCK-IN")
    with TestClient(create_app(db)) as c:
        yield c


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def move(client: TestClient, headers: dict[str, str], to: str) -> tuple[int, dict[str, object]]:
    r = client.post(
        f"{API}/ledger/move",
        json={"container": "T-1", "to_location": to},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    return r.status_code, r.json()


def recorded_device(db: Database, event_id: object) -> str | None:
    return db.read(lambda s: ledger_queries.event(s, int(str(event_id)))).device


def test_a_header_never_makes_a_device(
    db: Database, plant: dict[str, str], client: TestClient
) -> None:
    clerk = token(db, "clerk")
    status, problem = move(client, {**clerk, "X-Device-Id": "SCN-FLOOR"}, "A-01")
    assert status == 403 and problem["field"] == "X-Device-Id"
    assert "only a device's own token" in str(problem["expected"])
    assert db.read(lambda s: ledger_queries.container(s, "T-1")).location == "DOCK-IN"
    status, result = move(client, clerk, "A-01")
    assert status == 201 and recorded_device(db, result["event_id"]) is None

    floor = plant["SCN-FLOOR"]
    status, problem = move(client, bearer(floor, **{"X-Device-Id": "SCN-RECV"}), "A-02")
    assert status == 403 and problem["expected"] == "no X-Device-Id, or 'SCN-FLOOR'"
    assert db.read(lambda s: ledger_queries.container(s, "T-1")).location == "A-01"
    status, result = move(client, bearer(floor, **{"X-Device-Id": "SCN-FLOOR"}), "A-02")
    assert status == 201 and recorded_device(db, result["event_id"]) == "SCN-FLOOR"


def test_a_device_token_records_its_own_device_even_after_rotation(
    db: Database, plant: dict[str, str], client: TestClient
) -> None:
    status, result = move(client, bearer(plant["SCN-RECV"]), "A-01")
    assert status == 201 and recorded_device(db, result["event_id"]) == "SCN-RECV"
    fresh = db.write(lambda s: devices.rotate_token(s, "SCN-RECV"))
    status, result = move(client, bearer(fresh), "A-02")
    assert status == 201 and recorded_device(db, result["event_id"]) == "SCN-RECV"
    r = client.post(
        f"{API}/devices/events",
        json={"kind": "scan", "eventID": "e-1", "codes": ["T-1"]},
        headers=bearer(fresh),
    )
    assert r.status_code == 201 and r.json()["device"] == "SCN-RECV"
