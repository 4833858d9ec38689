"""Backward scheduling on the demo plant's two-shift calendar, and load against capacity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from isom.db import Database
from isom.planning import scheduling
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder
from tests.agents.support import demo_masterdata, do

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(BERLIN)


def job(db: Database, item: str, qty: str, due: dt.date) -> str:
    cmd = CreateWorkOrder(item=item, quantity=D(qty), due_date=due, release=True)
    return str(do(db, production.create_work_order, cmd).work_order)


def test_steps_are_placed_back_from_the_due_date_in_working_time_only(db: Database) -> None:
    demo_masterdata(db)
    # Due Monday 28 December: the 24th to 26th are holidays and the 27th a Sunday.
    number = job(db, "HARN-JST-300", "100", dt.date(2026, 12, 28))
    plan = db.read(lambda s: scheduling.backward_schedule(s, now=NOW))
    steps = [s for s in plan.steps if s.work_order == number]
    assert [(s.sequence, s.workstation) for s in steps] == [
        (10, "CRIMP-1"),
        (20, "ASSY-1"),
        (30, "TEST-1"),
        (40, "PACK-1"),
    ]
    pack = steps[-1]
    # Finished by the end of the last shift before the due date, less 15 minutes of moving.
    assert local(pack.planned_end) == dt.datetime(2026, 12, 23, 21, 45, tzinfo=BERLIN)
    assert pack.minutes == D(10)  # 5 minutes per batch of 50
    assert local(pack.planned_start) == dt.datetime(2026, 12, 23, 21, 35, tzinfo=BERLIN)
    for earlier, later in zip(steps, steps[1:], strict=False):
        # a step ends at least queue + move working minutes before the next one starts
        assert earlier.planned_end <= later.planned_start - dt.timedelta(minutes=75)
    for s in steps:
        start, end = local(s.planned_start), local(s.planned_end)
        assert start.weekday() < 5 and end.weekday() < 5
        assert dt.time(6) <= start.time() and end.time() <= dt.time(22)
    assert steps[0].minutes == D(15) + D("0.2") * 100 + D(5)
    # The child jobs (cut leads) are due the day before and end before the harness starts.
    children = [s for s in plan.steps if s.work_order != number]
    assert {s.workstation for s in children} == {"CUT-1"}
    assert all(s.planned_end <= steps[0].planned_start for s in children)


def test_load_per_workstation_and_day_flags_overloads(db: Database) -> None:
    demo_masterdata(db)
    # 20,000 leads at 0.05 min = 1,000 min of cutting on a day with 960 working minutes.
    job(db, "LEAD-RD-300", "10000", dt.date(2026, 12, 10))
    job(db, "LEAD-BK-300", "10000", dt.date(2026, 12, 10))
    plan = db.read(lambda s: scheduling.backward_schedule(s, now=NOW))
    cutter = [r for r in plan.load if r.workstation == "CUT-1"]
    assert sum(r.load_minutes for r in cutter) == D(2 * (10 + 500 + 5))
    assert all(r.capacity_minutes == D(960) for r in cutter)
    assert [r.date for r in plan.overloads] == [dt.date(2026, 12, 9)]
    assert plan.overloads[0].load_minutes > D(960)
    assert not any(s.late for s in plan.steps)
