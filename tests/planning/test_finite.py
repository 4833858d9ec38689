"""Finite plans of the demo plant: one job at a time per workstation, in working time, children
before parents; a rush order goes first; a machine going down moves only what it must; a
running step never moves."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents import watch
from isom.db import Database
from isom.errors import Conflict
from isom.masterdata.models import Customer, Workstation
from isom.orders.models import CustomerOrder
from isom.planning import sources, views
from isom.planning.scheduling import queries, whatif, worker
from isom.planning.scheduling import services as plans
from isom.planning.scheduling.build import build
from isom.planning.scheduling.check import violations
from isom.production import queries as production_queries
from isom.production import services as production
from isom.production.schemas import ChangeWorkOrder, CreateWorkOrder, MachineStateCommand, StepScan
from isom.types import utcnow
from tests.agents.support import (
    TODAY,
    customer_order,
    decisions,
    demo_masterdata,
    do,
    receive,
    run_agents,
)

D = Decimal
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)  # a Tuesday, 07:00 in Berlin


RAW = ("WIRE-0.5-RD", "WIRE-0.5-BK", "TERM-JST", "CONN-JST-2", "HSHRINK-6", "BAG-ESD-S", "BOX-S")


def plant(db: Database) -> None:
    """The demo plant's master data with plenty of every purchased input in stock."""
    demo_masterdata(db)
    for n, item in enumerate(RAW):
        receive(db, f"RAW-{n}", item, "100000", "0.01", "A-01", lot=f"L{n}" if n < 2 else None)


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


def machine(db: Database, code: str, state: str, when: dt.datetime) -> None:
    cmd = MachineStateCommand(workstation=code, state=state, reason="jammed", occurred_at=when)
    do(db, production.machine_state, cmd)


