"""Counts and the site's tolerance: a clerk's count beyond it is a proposal, not a change; a
supervisor's approval applies it once; the rule and who may exceed it are set per site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.ledger.verify import verify
from isom.web.app import create_app
from tests.builders import key, token

API = "/api/v1/ledger"


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


def call(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"{API}/{path}", json=body, headers={**headers, "Idempotency-Key": key()})


def held(client: TestClient, code: str, headers: dict[str, str]) -> str:
    got = client.get(f"/api/v1/containers/{code}", headers=headers).json()
    return str(got["contents"][0]["quantity"]) if got["contents"] else "0"


def receive_97(client: TestClient, headers: dict[str, str]) -> None:
    body = {
        "container": "R1",
        "location": "BIN-1",
        "supplier": "SUP",
        "lines": [{"item": "WIRE", "lot": {"code": "L1"}, "quantity": "97", "unit_cost": "0.1"}],
    }
    assert call(client, "receive", body, headers).status_code == 201


def count(quantity: str) -> dict[str, Any]:
    return {"container": "R1", "item": "WIRE", "lot": "L1", "counted_quantity": quantity}


def test_a_count_beyond_tolerance_waits_for_a_supervisor_who_applies_it_once(
    client: TestClient, pdb: Database
) -> None:
    clerk, boss = token(pdb, "clerk"), token(pdb, "supervisor")
    receive_97(client, clerk)
    # Within the default 5 %: applied at once.
    r = call(client, "count", count("95"), clerk)
    assert r.status_code == 201 and r.json()["detail"]["delta"] == "-2"
    assert held(client, "R1", clerk) == "95"
    # 1 counted of 95: a delta of -94 is a proposal; nothing in the container changes.
    idem = key()
    headers = {**clerk, "Idempotency-Key": idem}
    r = client.post(f"{API}/count", json=count("1"), headers=headers)
    assert r.status_code == 202, r.text
    detail = r.json()["detail"]
    assert detail["pending"] is True and detail["status"] == "awaiting approval"
    assert (detail["book"], detail["counted"], detail["delta"]) == ("95", "1", "-94")
    assert r.json()["lines"] == []
    assert held(client, "R1", clerk) == "95"
    again = client.post(f"{API}/count", json=count("1"), headers=headers)
    assert again.status_code == 202 and again.json()["detail"]["proposal"] == detail["proposal"]
    listed = client.get(f"{API}/count-proposals", headers=clerk).json()
    assert [(p["id"], p["container"], p["delta"], p["status"]) for p in listed] == [
        (detail["proposal"], "R1", "-94", "pending")
    ]
    # A clerk may not approve; a supervisor does, once.
    path = f"{API}/count-proposals/{detail['proposal']}/approve"
    assert call(client, path[len(API) + 1 :], {}, clerk).status_code == 403
    first = call(client, path[len(API) + 1 :], {}, boss)
    assert first.status_code == 201, first.text
    assert first.json()["detail"]["quantity"] == "1"
    second = call(client, path[len(API) + 1 :], {}, boss)
    assert second.status_code == 200 and second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["event_id"] == first.json()["event_id"]
    assert held(client, "R1", clerk) == "1"
    assert client.get(f"{API}/count-proposals", headers=clerk).json() == []
    reject = call(client, f"count-proposals/{detail['proposal']}/reject", {"reason": "x"}, boss)
    assert reject.status_code == 409 and reject.json()["field"] == "proposal"
    assert pdb.read(lambda s: verify(s).ok)


def test_a_rejected_count_changes_nothing_and_a_supervisor_counts_beyond_tolerance(
    client: TestClient, pdb: Database
) -> None:
    clerk, boss = token(pdb, "clerk"), token(pdb, "supervisor")
    receive_97(client, clerk)
    proposal = call(client, "count", count("3"), clerk).json()["detail"]["proposal"]
    r = call(client, f"count-proposals/{proposal}/reject", {"reason": "recount"}, boss)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    approve = call(client, f"count-proposals/{proposal}/approve", {}, boss)
    assert approve.status_code == 409
    assert held(client, "R1", clerk) == "97"
    # A supervisor's own count applies directly, whatever the difference.
    r = call(client, "count", count("3"), boss)
    assert r.status_code == 201 and held(client, "R1", clerk) == "3"


def test_the_tolerance_and_who_may_exceed_it_are_set_per_site(
    client: TestClient, pdb: Database
) -> None:
    clerk, admin = token(pdb, "clerk"), token(pdb, "admin")
    receive_97(client, clerk)
    rule = client.get(f"{API}/count-rules/SITE", headers=clerk).json()
    assert rule == {
        "site": "SITE",
        "tolerance_quantity": "0",
        "tolerance_percent": "5",
        "exceed_roles": ["supervisor"],
        "default": True,
    }
    body = {"tolerance_quantity": "10", "tolerance_percent": "0", "exceed_roles": ["clerk"]}
    assert client.put(f"{API}/count-rules/SITE", json=body, headers=clerk).status_code == 403
    r = client.put(f"{API}/count-rules/SITE", json=body, headers=admin)
    assert r.status_code == 200 and r.json()["default"] is False
    bad = client.put(
        f"{API}/count-rules/SITE", json={**body, "exceed_roles": ["boss"]}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["field"] == "exceed_roles"
    # Clerks may now exceed the tolerance at this site; a device may not.
    assert call(client, "count", count("2"), clerk).status_code == 201
    device = token(pdb, "device")
    r = call(client, "count", count("50"), device)
    assert r.status_code == 202 and held(client, "R1", clerk) == "2"
    assert call(client, "count", count("12"), device).status_code == 201  # within 10
