"""Pia's plan page on the demo plant: the first plan, its Gantt per workstation and per job,
a what-if that changes nothing until she accepts it (then the workstation is down), and a
clerk who may not."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from isom import demo
from isom.db import Database
from isom.masterdata.models import Workstation
from isom.planning import sources
from isom.planning.scheduling import queries
from tests.web.seed import sign_in, user


def _bars(page: str, chart: str) -> set[str]:
    figure = re.search(rf'data-chart="{chart}">(.+?)</script>', page, re.S)
    assert figure is not None
    return {label for trace in json.loads(figure.group(1))["data"] for label in trace["text"]}


def test_the_planner_replans_tries_a_what_if_and_accepts_it(
    db: Database, client: TestClient
) -> None:
    demo.load_if_empty(db)
    user(db, "pia", "planner")
    csrf = sign_in(client, "pia", "/planning/plan")
    assert 'id="no-plan"' in client.get("/planning/plan").text

    assert client.post("/planning/plan/replan", data={"csrf_token": csrf}).status_code == 303
    plan = db.read(queries.current_plan)
    assert plan is not None and plan.reason == "asked by pia"
    page = client.get("/planning/plan").text
    steps = {f"{o.work_order}/{o.sequence}" for o in plan.operations}
    assert _bars(page, "chart-stations") == steps == _bars(page, "chart-jobs")
    assert f"Plan {plan.id} in force" in page

    tried = client.post(
        "/planning/plan/what-if",
        data={"csrf_token": csrf, "workstation": "CUT-1", "hours": "16"},
    )
    assert tried.status_code == 303
    trial_id = int(tried.headers["location"].split("=")[1])
    assert db.read(queries.current_plan).id == plan.id  # nothing applied
    shown = client.get(tried.headers["location"]).text
    assert "CUT-1 out for 16 h" in shown and "Accept this plan" in shown

    bad = client.post("/planning/plan/what-if", data={"csrf_token": csrf, "workstation": "NOPE"})
    assert bad.status_code == 404 and "no workstation NOPE" in bad.text

    client.cookies.clear()
    clerk = sign_in(client, "clara", "/planning/plan") if user(db, "clara") is None else ""
    refused = client.post(f"/planning/plan/{trial_id}/accept", data={"csrf_token": clerk})
    assert refused.status_code == 403
    assert db.read(queries.current_plan).id == plan.id

    client.cookies.clear()
    csrf = sign_in(client, "pia", "/planning/plan")
    done = client.post(f"/planning/plan/{trial_id}/accept", data={"csrf_token": csrf})
    assert done.status_code == 303
    now = db.read(queries.current_plan)
    assert now.id != plan.id and now.reason.startswith(f"what-if {trial_id} accepted")
    down = db.read(
        lambda s: [
            s.scalar(select(Workstation.code).where(Workstation.id == ws))
            for ws in sources.machines_down(s)
        ]
    )
    assert down == ["CUT-1"]  # accepting applied it: the workstation is down now
