"""Production through HTTP, as a scanner, a planner's screen and the accountant would call it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.builders import key, poster, token
from tests.production.support import DAY, demo_masterdata, receive, snapshot

API = "/api/v1"


@pytest.fixture
def pdb(db: Database) -> Database:
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    return db


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


post = poster(f"{API}/production")


def released(client: TestClient, pdb: Database) -> str:
    r = post(
        client,
        "work-orders",
        {"item": "LEAD-RD-300", "quantity": "10", "due_date": DAY.isoformat(), "release": True},
        token(pdb, "planner"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["work_order"])


def test_planner_releases_clerk_and_operator_cannot(client: TestClient, pdb: Database) -> None:
    body = {"item": "LEAD-RD-300", "quantity": "10", "due_date": DAY.isoformat()}
    for role in ("clerk", "operator", "accountant"):
        assert post(client, "work-orders", body, token(pdb, role)).status_code == 403
    r = post(client, "work-orders", body, token(pdb, "planner"))
    assert r.status_code == 201 and r.json()["work_order_status"] == "planned"
    r = post(
        client,
        "work-orders/release",
        {"work_order": r.json()["work_order"]},
        token(pdb, "supervisor"),
    )
    assert r.status_code == 201 and r.json()["work_order_status"] == "released"


def test_operator_starts_consumes_and_stops_a_clerk_cannot(
    client: TestClient, pdb: Database
) -> None:
    wo = released(client, pdb)
    operator, clerk = token(pdb, "operator"), token(pdb, "clerk")
    start = {"badge": "B1001", "work_order": wo, "step": 10, "workstation": "CUT-1"}
    before = snapshot(pdb)
    r = post(client, "scan/start", start, clerk)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert snapshot(pdb) == before
    r = post(client, "scan/start", start, operator, idem="start-1")
    assert r.status_code == 201, r.text
    replay = post(client, "scan/start", start, operator, idem="start-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    r = post(
        client,
        "scan/consume",
        {
            "work_order": wo,
            "step": 10,
            "container": "W-RD",
            "item": "WIRE-0.5-RD",
            "quantity": "3.05",
        },
        operator,
    )
    assert r.status_code == 201, r.text
    stop = {"badge": "B1001", "work_order": wo, "step": 10, "good_quantity": "10"}
    assert post(client, "scan/stop", stop, clerk).status_code == 403
    r = post(client, "scan/stop", stop, operator)
    assert r.status_code == 201, r.text
    assert r.json()["work_order_status"] == "complete"
    cost = client.get(f"{API}/costing/jobs/{wo}", headers=token(pdb, "accountant"))
    assert cost.status_code == 200, cost.text
    assert cost.json()["actual"]["material"] == "0.61"
    assert client.get(f"{API}/costing/jobs/{wo}", headers=clerk).status_code == 403
    assert client.get(f"{API}/costing/jobs/WO-9", headers=token(pdb, "planner")).status_code == 404


def test_bad_scans_answer_4xx_with_the_field_and_change_nothing(
    client: TestClient, pdb: Database
) -> None:
    wo = released(client, pdb)
    operator = token(pdb, "operator")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (
            "scan/start",
            {"badge": "B1002", "work_order": wo, "step": 10, "workstation": "CUT-1"},
            409,
            "badge",
        ),
        (
            "scan/start",
            {"badge": "B1001", "work_order": wo, "step": 10, "workstation": "ASSY-1"},
            409,
            "workstation",
        ),
        (
            "scan/start",
            {"badge": "B1001", "work_order": wo, "step": 30, "workstation": "CUT-1"},
            404,
            "step",
        ),
        (
            "scan/consume",
            {
                "work_order": wo,
                "step": 10,
                "container": "W-RD",
                "item": "WIRE-0.5-RD",
                "quantity": "1",
            },
            409,
            "step",
        ),
        ("machine-state", {"workstation": "CUT-1", "state": "down"}, 422, "reason"),
    ]
    for path, body, status, field in cases:
        before = snapshot(pdb)
        r = post(client, path, body, operator)
        assert r.status_code == status, (path, r.text)
        assert r.json()["field"] == field, r.json()
        assert snapshot(pdb) == before
    r = post(client, "scan/start", {"badge": "B1001", "work_order": wo, "step": 10}, operator)
    assert r.status_code == 422
    r = client.post(f"{API}/production/scan/start", json={"badge": "B1001"}, headers=operator)
    assert r.status_code == 422


def test_wip_board_stream_and_page(client: TestClient, pdb: Database, server: str) -> None:
    wo = released(client, pdb)
    supervisor = token(pdb, "supervisor")
    board = client.get(f"{API}/production/wip", headers=supervisor)
    assert board.status_code == 200
    job = next(j for j in board.json()["jobs"] if j["work_order"] == wo)
    assert job["current_step"] == 10 and job["late"] is True
    assert wo + "/10" in board.json()["queues"]["CUT-1"]
    # A real server: the stream never ends by itself, it ends when the client goes away.
    with httpx.stream(
        "GET", f"{server}{API}/production/wip/stream", headers=supervisor, timeout=60
    ) as r:
        assert r.status_code == 200
        text = ""
        for chunk in r.iter_text():
            text += chunk
            if "\n\n" in text:
                break
    assert text.startswith("event: wip\ndata: ") and wo in text
    page = client.get("/wip", headers=supervisor)
    assert page.status_code == 200 and wo in page.text and "/static/wip.js" in page.text
    assert "EventSource" in client.get("/static/wip.js").text
    assert client.get(f"{API}/production/wip", headers=token(pdb, "device")).status_code == 403
    r = client.post(
        f"{API}/production/machine-state",
        json={"workstation": "CUT-1", "state": "run"},
        headers={**token(pdb, "device"), "Idempotency-Key": key()},
    )
    assert r.status_code == 201


def test_a_refused_start_resent_with_its_key_is_refused_again_after_the_cause_is_gone(
    client: TestClient, pdb: Database
) -> None:
    """The operator saw "refused": a scanner's resend of that scan must not clock them on."""
    planner, operator = token(pdb, "planner"), token(pdb, "operator")
    body = {"item": "LEAD-RD-300", "quantity": "10", "due_date": DAY.isoformat()}
    wo = post(client, "work-orders", body, planner).json()["work_order"]
    start = {"badge": "B1001", "work_order": wo, "step": 10, "workstation": "CUT-1"}
    first = post(client, "scan/start", start, operator, idem="start-early")
    assert first.status_code == 409, first.text  # the job is not released yet
    released_now = post(client, "work-orders/release", {"work_order": wo}, token(pdb, "supervisor"))
    assert released_now.status_code == 201, released_now.text
    resend = post(client, "scan/start", start, operator, idem="start-early")
    assert (resend.status_code, resend.json()) == (first.status_code, first.json())
    assert resend.headers["content-type"].startswith("application/problem+json")
    other_body = post(
        client, "scan/start", {**start, "workstation": "CUT-2"}, operator, "start-early"
    )
    assert other_body.status_code == 409 and other_body.json()["field"] == "Idempotency-Key"
    fresh = post(client, "scan/start", start, operator)  # a new scan is a new request
    assert fresh.status_code == 201, fresh.text
