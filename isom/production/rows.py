"""Production's jobs, steps and materials as plain rows: the door (beside `queries.py`, which
answers production's own screens) through which costing, planning, integration, devices and
the agents read jobs, so no other domain queries production's tables or holds its ORM rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Literal, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.masterdata.models import Route, RouteStep, StepInput
from isom.production.enums import MachineState, MaterialRole, StepStatus, WorkOrderStatus
from isom.production.models import (
    MachineRecord,
    ProductionEvent,
    StepMaterial,
    WorkOrder,
    WorkOrderStep,
)

#: Jobs released to the floor and not finished.
RELEASED = (WorkOrderStatus.released, WorkOrderStatus.in_progress)
#: Jobs that still put material into stock: planned, released or running.
OPEN_JOBS = (WorkOrderStatus.planned, *RELEASED)


@dataclass(frozen=True, slots=True)
class JobRow:
    """A work order: what it makes, how many, by when, for whom, under which parent."""

    id: int
    number: str
    item_id: int
    quantity: Decimal
    due_date: dt.date
    customer_line: str | None
    status: WorkOrderStatus
    parent_id: int | None
    parent_step_sequence: int | None
    route_code: str | None
    route_revision: str | None
    released_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    site_id: int | None


@dataclass(frozen=True, slots=True)
class StepRow:
    """A step of a job as released: its standard times and rates, and what it has made."""

    id: int
    work_order_id: int
    sequence: int
    operation: str
    name: str
    workstation_kind: str | None
    skill: str | None
    setup_minutes: Decimal
    run_minutes_per_unit: Decimal
    cleanup_minutes: Decimal
    standard_minutes: Decimal
    std_labour_rate: Decimal
    std_machine_rate: Decimal
    std_overhead_rate: Decimal
    status: StepStatus
    workstation_id: int | None
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None
    quantity_in: Decimal
    quantity_good: Decimal
    quantity_scrap: Decimal
    quantity_rework: Decimal


@dataclass(frozen=True, slots=True)
class MaterialRow:
    """A line of a step's bill of materials as released."""

    step_id: int
    item_id: int
    role: MaterialRole
    quantity_per: Decimal
    quantity: Decimal
    std_unit_cost: Decimal


R = TypeVar("R")


def as_row(kind: type[R], orm: Any) -> R:
    """A frozen copy of the columns of an ORM row that a row class names."""
    return kind(**{f.name: getattr(orm, f.name) for f in fields(kind)})  # type: ignore[arg-type]


def job_row(wo: WorkOrder) -> JobRow:
    """A job's row (for production's own code that holds the ORM row)."""
    return as_row(JobRow, wo)


def job(session: Session, number: str) -> JobRow | None:
    """The job with this number, if there is one."""
    wo = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
    return job_row(wo) if wo is not None else None


def jobs(
    session: Session,
    *,
    statuses: Iterable[WorkOrderStatus] | None = None,
    ids: Iterable[int] | None = None,
    due_before: dt.date | None = None,
    started: bool = False,
    by: Literal["id", "due"] = "id",
) -> list[JobRow]:
    """Jobs in these statuses (with these ids, due before a day, started), oldest first or by
    due date."""
    query = select(WorkOrder)
    if statuses is not None:
        query = query.where(WorkOrder.status.in_(list(statuses)))
    if ids is not None:
        query = query.where(WorkOrder.id.in_(set(ids)))
    if due_before is not None:
        query = query.where(WorkOrder.due_date < due_before)
    if started:
        query = query.where(WorkOrder.started_at.is_not(None))
    order = (WorkOrder.id,) if by == "id" else (WorkOrder.due_date, WorkOrder.id)
    return [job_row(wo) for wo in session.scalars(query.order_by(*order))]


def steps(session: Session, job_ids: Iterable[int]) -> list[StepRow]:
    """The steps of these jobs, in route order."""
    wanted = set(job_ids)
    if not wanted:
        return []
    rows = session.scalars(
        select(WorkOrderStep)
        .where(WorkOrderStep.work_order_id.in_(wanted))
        .order_by(WorkOrderStep.work_order_id, WorkOrderStep.sequence)
    )
    return [as_row(StepRow, s) for s in rows]


