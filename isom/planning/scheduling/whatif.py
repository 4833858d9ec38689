"""What-if plans and capable-to-promise, both made against the plan in force.

A what-if (add an order, take a workstation out, change a job's priority) is planned like a
re-plan of the floor with the change in it, and stored as a `what_if` plan: nothing else
changes until a planner accepts it. A promise places a new order line's job (and child jobs
for made inputs that stock does not cover) after everything already planned, which keeps its
place: the promise is the day its last step ends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from isom.errors import NotFound
from isom.planning.scheduling import dispatch, services
from isom.planning.scheduling.build import Floor, build, route_steps
from isom.planning.scheduling.model import WEIGHTS
from isom.planning.scheduling.models import PlanRun
from isom.planning.scheduling.timeline import merge
from isom.types import utcnow

PriorityName = Literal["rush", "normal", "low"]
Code = Field(min_length=1, max_length=64)


class NewOrder(BaseModel):
    item: str = Code
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=6)
    due_date: dt.date
    priority: PriorityName = "normal"


class MachineOut(BaseModel):
    workstation: str = Code
    hours: Decimal = Field(gt=0, le=24 * 60, description="Out from now for this long.")


class PriorityChange(BaseModel):
    work_order: str = Field(min_length=1, max_length=40)
    priority: PriorityName


class WhatIf(BaseModel):
    """Changes to try on the plan in force; none of them is applied until accepted."""

    add_orders: list[NewOrder] = Field(default_factory=list, max_length=20)
    machines_out: list[MachineOut] = Field(default_factory=list, max_length=20)
    priorities: list[PriorityChange] = Field(default_factory=list, max_length=200)
    improve_seconds: float = Field(default=0, ge=0, le=10, description="CP-SAT time, if any.")


def what_if(
    session: Session, change: WhatIf, *, actor: str, now: dt.datetime | None = None
) -> PlanRun:
    """Plan the floor with the changes in it and keep it as a what-if (changes nothing else)."""
    extra = []
    for n, order in enumerate(change.add_orders, start=1):
        extra += route_steps(
            session, order.item, order.quantity, order.due_date, order.priority,
            f"{services.WHAT_IF_PREFIX}{n}", job_id=-1000 * n,
        )  # fmt: skip
    floor = build(session, now=now or utcnow(), extra=extra)
    for out in change.machines_out:
        if out.workstation not in floor.problem.down:
            raise NotFound(
                f"no workstation {out.workstation}",
                field="machines_out.workstation",
                expected="an active workstation's code",
            )
        span = (0, int(out.hours * 60))
        floor.problem.down[out.workstation] = merge([*floor.problem.down[out.workstation], span])
    _reprioritise(floor, change.priorities)
    made = _plan(session, floor)
    if change.improve_seconds > 0:
        made = services.improved(made, seconds=change.improve_seconds)
    return services.publish(
        session, made, reason=_describe(change), actor=actor, status=services.WHAT_IF,
        changes=[change.model_dump(mode="json")],
    )  # fmt: skip


def _reprioritise(floor: Floor, changes: list[PriorityChange]) -> None:
    jobs = {j.key: j for j in floor.problem.jobs}
    for c in changes:
        job = jobs.get(c.work_order)
        if job is None:
            raise NotFound(
                f"no open job {c.work_order}",
                field="priorities.work_order",
                expected="the number of a released job with steps to run",
            )
        job.priority, job.weight = c.priority, WEIGHTS[c.priority]
        floor.priority[job.key] = c.priority


def _plan(session: Session, floor: Floor) -> services.Made:
    base = services.current(session)
    before = services.as_plan(session, base, floor)
    if base is None:
        return services.Made(floor, dispatch.edd(floor.problem), None, {}, "dispatch")
    plan = dispatch.repair(floor.problem, before, services.frozen_minutes())
    return services.Made(floor, plan, base, before, "repair")


def _describe(change: WhatIf) -> str:
    said = [f"add {o.quantity} {o.item} due {o.due_date} ({o.priority})" for o in change.add_orders]
    said += [f"{m.workstation} out for {m.hours} h" for m in change.machines_out]
    said += [f"{p.work_order} {p.priority}" for p in change.priorities]
    return "what-if: " + ("; ".join(said) or "no change")


class PromiseStep(BaseModel):
    job: str
    sequence: int
    operation: str
    workstation: str
    start: dt.datetime
    end: dt.datetime


class Promise(BaseModel):
    """The date a new order line can be promised, against the plan in force, and why."""

    item: str
    quantity: Decimal
    priority: str
    promise_date: dt.date
    finish: dt.datetime
    plan_id: int | None
    steps: list[PromiseStep]


def promise(
    session: Session,
    item: str,
    quantity: Decimal,
    *,
    priority: PriorityName = "normal",
    now: dt.datetime | None = None,
) -> Promise:
    """Capable to promise: when a job for the line would finish, placed after (and around)
    everything the plan in force already holds. Changes nothing."""
    key = f"{services.WHAT_IF_PREFIX}PROMISE"
    at = now or utcnow()
    extra = route_steps(session, item, quantity, at.date(), priority, key)
    floor = build(session, now=at, extra=extra)
    made = _plan(session, floor)
    mine = sorted((k for k in made.plan if k.startswith(key)), key=lambda k: made.plan[k].start)
    finish = floor.time(max(made.plan[k].end for k in mine))
    return Promise(
        item=extra[0].item, quantity=quantity, priority=priority,
        promise_date=finish.date(), finish=finish, plan_id=made.base.id if made.base else None,
        steps=[
            PromiseStep(
                job=floor.steps[k].job, sequence=floor.steps[k].sequence,
                operation=floor.steps[k].operation, workstation=made.plan[k].machine,
                start=floor.time(made.plan[k].start), end=floor.time(made.plan[k].end),
            )
            for k in mine
        ],
    )  # fmt: skip
