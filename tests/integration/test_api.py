"""The integration endpoints over HTTP: roles, the pull feed, subscribers, EPCIS, B2MML, CSV."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.builders import token
from tests.integration.conftest import story

API = "/api/v1"


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


def test_roles_guard_every_endpoint(pdb: Database, client: TestClient) -> None:
    clerk = token(pdb, "clerk")
    integrator = token(pdb, "integrator")
    reads = [
        "/feed",
        "/epcis/events",
        "/b2mml/material-lots",
        "/export/inventory.csv",
        "/export/feed.csv",
    ]
    for path in reads:
        assert client.get(API + path).status_code == 401, path
        assert client.get(API + path, headers=clerk).status_code == 403, path
    assert client.get(API + "/feed/subscribers", headers=integrator).status_code == 403
    body = {"name": "erp", "url": "http://127.0.0.1:9/x"}
    denied = client.post(API + "/feed/subscribers", json=body, headers=integrator)
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")


def test_pull_feed_over_http(pdb: Database, client: TestClient) -> None:
    story(pdb)
    headers = token(pdb, "integrator")
    seen: list[str] = []
    after = 0
    while True:
        r = client.get(f"{API}/feed", params={"after": after, "limit": 9}, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [m["id"] for m in page["messages"]]
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) > 20
    r = client.get(f"{API}/feed", params={"after": -1}, headers=headers)
    assert r.status_code == 422
    r = client.get(f"{API}/feed", params={"topic": "ledger.ship"}, headers=headers)
    assert [m["topic"] for m in r.json()["messages"]] == ["ledger.ship"]


def test_subscriber_management_as_admin(pdb: Database, client: TestClient) -> None:
    admin = token(pdb, "admin")
    body = {"name": "erp", "url": "http://127.0.0.1:9/x", "topics": ["inventory.*"]}
    created = client.post(API + "/feed/subscribers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert len(created.json()["secret"]) >= 16
    again = client.post(API + "/feed/subscribers", json=body, headers=admin)
    assert again.status_code == 409 and again.json()["field"] == "name"
    listed = client.get(API + "/feed/subscribers", headers=admin).json()
    assert [s["name"] for s in listed] == ["erp"] and listed[0]["secret"] is None
    assert client.post(API + "/feed/subscribers/erp/pause", headers=admin).json()["paused"]
    assert not client.post(API + "/feed/subscribers/erp/resume", headers=admin).json()["paused"]
    r = client.post(API + "/feed/subscribers/erp/replay", json={"after": 0}, headers=admin)
    assert r.json()["cursor"] == 0
    assert client.get(API + "/feed/subscribers/erp/dead-letters", headers=admin).json() == []
    missing = client.post(API + "/feed/subscribers/nobody/pause", headers=admin)
    assert missing.status_code == 404
    bad = client.post(
        API + "/feed/subscribers", json={**body, "name": "b", "url": "x"}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["field"] == "url" and bad.json()["expected"]
    assert client.delete(API + "/feed/subscribers/erp", headers=admin).status_code == 204


def test_epcis_b2mml_and_csv_over_http(pdb: Database, client: TestClient) -> None:
    story(pdb)
    headers = token(pdb, "integrator")
    r = client.get(API + "/epcis/events", params={"EQ_bizStep": "receiving"}, headers=headers)
    assert r.status_code == 200 and r.headers["GS1-EPCIS-Version"] == "2.0.0"
    events = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events and {e["bizStep"] for e in events} == {"receiving"}
    r = client.get(API + "/epcis/events", params={"perPage": 3}, headers=headers)
    assert 'rel="next"' in r.headers["Link"]
    r = client.get(API + "/epcis/events", params={"eventType": "Nope"}, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "eventType"
    r = client.get(API + "/b2mml/material-lots", headers=headers)
    assert r.status_code == 200 and "<SyncMaterialLot" in r.text
    r = client.get(API + "/export/inventory.csv", headers=headers)
    assert r.status_code == 200 and r.text.startswith("item,item_name,unit,location")
    r = client.get(API + "/export/feed.csv", headers=headers)
    assert r.status_code == 200 and r.text.startswith("seq,message_id")