def open_steps(
    session: Session, *, by: Literal["id", "due"] = "id"
) -> list[tuple[JobRow, StepRow]]:
    """Every step not done of released and running jobs, in job and route order."""
    order = (WorkOrder.id,) if by == "id" else (WorkOrder.due_date, WorkOrder.id)
    rows = session.execute(
        select(WorkOrder, WorkOrderStep)
        .join(WorkOrderStep, WorkOrderStep.work_order_id == WorkOrder.id)
        .where(WorkOrder.status.in_(RELEASED), WorkOrderStep.status != StepStatus.done)
        .order_by(*order, WorkOrderStep.sequence)
    ).all()
    return [(job_row(wo), as_row(StepRow, st)) for wo, st in rows]


def materials(
    session: Session, step_ids: Iterable[int], *, role: MaterialRole | None = None
) -> list[MaterialRow]:
    """The bill-of-materials lines of these steps (of one role, if given)."""
    wanted = list(step_ids)
    if not wanted:
        return []
    query = select(StepMaterial).where(StepMaterial.step_id.in_(wanted))
    if role is not None:
        query = query.where(StepMaterial.role == role)
    return [as_row(MaterialRow, m) for m in session.scalars(query.order_by(StepMaterial.id))]


def machines_down(session: Session) -> dict[int, dt.datetime]:
    """Workstations down right now, and since when."""
    rows = session.execute(
        select(MachineRecord.workstation_id, MachineRecord.started_at).where(
            MachineRecord.ended_at.is_(None), MachineRecord.state == MachineState.down
        )
    )
    return {ws: since for ws, since in rows}


def last_event_id(session: Session) -> int | None:
    """The newest production event's id (a change means something landed)."""
    found: int | None = session.scalar(select(func.max(ProductionEvent.id)))
    return found


@dataclass(frozen=True, slots=True)
class EventRow:
    """A production event as its readers see it: the log's readers and the facts published."""

    id: int
    key: str
    kind: str
    work_order_id: int | None
    step_id: int | None
    person_id: int | None
    workstation_id: int | None
    actor: str
    device: str | None
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    command: dict[str, Any]


def event_row(event: ProductionEvent) -> EventRow:
    """The row of an event production just recorded (what it publishes)."""
    return as_row(EventRow, event)


_EVENT_COLUMNS = [getattr(ProductionEvent, f.name) for f in fields(EventRow)]


