"""Finite plans of the demo plant: one job at a time per workstation, in working time, children
before parents; a rush order goes first; a machine going down moves only what it must; a
running step never moves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from isom.db import Database
from isom.planning.scheduling import queries
from isom.planning.scheduling import services as plans
from isom.planning.scheduling.build import build
from isom.planning.scheduling.check import violations
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder
from tests.agents.support import demo_masterdata, do

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)  # a Tuesday, 07:00 in Berlin


def job(db: Database, item: str, qty: str, due: dt.date) -> str:
    cmd = CreateWorkOrder(item=item, quantity=D(qty), due_date=due, release=True)
    return str(do(db, production.create_work_order, cmd).work_order)


def publish(db: Database, reason: str, now: dt.datetime = NOW) -> queries.PlanView:
    return db.write(
        lambda s: queries.plan_view(s, plans.replan(s, reason=reason, actor="test", now=now))
    )


def rows(db: Database, run_id: int) -> dict[str, queries.OperationView]:
    view = db.read(lambda s: queries.plan(s, run_id))
    return {f"{o.work_order}/{o.sequence}": o for o in view.operations}


def test_the_first_plan_respects_calendars_precedence_and_one_job_at_a_time(db: Database) -> None:
    demo_masterdata(db)
    harness = [job(db, "HARN-JST-300", "100", dt.date(2026, 12, 10)) for _ in range(3)]
    run = publish(db, "first plan")
    ops = rows(db, run.id)
    assert (run.method, run.moved, run.reason) == ("dispatch", 0, "first plan")
    floor = db.read(lambda s: build(s, now=NOW))
    plan = db.read(lambda s: plans.as_plan(s, plans.get_run(s, run.id), floor))
    assert set(plan) == set(floor.steps) == set(ops)
    assert violations(floor.problem, plan) == []
    for o in ops.values():  # in the 2-shift calendar: weekdays 06:00-22:00 Berlin
        start, end = o.start.astimezone(BERLIN), o.end.astimezone(BERLIN)
        assert start.weekday() < 5 and dt.time(6) <= start.time() < dt.time(22)
        assert end.time() <= dt.time(22) or end.time() == dt.time(0)
    for number in harness:  # each harness: its steps in route order, its cut leads before
        mine = sorted((o for o in ops.values() if o.work_order == number), key=lambda o: o.sequence)
        assert [o.workstation for o in mine] == ["CRIMP-1", "ASSY-1", "TEST-1", "PACK-1"]
        assert all(a.end <= b.start for a, b in zip(mine, mine[1:], strict=False))
    cutter = sorted((o for o in ops.values() if o.workstation == "CUT-1"), key=lambda o: o.start)
    assert len(cutter) == 6 and all(
        a.end <= b.start for a, b in zip(cutter, cutter[1:], strict=False)
    )
