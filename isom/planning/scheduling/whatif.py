"""What-if plans and capable-to-promise, both made against the plan in force.

A what-if (add an order, take a workstation out, change a job's priority) is planned like a
re-plan of the floor with the change in it, and stored as a `what_if` plan: nothing else
changes until a planner accepts it. A promise places a new order line's job (and child jobs
for made inputs that stock does not cover) in the time the plan in force leaves free, which
keeps its place: the promise is the day its last step ends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from isom.errors import Conflict, NotFound
from isom.ledger import services as ledger
from isom.masterdata.models import Customer, Item
from isom.orders import customer as customer_orders
from isom.orders.enums import Priority
from isom.orders.schemas import CreateCustomerOrder, CustomerLineIn
from isom.planning import sources
from isom.planning.scheduling import dispatch, services
from isom.planning.scheduling.build import Floor, build, route_steps
from isom.planning.scheduling.model import WEIGHTS, Plan
from isom.planning.scheduling.models import PlanRun
from isom.planning.scheduling.timeline import merge
from isom.production import rows as production_rows
from isom.production import services as production
from isom.production.enums import MachineState
from isom.production.schemas import MachineStateCommand
from isom.types import utcnow

PriorityName = Literal["rush", "normal", "low"]
Code = Field(min_length=1, max_length=64)


class NewOrder(BaseModel):
    customer: str | None = Field(
        default=None, min_length=1, max_length=64, description="Needed to accept the what-if."
    )
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


def accept(session: Session, run_id: int, *, actor: str) -> PlanRun:
    """Publish a what-if plan and apply what it tried, each through its domain's services:
    a workstation out becomes a machine-down record, an added order a customer order, a
    job's priority its customer order's. All in the caller's transaction: all or nothing."""
    run = services.accept(session, run_id, actor=actor)
    who = ledger.Actor(name=actor)
    key = f"what-if-{run_id}"
    for change in (WhatIf.model_validate(c) for c in run.changes):
        for n, out in enumerate(change.machines_out):
            down = MachineStateCommand(
                workstation=out.workstation, state=MachineState.down,
                reason=f"what-if {run_id} accepted: out for {out.hours} h",
            )  # fmt: skip
            production.machine_state(session, who, f"{key}-down-{n}", down)
        for n, order in enumerate(change.add_orders):
            if order.customer is None:
                raise Conflict(
                    f"what-if {run_id} adds an order without a customer",
                    field=f"add_orders[{n}].customer",
                    expected="a what-if made with the customer of each order it adds",
                )
            line = CustomerLineIn(item=order.item, quantity=order.quantity, due_date=order.due_date)
            cmd = CreateCustomerOrder(
                customer=order.customer, priority=Priority(order.priority), lines=[line]
            )
            customer_orders.create_customer_order(session, who, f"{key}-order-{n}", cmd)
        for n, p in enumerate(change.priorities):
            _set_priority(session, who, f"{key}-priority-{n}", p, field=f"priorities[{n}]")
    return run


def _set_priority(
    session: Session, who: ledger.Actor, key: str, change: PriorityChange, *, field: str
) -> None:
    """A job's priority is its customer order's: change that order's (through the orders
    service, the order and the job's line otherwise as they are)."""
    job = production_rows.job(session, change.work_order)
    ref = job.customer_line if job is not None else None
    if job is None or not ref or "/" not in ref:
        raise Conflict(
            f"{change.work_order} is for no customer line; its priority follows its parent's",
            field=f"{field}.work_order",
            expected="a job made for a customer order line",
        )
    number, line_no = ref.rsplit("/", 1)
    order = customer_orders.get_customer_order(session, number)
    line = customer_orders.get_line(session, order, int(line_no))
    item, customer = session.get(Item, line.item_id), session.get(Customer, order.customer_id)
    assert item is not None and customer is not None
    cmd = CreateCustomerOrder(
        number=order.number, customer=customer.code, priority=Priority(change.priority),
        allow_partial=order.allow_partial, ship_to=order.ship_to, note=order.note,
        lines=[CustomerLineIn(
            line_no=line.line_no, item=item.code, quantity=line.quantity, due_date=line.due_date
        )],
    )  # fmt: skip
    customer_orders.create_customer_order(session, who, key, cmd)


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
    """Capable to promise: when a job for the line would finish, its operations (and its
    child jobs') dispatched into the time the plan in force leaves free on each workstation,
    by calendars and precedence, after the frozen horizon; nothing planned moves, nothing is
    re-solved. With no plan yet, the whole floor is dispatched with it. Changes nothing."""
    key = f"{services.WHAT_IF_PREFIX}PROMISE"
    at = now or utcnow()
    routes = sources.routes_by_item(session)
    extra = route_steps(session, item, quantity, at.date(), priority, key, routes=routes)
    base = services.current(session)
    if base is None:
        floor = build(session, now=at, extra=extra)
        plan = dispatch.edd(floor.problem)
    else:
        floor, plan = _inserted(session, base, extra, at)
    mine = sorted((k for k in plan if k.startswith(key)), key=lambda k: plan[k].start)
    finish = floor.time(max(plan[k].end for k in mine))
    return Promise(
        item=extra[0].item, quantity=quantity, priority=priority,
        promise_date=finish.date(), finish=finish, plan_id=base.id if base else None,
        steps=[
            PromiseStep(
                job=floor.steps[k].job, sequence=floor.steps[k].sequence,
                operation=floor.steps[k].operation, workstation=plan[k].machine,
                start=floor.time(plan[k].start), end=floor.time(plan[k].end),
            )
            for k in mine
        ],
    )  # fmt: skip


def _inserted(
    session: Session, base: PlanRun, steps: list[sources.OpenStep], at: dt.datetime
) -> tuple[Floor, Plan]:
    """New jobs' steps dispatched into the time a plan leaves free."""
    floor = build(session, now=at, only=steps)
    busy = services.busy(session, base, floor)
    return floor, dispatch.insert(floor.problem, busy, services.frozen_minutes())


class NewLine(NamedTuple):
    """A customer line that has no job yet: what `promise_dates` is asked about."""

    reference: str
    item: str
    quantity: Decimal
    due_date: dt.date
    priority: str


def promise_dates(
    session: Session, lines: list[NewLine], *, now: dt.datetime | None = None
) -> dict[str, dt.date]:
    """Capable-to-promise dates of new lines together: their jobs dispatched by due date and
    priority into the time the plan in force leaves free (none without a plan, and none
    for a line whose item has no route)."""
    base = services.current(session)
    if base is None or not lines:
        return {}
    at = now or utcnow()
    routes, codes = sources.routes_by_item(session), sources.item_codes(session)
    made = {codes[i] for i in routes if i in codes}
    steps, keys = [], {}
    for n, line in enumerate(x for x in lines if x.item in made):
        key = f"{services.WHAT_IF_PREFIX}LINE{n}"
        keys[key] = line.reference
        steps += route_steps(
            session, line.item, line.quantity, line.due_date, line.priority, key,
            job_id=-1000 * (n + 1), routes=routes, codes=codes,
        )  # fmt: skip
    if not steps:
        return {}
    floor, plan = _inserted(session, base, steps, at)
    out: dict[str, dt.date] = {}
    for k, slot in plan.items():
        ref = keys[k.split("/")[0].split(".")[0]]
        day = floor.time(slot.end).date()
        out[ref] = max(out.get(ref, day), day)
    return out