def events_after(
    session: Session, after: int, *, limit: int | None = None, skip_consume: bool = False
) -> list[EventRow]:
    """Production events after the id `after`, oldest first."""
    query = select(*_EVENT_COLUMNS).where(ProductionEvent.id > after)
    if skip_consume:
        query = query.where(ProductionEvent.kind != "consume")
    query = query.order_by(ProductionEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return [EventRow(*row) for row in session.execute(query)]


@dataclass(frozen=True, slots=True)
class JobOutput:
    """What an open job will still put into stock: its quantity less its last step's good."""

    number: str
    item_id: int
    due_date: dt.date
    remaining: Decimal


def remaining_outputs(session: Session, items: set[int] | None = None) -> list[JobOutput]:
    """The output still to come of every open job (of these items), where some remains."""
    query = select(
        WorkOrder.id, WorkOrder.item_id, WorkOrder.due_date, WorkOrder.quantity, WorkOrder.number
    ).where(WorkOrder.status.in_(OPEN_JOBS))
    found = session.execute(
        query if items is None else query.where(WorkOrder.item_id.in_(items))
    ).all()
    if not found:
        return []
    step_rows = select(
        WorkOrderStep.work_order_id, WorkOrderStep.sequence, WorkOrderStep.quantity_good
    )
    if items is not None:
        step_rows = step_rows.where(WorkOrderStep.work_order_id.in_([j[0] for j in found]))
    last: dict[int, tuple[int, Decimal]] = {}
    for wo_id, seq, good in session.execute(step_rows):
        if wo_id not in last or seq > last[wo_id][0]:
            last[wo_id] = (seq, good)
    out = []
    for wo_id, item_id, due, qty, number in found:
        remaining = qty - last.get(wo_id, (0, Decimal(0)))[1]
        if remaining > 0:
            out.append(JobOutput(str(number), item_id, due, remaining))
    return out


@dataclass(frozen=True, slots=True)
class ReleasedInput:
    """An input line of a released or running job's step, as released (not less consumed)."""

    item_id: int
    quantity: Decimal
    sequence: int
    number: str
    due_date: dt.date


def released_inputs(session: Session, items: set[int] | None = None) -> list[ReleasedInput]:
    """The input lines of released and running jobs' steps (of these items). The query starts
    from the jobs' status (indexed), so a few items cost a few rows."""
    query = (
        select(
            StepMaterial.item_id,
            StepMaterial.quantity,
            WorkOrderStep.sequence,
            WorkOrder.number,
            WorkOrder.due_date,
        )
        .select_from(WorkOrder)
        .join(WorkOrderStep, WorkOrderStep.work_order_id == WorkOrder.id)
        .join(StepMaterial, StepMaterial.step_id == WorkOrderStep.id)
        .where(WorkOrder.status.in_(RELEASED), StepMaterial.role == MaterialRole.input)
    )
    if items is not None:
        query = query.where(StepMaterial.item_id.in_(items))
    return [
        ReleasedInput(item_id, qty, seq, str(number), due)
        for item_id, qty, seq, number, due in session.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class PlannedInput:
    """An input a planned job will need by an active route of its item (not yet released)."""

    item_id: int
    quantity_per: Decimal
    sequence: int
    number: str
    due_date: dt.date
    quantity: Decimal
    route_id: int
    route_item_id: int


def planned_inputs(session: Session, items: set[int] | None = None) -> list[PlannedInput]:
    """The inputs of planned jobs by every active route of their item (of these items)."""
    query = (
        select(
            StepInput.item_id,
            StepInput.quantity_per,
            RouteStep.sequence,
            WorkOrder.number,
            WorkOrder.due_date,
            WorkOrder.quantity,
            Route.id,
            Route.item_id,
        )
        .select_from(WorkOrder)
        .join(Route, Route.item_id == WorkOrder.item_id)
        .join(RouteStep, RouteStep.route_id == Route.id)
        .join(StepInput, StepInput.step_id == RouteStep.id)
        .where(WorkOrder.status == WorkOrderStatus.planned, Route.active)
    )
    if items is not None:
        query = query.where(StepInput.item_id.in_(items))
    return [
        PlannedInput(item_id, per, seq, str(number), due, qty, route_id, route_item)
        for item_id, per, seq, number, due, qty, route_id, route_item in session.execute(query)
    ]


def family_items(session: Session, job_ids: set[int]) -> tuple[set[int], set[int]]:
    """For a job and its descendants: the items they make, and the items their steps use or
    make (the planning rows a change to the family moves)."""
    family, frontier = set(job_ids), set(job_ids)
    while frontier:
        frontier = (
            set(session.scalars(select(WorkOrder.id).where(WorkOrder.parent_id.in_(frontier))))
            - family
        )
        family |= frontier
    made = set(session.scalars(select(WorkOrder.item_id).where(WorkOrder.id.in_(family))))
    used = set(
        session.scalars(
            select(StepMaterial.item_id)
            .join(WorkOrderStep, WorkOrderStep.id == StepMaterial.step_id)
            .where(WorkOrderStep.work_order_id.in_(family))
        )
    )
    return made, used | made


def customer_lines_in_production(session: Session) -> set[str]:
    """The customer lines (SO-1001/1) an open job is made for."""
    return {
        str(line)
        for line in session.scalars(
            select(WorkOrder.customer_line).where(
                WorkOrder.status.in_(OPEN_JOBS), WorkOrder.customer_line.is_not(None)
            )
        )
    }


def running_step(session: Session, workstation_id: int) -> str | None:
    """The job step running on a workstation now (`WO-000001/10`), if any."""
    row = session.execute(
        select(WorkOrder.number, WorkOrderStep.sequence)
        .join(WorkOrder, WorkOrder.id == WorkOrderStep.work_order_id)
        .where(
            WorkOrderStep.workstation_id == workstation_id,
            WorkOrderStep.status == StepStatus.running,
        )
        .order_by(WorkOrderStep.id)
        .limit(1)
    ).first()
    return f"{row[0]}/{row[1]}" if row else None
