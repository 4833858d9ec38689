"""The agents reconcile one plan with the jobs and purchase orders that exist: a line keeps its
one job (resized, re-dated or cancelled as the line changes), a rush line never stalls behind
an earlier decision, a started job is kept and its surplus flagged, a proposal the plan no
longer wants is superseded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isom.agents import services as agents
from isom.agents import watch
from isom.agents.models import Mode
from isom.db import Database
from isom.orders import services as orders
from isom.orders.schemas import CancelCustomerOrder, ChangeCustomerLine
from isom.planning import views
from isom.production import services as production
from isom.production.schemas import StepScan
from tests.agents import invariants
from tests.agents.support import (
    ACTOR,
    TODAY,
    customer_order,
    day,
    decisions,
    demo_masterdata,
    do,
    jobs_of,
    receive,
    run_agents,
)

D = Decimal


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)
    return db


def served(db: Database, line: str) -> list[str | None]:
    view = db.read(lambda s: views.projection_view(s, "HARN-JST-300", TODAY))
    return [p.supply for p in view.pegging if p.demand == line]


def test_a_rush_line_after_a_normal_one_for_the_same_date_gets_its_own_job(plant: Database) -> None:
    db = plant
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "10", day(10))])
    run_agents(db)
    # Nothing is in stock and the housings come in 7 days: the job waits, planned, at risk.
    assert jobs_of(db, "SO-1/1")["HARN-JST-300"][1:] == (D(10), "planned")
    customer_order(db, "SO-2", "SENSORPRO", [("HARN-JST-300", "10", day(10))], priority="rush")
    run_agents(db)
    made = [
        d["kind"]
        for d in decisions(db, agent="intake", demand="SO-2/1")
        if d["kind"] in ("work_order", "child_work_order")
    ]
    assert len(made) == 3  # the rush line's job and its two lead jobs
    assert jobs_of(db, "SO-2/1")["HARN-JST-300"][1:] == (D(10), "planned")
    assert jobs_of(db, "SO-1/1")["HARN-JST-300"][1:] == (D(10), "planned")
    assert None not in served(db, "SO-1/1") and None not in served(db, "SO-2/1")
    invariants.check(db, TODAY)
    assert invariants.settle(db, run_agents) == 1


def test_lowering_a_line_resizes_its_job_and_cancelling_it_cancels_the_tree(
    plant: Database,
) -> None:
    db = plant
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "11", day(12))])
    run_agents(db)
    number = jobs_of(db, "SO-1/1")["HARN-JST-300"][0]
    do(db, orders.change_customer_line, ChangeCustomerLine(order="SO-1", line_no=1, quantity=D(5)))
    run_agents(db)
    jobs = jobs_of(db, "SO-1/1")
    assert jobs["HARN-JST-300"] == (number, D(5), "planned")  # the same job, resized
    assert jobs["LEAD-RD-300"][1:] == (D(5), "released")  # its wire comes in time
    change = decisions(db, kind="work_order_change")[0]
    assert f"{number} changes from 11" in change["explanation"] and "to 5" in change["explanation"]
    invariants.check(db, TODAY)

    cancel = CancelCustomerOrder(order="SO-1", line_no=1, reason="customer changed their mind")
    do(db, orders.cancel_customer_order, cancel)
    run_agents(db)
    assert {st for _, _, st in jobs_of(db, "SO-1/1").values()} == {"cancelled"}
    cancels = decisions(db, kind="work_order_cancel")
    assert len(cancels) == 3 and "no longer needs it" in cancels[0]["explanation"]
    bought = decisions(db, kind="purchase_cancel")
    assert bought and all(d["status"].value == "applied" for d in bought)
    invariants.check(db, TODAY)
    assert invariants.settle(db, run_agents) == 1


def test_a_started_job_whose_line_is_cancelled_is_kept_and_its_surplus_flagged(
    plant: Database,
) -> None:
    db = plant
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("LEAD-RD-300", "20", day(12))])
    run_agents(db)  # the job, then the wire (in 10 days, before the job needs it), then release
    number, _, status = jobs_of(db, "SO-1/1")["LEAD-RD-300"]
    assert status == "released"
    release = decisions(db, kind="work_order_release")[0]
    assert "every input and child job comes in time" in release["explanation"]
    do(
        db,
        production.start_step,
        StepScan(badge="B1001", work_order=number, step=10, workstation="CUT-1"),
    )
    cancel = CancelCustomerOrder(order="SO-1", line_no=1, reason="cancelled")
    do(db, orders.cancel_customer_order, cancel)
    run_agents(db)
    assert jobs_of(db, "SO-1/1")["LEAD-RD-300"] == (number, D(20), "in_progress")
    alerts = db.read(lambda s: {(a.condition, a.subject): a.text for a in watch.open_alerts(s)})
    assert "no longer needs it; it is kept and 20 will go to stock" in alerts[("surplus", number)]


def test_a_proposal_the_plan_no_longer_wants_is_superseded(plant: Database) -> None:
    db = plant
    db.write(lambda s: agents.put_setting(s, ACTOR, "intake", site=None, mode=Mode.propose))
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "10", day(10))])
    run_agents(db)
    assert [d["status"].value for d in decisions(db, kind="work_order")] == ["proposed"]
    assert run_agents(db)["intake"] == 0  # still waiting, unchanged: nothing new
    do(db, orders.change_customer_line, ChangeCustomerLine(order="SO-1", line_no=1, quantity=D(4)))
    run_agents(db)
    first, second = decisions(db, kind="work_order")
    assert (first["status"].value, second["status"].value) == ("rejected", "proposed")
    assert second["command"]["quantity"] == "4"


def test_alerts_are_listed_one_per_item_and_condition(plant: Database) -> None:
    from fastapi.testclient import TestClient

    from isom.web.app import create_app
    from tests.builders import token

    db = plant
    receive(db, "BAGS", "BAG-ESD-S", "100", "0.05", "A-03")
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("CORD-M8-2M", "5", day(4))])
    customer_order(db, "SO-2", "ACME-ROBOTICS", [("CORD-M8-2M", "7", day(4))])
    run_agents(db)
    run_agents(db)
    with TestClient(create_app(db)) as client:
        r = client.get("/api/v1/agents/alerts", headers=token(db, "planner"))
    assert r.status_code == 200, r.text
    shown = [(a["condition"], a["subject"]) for a in r.json()]
    assert len(shown) == len(set(shown))
    # The connectors take 21 days: the two cord jobs due in 4 days are at risk, and say when
    # they can be made at the earliest.
    risk = {a["subject"]: a["text"] for a in r.json() if a["condition"] == "at-risk"}
    cords = [jobs_of(db, line)["CORD-M8-2M"][0] for line in ("SO-1/1", "SO-2/1")]
    assert set(cords) <= set(risk)
    assert "nothing supplies ADHESIVE-UV yet" in risk[cords[0]]  # no supplier sells the glue
    assert "CONN-M8-4F come too late" in risk[cords[0]]
