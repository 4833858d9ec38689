"""Priority and dates that hold: a rush line short of stock takes back what lower-priority
lines hold (and those lines get their supply otherwise); a job whose inputs come too late is
moved, with its line's promise, to the day it can be made. Each decision says why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents import services as agents
from isom.agents import watch
from isom.agents.models import Mode
from isom.db import Database
from isom.masterdata.models import Item
from isom.orders import queries as orders_queries
from isom.production.models import WorkOrder
from tests.agents import invariants
from tests.agents.support import (
    ACTOR,
    TODAY,
    customer_order,
    day,
    decisions,
    demo_masterdata,
    jobs_of,
    receive,
    run_agents,
)

D = Decimal


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)
    # Ship orders would hold the stock for the normal line at once: here nothing ships yet.
    db.write(
        lambda s: agents.put_setting(s, ACTOR, "shipping", site=None, mode=Mode.apply, on=False)
    )
    return db


def reserved(db: Database) -> dict[str, D]:
    rows = db.read(orders_queries.open_customer_demand)
    return {d.reference: d.reserved_quantity for d in rows}


def test_a_rush_line_short_of_stock_takes_back_what_a_normal_line_reserved(
    plant: Database,
) -> None:
    db = plant
    receive(db, "FG-H", "HARN-JST-300", "10", "0.50", "FG-01", lot="H1")
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "10", day(12))])
    customer_order(db, "SO-2", "NORDIC-AGRI", [("HARN-JST-300", "4", day(15))], priority="low")
    run_agents(db)
    assert reserved(db) == {"SO-1/1": D(10), "SO-2/1": D(0)}
    customer_order(db, "SO-3", "SENSORPRO", [("HARN-JST-300", "6", day(5))], priority="rush")
    run_agents(db)
    # The rush line takes 6 of the normal line's 10; the normal line keeps the other 4.
    assert reserved(db) == {"SO-3/1": D(6), "SO-1/1": D(4), "SO-2/1": D(0)}
    gave = decisions(db, kind="unreserve")
    assert len(gave) == 1 and gave[0]["status"].value == "applied"
    assert gave[0]["demand"] == "SO-3/1" and gave[0]["supply"] == "SO-1/1"
    assert "SO-1/1 (normal, due" in gave[0]["explanation"]
    assert "a higher priority is served first" in gave[0]["explanation"]
    again = [d for d in decisions(db, kind="reserve") if d["demand"] == "SO-1/1"][-1]
    assert "gave back its 10 HARN-JST-300 to SO-3/1; 4 of it" in again["explanation"]
    # What the normal line no longer holds is made for it; the rush line needs no job.
    assert jobs_of(db, "SO-1/1")["HARN-JST-300"][1] == D(6)
    assert jobs_of(db, "SO-3/1") == {}
    invariants.check(db, TODAY)
    assert invariants.settle(db, run_agents) == 1


def test_lines_of_the_same_priority_keep_what_they_reserved(plant: Database) -> None:
    db = plant
    receive(db, "FG-H", "HARN-JST-300", "10", "0.50", "FG-01", lot="H1")
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "10", day(12))])
    run_agents(db)
    customer_order(db, "SO-2", "SENSORPRO", [("HARN-JST-300", "6", day(5))])
    run_agents(db)
    assert reserved(db) == {"SO-2/1": D(0), "SO-1/1": D(10)}
    assert decisions(db, kind="unreserve") == []
    assert jobs_of(db, "SO-2/1")["HARN-JST-300"][1] == D(6)


def due_dates(db: Database, line: str) -> dict[str, str]:
    def read(s: Session) -> dict[str, str]:
        rows = s.execute(
            select(Item.code, WorkOrder.due_date, WorkOrder.status)
            .join(Item, Item.id == WorkOrder.item_id)
            .where(WorkOrder.customer_line == line)
        ).all()
        return {code: f"{due} {status.value}" for code, due, status in rows}

    return db.read(read)


def test_a_job_whose_inputs_come_too_late_is_moved_and_the_line_promise_with_it(
    plant: Database,
) -> None:
    db = plant
    receive(db, "BAGS", "BAG-ESD-S", "100", "0.01", "A-01")  # bought by nobody in the demo
    receive(db, "HS", "HSHRINK-6", "50", "0.01", "A-01")
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "10", day(3))])
    run_agents(db)
    moves = decisions(db, rule="move-late-job")
    top = next(
        d for d in moves if d["command"]["work_order"] == jobs_of(db, "SO-1/1")["HARN-JST-300"][0]
    )
    promised = top["date"]
    assert promised > day(3)
    assert f"the promise of SO-1/1 moves with it, to {promised}" in top["explanation"]
    assert "come too late" in top["explanation"]
    assert f"from {day(3)} to {promised}, the earliest it can be made" in top["explanation"]
    # The job and its lead jobs are released by their new dates: inputs come in time for them.
    dates = due_dates(db, "SO-1/1")
    assert dates["HARN-JST-300"] == f"{promised} released"
    for lead in ("LEAD-RD-300", "LEAD-BK-300"):
        due, status = dates[lead].split()
        assert status == "released" and dt.date.fromisoformat(due) < promised
    alerts = db.read(lambda s: [a.condition for a in watch.open_alerts(s)])
    assert "at-risk" not in alerts
    invariants.check(db, TODAY)
    assert invariants.settle(db, run_agents) == 1