def test_a_machine_going_down_moves_only_what_it_must(db: Database) -> None:
    plant(db)
    for due in (dt.date(2026, 12, 4), dt.date(2026, 12, 8), dt.date(2026, 12, 11)):
        job(db, "HARN-JST-300", "100", due)
    first = publish(db, "first plan")
    machine(db, "CUT-1", "down", NOW)
    second = publish(db, "CUT-1 down")
    before, after = rows(db, first.id), rows(db, second.id)
    down_until = NOW + dt.timedelta(hours=8)
    hit = {k for k, o in before.items() if o.workstation == "CUT-1" and o.start < down_until}
    assert hit  # the cutter had work in the next eight hours
    moved = {
        k
        for k in before
        if (before[k].start, before[k].workstation) != (after[k].start, after[k].workstation)
    }
    assert hit <= moved
    jobs_hit = {k.split("/")[0] for k in hit}
    parents = {db.read(lambda s, n=n: production_queries.work_order(s, n)).parent for n in jobs_hit}
    # nothing moved but what the cutter held and what follows it: its jobs' harnesses
    assert {k.split("/")[0] for k in moved} <= jobs_hit | parents
    assert (second.moved, second.base_id) == (len(moved), first.id)
    assert second.moved_minutes == sum(
        int(abs((after[k].start - before[k].start).total_seconds()) // 60) for k in moved
    )
    assert all(after[k].moved == (k in moved) for k in after)
    assert all(o.start >= down_until for k, o in after.items() if o.workstation == "CUT-1")
    changes = db.read(lambda s: queries.changes(s, second.id))
    assert {c.step for c in changes} == moved


def test_a_running_step_never_moves_and_the_next_hours_stay_frozen(db: Database) -> None:
    plant(db)
    numbers = [job(db, "LEAD-RD-300", "200", dt.date(2026, 12, 3 + n)) for n in range(4)]
    first = publish(db, "first plan")
    ops = rows(db, first.id)
    began = NOW + dt.timedelta(minutes=5)
    scan = StepScan(
        badge="B1001", work_order=numbers[2], step=10, workstation="CUT-1", occurred_at=began
    )
    do(db, production.start_step, scan)
    later = NOW + dt.timedelta(minutes=30)
    frozen = {k for k, o in ops.items() if later <= o.start < later + dt.timedelta(minutes=120)}
    assert frozen
    run = publish(db, "a step started out of order", now=later)
    after = rows(db, run.id)
    running = after[f"{numbers[2]}/10"]
    assert (running.state, running.start, running.workstation) == ("started", began, "CUT-1")
    for k in frozen - {f"{numbers[2]}/10"}:  # due to start within two hours: kept if it can be
        same = (after[k].start, after[k].workstation) == (ops[k].start, ops[k].workstation)
        overlaps = after[k].start < running.end and running.start < after[k].end
        assert same or overlaps


def count_plans(db: Database) -> int:
    return len(db.read(lambda s: queries.history(s, limit=200)))


def test_a_what_if_changes_nothing_until_accepted_and_a_rush_order_goes_first(
    db: Database,
) -> None:
    plant(db)
    for _ in range(4):  # nearly two days of cutting, due next week
        job(db, "LEAD-BK-300", "8000", dt.date(2026, 12, 9))
    first = publish(db, "first plan")
    rush = whatif.NewOrder(
        customer="ACME-ROBOTICS", item="LEAD-BK-300", quantity=D(2000),
        due_date=dt.date(2026, 12, 2), priority="rush",
    )  # fmt: skip
    change = whatif.WhatIf(add_orders=[rush], improve_seconds=3)
    trial = db.write(
        lambda s: queries.plan_view(s, whatif.what_if(s, change, actor="pia", now=NOW))
    )
    assert (
        trial.status == "what_if" and "add 2000 LEAD-BK-300 due 2026-12-02 (rush)" in trial.reason
    )
    assert db.read(queries.current_plan).id == first.id  # nothing applied yet
    cutter = sorted(
        (o for o in trial.operations if o.workstation == "CUT-1"), key=lambda o: o.start
    )
    new = [o for o in cutter if o.work_order == "WHATIF-1"]
    assert new and not new[0].late
    # ahead of every normal job that was not about to start (frozen for two hours)
    frozen = {o.work_order for o in first.operations if o.start < NOW + dt.timedelta(hours=2)}
    before_it = cutter[: cutter.index(new[0])]
    assert {o.work_order for o in before_it} <= frozen
    assert trial.moved > 0 and trial.method == "cp-sat"

    accepted = db.write(lambda s: queries.plan_view(s, whatif.accept(s, trial.id, actor="pia")))
    in_force = db.read(queries.current_plan)
    assert in_force.id == accepted.id and accepted.reason.startswith(f"what-if {trial.id}")
    assert [(o.work_order, o.start) for o in in_force.operations] == [
        (o.work_order, o.start) for o in trial.operations if o.work_order != "WHATIF-1"
    ]


def test_accepting_a_what_if_applies_it_and_not_before(db: Database) -> None:
    """A workstation out, an added order and a priority change: none is there while the plan
    is a what-if; accepting it makes a machine-down record, a customer order and the job's
    order a rush one, through their own services."""
    plant(db)
    customer_order(db, "SO-7001", "ACME-ROBOTICS", [("LEAD-BK-300", "500", dt.date(2026, 12, 9))])
    cmd = CreateWorkOrder(
        item="LEAD-BK-300", quantity=D(500), due_date=dt.date(2026, 12, 9), release=True,
        customer_line="SO-7001/1",
    )  # fmt: skip
    number = str(do(db, production.create_work_order, cmd).work_order)
    publish(db, "first plan")
    extra = whatif.NewOrder(
        customer="NORDIC-AGRI", item="LEAD-RD-300", quantity=D(300),
        due_date=dt.date(2026, 12, 11), priority="low",
    )  # fmt: skip
    change = whatif.WhatIf(
        add_orders=[extra],
        machines_out=[whatif.MachineOut(workstation="CUT-1", hours=D(4))],
        priorities=[whatif.PriorityChange(work_order=number, priority="rush")],
    )
    trial = db.write(lambda s: whatif.what_if(s, change, actor="pia", now=NOW).id)

    def floor_state() -> tuple[set[int], dict[str, str], list[str]]:
        def read(s: Session) -> tuple[set[int], dict[str, str], list[str]]:
            down = set(sources.machines_down(s))
            orders = {o.number: o.priority.value for o in s.scalars(select(CustomerOrder))}
            customers = [
                c.code
                for o in s.scalars(select(CustomerOrder))
                for c in [s.get(Customer, o.customer_id)]
                if c is not None
            ]
            return down, orders, customers

        return db.read(read)

    assert floor_state() == (set(), {"SO-7001": "normal"}, ["ACME-ROBOTICS"])
    db.write(lambda s: whatif.accept(s, trial, actor="pia"))
    down, orders, customers = floor_state()
    cut = db.read(lambda s: s.scalar(select(Workstation.id).where(Workstation.code == "CUT-1")))
    assert down == {cut}
    assert orders["SO-7001"] == "rush" and len(orders) == 2
    assert sorted(customers) == ["ACME-ROBOTICS", "NORDIC-AGRI"]
    assert db.read(queries.current_plan).reason.startswith(f"what-if {trial} accepted")


def test_accepting_a_what_if_that_adds_an_order_needs_its_customer(db: Database) -> None:
    plant(db)
    job(db, "LEAD-BK-300", "500", dt.date(2026, 12, 9))
    first = publish(db, "first plan")
    extra = whatif.NewOrder(item="LEAD-RD-300", quantity=D(300), due_date=dt.date(2026, 12, 11))
    trial = db.write(
        lambda s: whatif.what_if(s, whatif.WhatIf(add_orders=[extra]), actor="pia", now=NOW).id
    )
    with pytest.raises(Conflict) as problem:
        db.write(lambda s: whatif.accept(s, trial, actor="pia"))
    assert problem.value.field == "add_orders[0].customer"
    assert db.read(queries.current_plan).id == first.id  # nothing applied, nothing published


def test_capable_to_promise_places_a_new_line_after_what_is_planned(db: Database) -> None:
    plant(db)
    for _ in range(3):
        job(db, "HARN-JST-300", "500", dt.date(2026, 12, 18))
    publish(db, "first plan")
    plans_before = count_plans(db)
    promised = db.read(lambda s: whatif.promise(s, "HARN-JST-300", D(100), now=NOW))
    assert count_plans(db) == plans_before  # asking changes nothing
    assert [s.operation for s in promised.steps][-4:] == ["crimp", "assemble", "test", "pack"]
    assert promised.finish == max(s.end for s in promised.steps)
    assert promised.promise_date == promised.finish.date() >= NOW.date()
    current = db.read(queries.current_plan)
    busy = [(o.workstation, o.start, o.end) for o in current.operations]
    for s in promised.steps:  # never on top of planned work
        assert not any(w == s.workstation and a < s.end and s.start < b for w, a, b in busy)


def test_the_intake_agent_says_when_a_new_line_can_be_done(db: Database) -> None:
    """A new order line's job is proposed with its capable-to-promise date, which is the
    promise the order screen would give for the same line."""
    plant(db)
    for _ in range(3):
        job(db, "LEAD-BK-300", "4000", TODAY + dt.timedelta(days=14))
    publish(db, "first plan", now=utcnow())
    due = TODAY + dt.timedelta(days=1)
    customer_order(db, "SO-8001", "ACME-ROBOTICS", [("HARN-JST-300", "100", due)])
    expected = db.read(lambda s: whatif.promise(s, "HARN-JST-300", D(100))).promise_date
    run_agents(db)
    (made,) = decisions(db, rule="make-netted", demand="SO-8001/1")
    late = f", {(expected - due).days} days late" if expected > due else ""
    said = f"SO-8001/1 (normal, 0 reserved, can be done by {expected}{late})"
    assert made["explanation"].startswith(said)


def test_projected_inventory_consumes_at_the_planned_step_start(db: Database) -> None:
    plant(db)
    number = job(db, "LEAD-RD-300", "200", dt.date(2026, 12, 18))
    ref = f"{number}/10"

    def consumption() -> dt.date:
        view = db.read(lambda s: views.projection_view(s, "WIRE-0.5-RD", NOW.date()))
        return next(e.date for e in view.entries if e.ref == ref)

    assert consumption() == dt.date(2026, 12, 17)  # no plan yet: the day before it is due
    plan = publish(db, "first plan")
    start = next(o.start for o in plan.operations if f"{o.work_order}/{o.sequence}" == ref)
    assert consumption() == start.date() == NOW.date()  # the cutter is free: cut today


def test_the_background_re_plan_follows_events_and_says_which(db: Database) -> None:
    plant(db)
    job(db, "HARN-JST-300", "100", dt.date(2026, 12, 10))
    first = worker.replan_once(db)
    assert first is not None and db.read(queries.current_plan).reason == "first plan"
    assert worker.replan_once(db) is None  # nothing landed: no new plan
    machine(db, "CUT-1", "down", NOW)
    second = worker.replan_once(db, improve_seconds=1)
    history = db.read(lambda s: queries.history(s, limit=5))
    repair = next(r for r in history if r.method == "repair")
    assert repair.reason == "events: machine CUT-1 down" and repair.id > first
    assert second == history[0].id  # the repair, or CP-SAT's plan right after it
    assert worker.replan_once(db) is None


def test_the_background_re_planner_is_woken_by_a_committed_event_not_by_polling(
    db: Database,
) -> None:
    plant(db)
    job(db, "HARN-JST-300", "100", dt.date(2026, 12, 10))
    # it would look at the logs only every 10 minutes: only the event's commit can wake it
    replanner = worker.Replanner(db, debounce=0.2, patience=2, improve_seconds=0, poll=600)
    replanner.start()
    try:
        wait_until(lambda: replanner.plans == 1)  # the first plan, at start
        machine(db, "CUT-1", "down", NOW)
        wait_until(lambda: replanner.plans == 2)
    finally:
        replanner.stop()
    assert db.read(queries.current_plan).reason == "events: machine CUT-1 down"


def wait_until(done: Callable[[], bool]) -> None:
    """Wait for a background thread's work (generously: the machine may be busy)."""
    for _ in range(600):
        if done():
            return
        time.sleep(0.1)
    raise AssertionError("the background work did not happen")


def test_a_job_the_plan_finishes_late_stands_as_one_alert_until_the_plan_catches_up(
    db: Database,
) -> None:
    plant(db)
    late = job(db, "LEAD-BK-300", "30000", dt.date(2026, 12, 2))  # days of cutting, due tomorrow
    easy = job(db, "LEAD-BK-300", "10", dt.date(2026, 12, 30))
    publish(db, "first plan")
    finish = db.read(queries.at_risk)[late]
    assert easy not in db.read(queries.at_risk)
    db.write(lambda s: watch.sync(s, NOW.date()))
    db.write(lambda s: watch.sync(s, NOW.date()))  # the same condition: the same alert
    alerts = late_alerts(db)
    assert [(subject, date) for subject, date, _ in alerts] == [(late, finish.date())]
    assert (
        f"{late} (LEAD-BK-300 x 30000, due 2026-12-02, for stock) is planned to finish "
        in (alerts[0][2])
    )
    # The job is cancelled: the plan no longer holds it and the alert closes.
    do(db, production.cancel_work_order, ChangeWorkOrder(work_order=late, reason="too big"))
    publish(db, "job cancelled")
    db.write(lambda s: watch.sync(s, NOW.date()))
    assert late_alerts(db) == []


def late_alerts(db: Database) -> list[tuple[str, dt.date | None, str]]:
    return db.read(
        lambda s: [
            (a.subject, a.date, a.text)
            for a in watch.open_alerts(s)
            if a.condition == "late-by-plan"
        ]
    )
