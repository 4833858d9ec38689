"""Agents through HTTP: settings per agent and site, proposals approved or rejected with a reason."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from isom.agents import models as agents_models
from isom.agents import runner
from isom.agents import services as agents_service
from isom.db import Database
from isom.orders.models import PurchaseOrder
from isom.production.models import WorkOrder
from isom.web.app import create_app
from tests.agents.support import customer_order, day, decisions, demo_masterdata, receive
from tests.builders import token
from tests.production.support import ACTOR
from tests.web.seed import user
from tests.web.test_pages import sign_in

API = "/api/v1/agents"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.12", "A-01", lot="W1")
    with TestClient(create_app(db)) as c:
        yield c


def count(db: Database, model: type) -> int:
    return int(db.read(lambda s: s.scalar(select(func.count()).select_from(model))) or 0)


def test_proposals_wait_for_a_person_and_are_not_proposed_twice(
    client: TestClient, db: Database
) -> None:
    planner, buyer = token(db, "planner"), token(db, "buyer")
    for agent in ("intake", "purchasing"):
        r = client.put(f"{API}/settings", json={"agent": agent, "mode": "propose"}, headers=planner)
        assert r.status_code == 200, r.text
    assert {(s["agent"], s["mode"]) for s in r.json()} == {
        ("intake", "propose"),
        ("purchasing", "propose"),
    }
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("LEAD-RD-300", "100", day(14))])
    r = client.post(f"{API}/run", headers=planner)
    assert r.status_code == 200, r.text
    assert {x["agent"]: x["proposed"] for x in r.json()} == {
        "intake": 1,
        "purchasing": 0,  # the proposed job's wire is not bought before the job is approved
        "shipping": 0,
        "alerts": 0,
    }
    assert count(db, WorkOrder) == 0
    assert client.post(f"{API}/run", headers=planner).json()[0]["decisions"] == 0

    proposals = client.get(f"{API}/decisions?status=proposed", headers=buyer).json()
    assert [(p["kind"], p["demand"], p["item"]) for p in proposals] == [
        ("work_order", "SO-1/1", "LEAD-RD-300")
    ]
    job = proposals[0]["id"]
    r = client.post(f"{API}/decisions/{job}/approve", headers=buyer)
    assert r.status_code == 403  # a buyer decides purchase orders only
    r = client.post(f"{API}/decisions/{job}/approve", headers=planner)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "applied" and r.json()["result"] == {"work_orders": ["WO-000001"]}
    assert client.post(f"{API}/decisions/{job}/approve", headers=planner).status_code == 409

    # Now the job needs wire: 100 x 0.305 = 30.5 m, 100 m on hand; nothing to buy, and the
    # job can be released (proposed, as intake proposes here).
    r = client.post(f"{API}/run", headers=planner)
    assert [x["decisions"] for x in r.json()] == [1, 0, 0, 0]
    [release] = client.get(f"{API}/decisions?status=proposed", headers=planner).json()
    assert (release["kind"], release["supply"]) == ("work_order_release", "WO-000001")


def test_a_rejected_purchase_stays_rejected_with_its_reason(
    client: TestClient, db: Database
) -> None:
    planner, buyer = token(db, "planner"), token(db, "buyer")
    client.put(f"{API}/settings", json={"agent": "purchasing", "mode": "propose"}, headers=planner)
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("BOX-S", "30", day(20))])
    runner.run_all(db)
    [buy] = decisions(db, agent="purchasing")
    assert buy["status"].value == "proposed"
    assert buy["command"]["lines"][0]["quantity"] == "100"  # PackRite's minimum
    assert "30 for SO-1/1" in buy["explanation"]
    r = client.post(f"{API}/decisions/{buy['id']}/reject", json={"reason": ""}, headers=buyer)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = client.post(
        f"{API}/decisions/{buy['id']}/reject", json={"reason": "buy from stockist"}, headers=buyer
    )
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["reason"]) == ("rejected", "buy from stockist")
    assert r.json()["decided_by"].startswith("token:t-")  # the buyer's API token
    assert count(db, PurchaseOrder) == 0
    r = client.post(f"{API}/decisions/{buy['id']}/approve", headers=buyer)
    assert r.status_code == 409 and r.json()["field"] == "decision"
    assert client.post(f"{API}/decisions/999/approve", headers=buyer).status_code == 404
    assert client.post(f"{API}/run", headers=token(db, "clerk")).status_code == 403
    r = client.put(f"{API}/settings", json={"agent": "nobody", "mode": "apply"}, headers=planner)
    assert r.status_code == 422 and r.json()["field"] == "agent"
    r = client.put(
        f"{API}/settings",
        json={"agent": "shipping", "mode": "apply", "site": "NOWHERE"},
        headers=planner,
    )
    assert r.status_code == 404 and r.json()["field"] == "site"


def test_a_site_setting_overrides_the_all_sites_one(client: TestClient, db: Database) -> None:
    planner = token(db, "planner")
    client.put(f"{API}/settings", json={"agent": "alerts", "mode": "propose"}, headers=planner)
    r = client.put(
        f"{API}/settings",
        json={"agent": "alerts", "mode": "apply", "site": "KW1", "enabled": True},
        headers=planner,
    )
    assert sorted((s["site"] or "", s["mode"]) for s in r.json()) == [
        ("", "propose"),
        ("KW1", "apply"),
    ]
    from isom.agents import services as agents
    from isom.agents.models import Mode
    from isom.masterdata import services as md

    site = db.read(lambda s: md.get_location(s, "KW1").id)
    assert db.read(lambda s: agents.mode_of(s, "alerts", site)) is Mode.apply
    assert db.read(lambda s: agents.mode_of(s, "alerts", None)) is Mode.propose


def test_the_scheduler_decides_soon_after_an_order_lands(db: Database) -> None:
    demo_masterdata(db)
    # it would look at the logs only every 10 minutes: the order's commit wakes it
    scheduler = runner.Scheduler(db, interval=600, poll=600)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and scheduler.runs < 1:  # the run at start
            time.sleep(0.1)
        customer_order(db, "SO-1", "ACME-ROBOTICS", [("LEAD-RD-300", "10", day(14))])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not decisions(db, kind="work_order"):
            time.sleep(0.1)
    finally:
        scheduler.stop()
    [made] = decisions(db, kind="work_order")
    assert made["demand"] == "SO-1/1" and made["status"].value == "applied"
    assert scheduler.runs >= 2 and scheduler.last_error is None


def test_a_planner_approves_and_rejects_on_the_proposals_page(db: Database) -> None:
    demo_masterdata(db)
    user(db, "pia", "planner")
    client = TestClient(create_app(db), follow_redirects=False)
    db.write(
        lambda s: agents_service.put_setting(
            s, ACTOR, "intake", site=None, mode=agents_models.Mode.propose
        )
    )
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("LEAD-RD-300", "10", day(14))])
    customer_order(db, "SO-2", "ACME-ROBOTICS", [("LEAD-BK-300", "10", day(14))])
    runner.run_all(db)
    first, second = (d["id"] for d in decisions(db, kind="work_order"))
    sign_in(client, "pia", "/agents")
    page = client.get("/agents")
    assert page.status_code == 200
    assert f'id="decision-{first}"' in page.text and "make-netted" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    stale = client.post(f"/agents/decisions/{first}", data={"action": "approve", "csrf_token": "x"})
    assert stale.status_code == 403
    r = client.post(
        f"/agents/decisions/{first}", data={"action": "approve", "csrf_token": csrf.group(1)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/agents"
    r = client.post(
        f"/agents/decisions/{second}",
        data={"action": "reject", "reason": "customer will call", "csrf_token": csrf.group(1)},
    )
    assert r.status_code == 303
    assert [d["status"].value for d in decisions(db, kind="work_order")] == ["applied", "rejected"]
    assert count(db, WorkOrder) == 1  # the red leads; leads have no made inputs
    assert 'id="alerts"' in page.text or 'id="no-alerts"' in page.text
    done = client.get("/agents?status=rejected")
    assert "customer will call" in done.text


def test_a_burst_is_planned_once_it_quiets_down_or_at_the_latest_after_most_seconds() -> None:
    wait = runner.Debounce(quiet=1.0, most=5.0)
    assert not wait.due((1, 1, 1), 0.0)  # an event: wait for quiet
    assert not wait.due((1, 1, 2), 0.8)  # another: the quiet starts again
    assert wait.due((1, 1, 2), 1.9)  # quiet for a second: run
    wait.ran((1, 1, 2))
    assert not wait.due((1, 1, 2), 2.5)  # nothing new: nothing to run
    for n, at in enumerate((3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5)):
        due = wait.due((1, 1, 3 + n), at)  # an endless burst: one event every half second
        assert due is (at >= 8.0)
    assert wait.due((1, 1, 20), 8.0)  # five seconds after the first: run anyway
