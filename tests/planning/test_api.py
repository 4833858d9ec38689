"""Planning through HTTP: a planner's projection, chart page, net requirements and schedule."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.agents.support import TODAY, customer_order, day, demo_masterdata, receive
from tests.builders import token

API = "/api/v1/planning"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    demo_masterdata(db)
    receive(db, "FG-1", "HARN-JST-300", "30", "0.50", "FG-01", lot="H1")
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "50", day(7))])
    with TestClient(create_app(db)) as c:
        yield c


def test_projection_of_an_item_with_its_shortage(client: TestClient, db: Database) -> None:
    r = client.get(f"{API}/items/HARN-JST-300/projection", headers=token(db, "planner"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["on_hand"], body["end_quantity"], body["unit"]) == ("30", "-20", "ea")
    assert body["first_shortage_date"] == day(7).isoformat()
    assert [(e["ref"], e["balance"]) for e in body["entries"]] == [
        ("on hand", "30"),
        ("SO-1/1", "-20"),
    ]
    assert [(p["supply"], p["quantity"]) for p in body["pegging"]] == [
        ("on hand", "30"),
        (None, "20"),
    ]


def test_errors_name_the_field_and_every_call_needs_a_reader(
    client: TestClient, db: Database
) -> None:
    r = client.get(f"{API}/items/NOPE/projection", headers=token(db, "planner"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "item"
    assert client.get(f"{API}/items/HARN-JST-300/projection").status_code == 401
    assert client.get(f"{API}/shortages", headers=token(db, "device")).status_code == 403
    r = client.get(f"{API}/schedule?learned=perhaps", headers=token(db, "planner"))
    assert r.status_code == 422 and r.json()["field"] == "learned"
    assert client.post(f"{API}/refresh", headers=token(db, "clerk")).status_code == 403


def test_refresh_then_shortages_and_net_requirements(client: TestClient, db: Database) -> None:
    planner = token(db, "planner")
    r = client.post(f"{API}/refresh?full=true", headers=planner)
    assert r.status_code == 200 and r.json() == {"full": True, "items": 1}
    assert [
        (x["item"], x["shortage_quantity"])
        for x in client.get(f"{API}/shortages", headers=planner).json()
    ] == [("HARN-JST-300", "20")]
    net = client.get(f"{API}/net-requirements?today={TODAY}", headers=planner).json()
    made = {(p["item"], p["action"]): p["quantity"] for p in net["planned"]}
    assert made[("HARN-JST-300", "make")] == "20"
    assert made[("LEAD-RD-300", "make")] == "20"
    assert made[("CONN-JST-2", "buy")] == "40"


def test_the_chart_page_embeds_the_figure_and_serves_plotly(
    client: TestClient, db: Database
) -> None:
    reader = token(db, "supervisor")
    page = client.get("/planning/items/HARN-JST-300", headers=reader)
    assert page.status_code == 200
    found = re.search(
        r'<script id="projection-figure" type="application/json"[^>]*>(.*?)</script>',
        page.text,
        re.S,
    )
    assert found is not None
    figure = json.loads(found.group(1))
    balance = figure["data"][0]
    assert balance["name"] == "projected on hand" and balance["y"] == [30, -20]
    assert "HARN-JST-300" in figure["layout"]["title"]["text"]
    assert 'id="first-shortage">' + day(7).isoformat() in page.text
    js = client.get("/charts/plotly.min.js", headers=reader)
    assert js.status_code == 200 and "plotly" in js.text[:2000].lower()
    assert client.get("/planning/items/NOPE", headers=reader).status_code == 404
    listing = client.get("/planning", headers=reader)
    assert listing.status_code == 200


def test_schedule_answers_every_open_step(client: TestClient, db: Database) -> None:
    planner = token(db, "planner")
    body = {
        "item": "LEAD-RD-300",
        "quantity": "100",
        "due_date": day(10).isoformat(),
        "release": True,
    }
    r = client.post(
        "/api/v1/production/work-orders", json=body, headers={**planner, "Idempotency-Key": "wo-1"}
    )
    assert r.status_code == 201, r.text
    plan = client.get(f"{API}/schedule", headers=planner).json()
    assert [(s["work_order"], s["sequence"], s["workstation"]) for s in plan["steps"]] == [
        ("WO-000001", 10, "CUT-1")
    ]
    assert plan["load"][0]["workstation"] == "CUT-1"
    assert plan["overloads"] == []


def test_scheduling_calls_check_roles_and_answer_bad_input_with_a_problem(
    client: TestClient, db: Database
) -> None:
    planner, clerk = token(db, "planner"), token(db, "clerk")
    assert client.get(f"{API}/plan", headers=planner).status_code == 404  # none made yet
    assert client.post(f"{API}/replan", headers=clerk).status_code == 403
    made = client.post(f"{API}/replan", headers=planner)
    assert made.status_code == 200 and made.json()["method"] == "dispatch"
    assert client.get(f"{API}/plan", headers=clerk).json()["id"] == made.json()["id"]
    unknown = client.post(
        f"{API}/what-if",
        headers=planner,
        json={"machines_out": [{"workstation": "NOPE", "hours": 4}]},
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["field"] == "machines_out.workstation"
    negative = client.post(
        f"{API}/what-if",
        headers=planner,
        json={"machines_out": [{"workstation": "CUT-1", "hours": -1}]},
    )
    assert negative.status_code == 422 and negative.json()["field"] == "machines_out[0].hours"
    plans = client.get(f"{API}/plans", headers=planner).json()
    assert [p["status"] for p in plans] == ["published"]  # refused what-ifs left nothing
    promise = client.get(f"{API}/promise?item=NOPE&quantity=5", headers=clerk)
    assert promise.status_code == 404 and promise.json()["field"] == "item"
    bad = client.get(f"{API}/promise?item=HARN-JST-300&quantity=0", headers=clerk)
    assert bad.status_code == 422 and bad.json()["field"] == "quantity"
    accepted_twice = client.post(f"{API}/plans/{made.json()['id']}/accept", headers=planner)
    assert accepted_twice.status_code == 409
    assert client.get(f"{API}/dispatch/CUT-1", headers=token(db, "operator")).status_code == 200
