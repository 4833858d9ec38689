"""Read side of production: a job as released, and the live WIP board."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from isom.auth import sites
from isom.ledger import queries as ledger_queries
from isom.masterdata.models import Item, Person, Workstation
from isom.production import services, timekeeping
from isom.production.models import (
    LabourRecord,
    MachineRecord,
    MachineState,
    MaterialRole,
    ProductionEvent,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import StepView, WorkOrderView
from isom.types import utcnow

OPEN = (WorkOrderStatus.released, WorkOrderStatus.in_progress)


def work_order(session: Session, number: str) -> WorkOrderView:
    """A job with its steps and step BOM as released."""
    wo = services.get_work_order(session, number)
    items = dict(session.execute(select(Item.id, Item.code)).all())
    parent = session.get(WorkOrder, wo.parent_id) if wo.parent_id else None
    children = list(session.scalars(select(WorkOrder.number).where(WorkOrder.parent_id == wo.id)))
    steps = []
    for s in services.steps_of(session, wo):
        mats = services.materials_of(session, s)
        steps.append(
            StepView(
                sequence=s.sequence,
                operation=s.operation,
                name=s.name,
                status=s.status.value,
                workstation_kind=s.workstation_kind,
                skill=s.skill,
                standard_minutes=s.standard_minutes,
                quantity_good=s.quantity_good,
                quantity_scrap=s.quantity_scrap,
                quantity_rework=s.quantity_rework,
                rework_pending=s.rework_pending,
                quantity_returned=s.quantity_returned,
                inputs=[
                    {
                        "item": items[m.item_id],
                        "quantity": str(m.quantity),
                        "floor_stock": m.floor_stock,
                    }
                    for m in mats
                    if m.role is MaterialRole.input
                ],
                outputs=[
                    {"item": items[m.item_id], "kind": m.role.value, "quantity": str(m.quantity)}
                    for m in mats
                    if m.role is not MaterialRole.input
                ],
            )
        )
    return WorkOrderView(
        number=str(wo.number),
        item=items[wo.item_id],
        quantity=wo.quantity,
        due_date=wo.due_date,
        status=wo.status.value,
        customer_line=wo.customer_line,
        parent=parent.number if parent else None,
        children=[str(c) for c in children],
        route=wo.route_code,
        steps=steps,
    )


class WipContainer(BaseModel):
    container: str
    item: str
    lot: str | None
    quantity: Decimal


class WipStep(BaseModel):
    sequence: int
    operation: str
    status: str
    workstation: str | None
    consumed: dict[str, Decimal]
    at_step: Decimal
    after_step: list[WipContainer]
    good: Decimal
    scrap: Decimal
    rework_pending: Decimal
    returned: Decimal
    people: list[str]
    elapsed_minutes: Decimal
    standard_minutes: Decimal


class WipJob(BaseModel):
    work_order: str
    item: str
    quantity: Decimal
    due_date: dt.date
    status: str
    current_step: int | None
    late: bool
    stuck: bool
    last_event_at: dt.datetime | None
    steps: list[WipStep]


class WipBoard(BaseModel):
    at: dt.datetime
    jobs: list[WipJob]
    queues: dict[str, list[str]]
    late: list[str]
    stuck: list[str]


def wip(session: Session, *, stuck_minutes: int = 30, at: dt.datetime | None = None) -> WipBoard:
    """Every open job: where it is, what is at and between its steps, who is on it, late/stuck."""
    now = at or utcnow()
    items = dict(session.execute(select(Item.id, Item.code)).all())
    stations = dict(session.execute(select(Workstation.id, Workstation.code)).all())
    jobs = list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.status.in_(OPEN), sites.within(WorkOrder.site_id))
            .order_by(WorkOrder.due_date, WorkOrder.id)
        )
    )
    steps_by_job = _steps_by_job(session, [j.id for j in jobs])
    refs = [f"{j.number}/{s.sequence}" for j in jobs for s in steps_by_job[j.id]]
    in_step: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in ledger_queries.place_lines(session, [f"step:{r}" for r in refs]):
        in_step[line.place.removeprefix("step:")][items[line.item_id]] += line.quantity
    after: dict[str, list[WipContainer]] = defaultdict(list)
    for w in ledger_queries.wip_lines_of(session, refs):
        after[w.step].append(
            WipContainer(
                container=w.container, item=items[w.item_id], lot=w.lot, quantity=w.quantity
            )
        )
    people, elapsed = _people_on_steps(session, [j.id for j in jobs], now)
    kinds = session.execute(
        select(Workstation.code, Workstation.kind, Workstation.operations)
    ).all()
    out: list[WipJob] = []
    queues: dict[str, list[str]] = defaultdict(list)
    for j in jobs:
        steps = steps_by_job[j.id]
        for s in steps:
            if s.status is StepStatus.ready:
                for code, kind, ops in kinds:
                    if (not s.workstation_kind or kind == s.workstation_kind) and (
                        not ops or s.operation in ops
                    ):
                        queues[code].append(f"{j.number}/{s.sequence}")
        views = [
            _wip_step(j, n, s, stations, in_step, after, people, elapsed)
            for n, s in enumerate(steps)
        ]
        out.append(_wip_job(j, steps, views, items[j.item_id], now, stuck_minutes))
    return WipBoard(
        at=now,
        jobs=out,
        queues=dict(queues),
        late=[j.work_order for j in out if j.late],
        stuck=[j.work_order for j in out if j.stuck],
    )


def _steps_by_job(session: Session, job_ids: list[int]) -> dict[int, list[WorkOrderStep]]:
    steps_by_job: dict[int, list[WorkOrderStep]] = defaultdict(list)
    for s in session.scalars(
        select(WorkOrderStep)
        .where(WorkOrderStep.work_order_id.in_(job_ids))
        .order_by(WorkOrderStep.sequence)
    ):
        steps_by_job[s.work_order_id].append(s)
    return steps_by_job


def _people_on_steps(
    session: Session, job_ids: list[int], now: dt.datetime
) -> tuple[dict[int, list[str]], dict[int, Decimal]]:
    """Who is clocked on each step now, and the minutes clocked on each step so far."""
    open_labour = session.execute(
        select(LabourRecord.step_id, Person.name)
        .join(Person, Person.id == LabourRecord.person_id)
        .where(LabourRecord.ended_at.is_(None))
    ).all()
    people: dict[int, list[str]] = defaultdict(list)
    for step_id, name in open_labour:
        people[step_id].append(name)
    spans = session.execute(
        select(LabourRecord.step_id, LabourRecord.started_at, LabourRecord.ended_at).where(
            LabourRecord.work_order_id.in_(job_ids)
        )
    ).all()
    elapsed: dict[int, Decimal] = defaultdict(Decimal)
    for step_id, a, b in spans:
        delta = (b or now) - a
        elapsed[step_id] += Decimal(int(delta.total_seconds() * 1000)) / 60000
    return people, elapsed


def _wip_step(
    j: WorkOrder,
    n: int,
    s: WorkOrderStep,
    stations: dict[int, str],
    in_step: dict[str, dict[str, Decimal]],
    after: dict[str, list[WipContainer]],
    people: dict[int, list[str]],
    elapsed: dict[int, Decimal],
) -> WipStep:
    ref = f"{j.number}/{s.sequence}"
    return WipStep(
        sequence=s.sequence,
        operation=s.operation,
        status=s.status.value,
        workstation=stations.get(s.workstation_id) if s.workstation_id else None,
        consumed={k: v for k, v in in_step[ref].items() if v > 0},
        at_step=s.quantity_in - s.quantity_good - s.quantity_scrap if n else s.rework_pending,
        after_step=after[ref],
        good=s.quantity_good,
        scrap=s.quantity_scrap,
        rework_pending=s.rework_pending,
        returned=s.quantity_returned,
        people=sorted(people[s.id]),
        elapsed_minutes=elapsed[s.id].quantize(Decimal("0.01")),
        standard_minutes=s.standard_minutes,
    )


def _wip_job(
    j: WorkOrder,
    steps: list[WorkOrderStep],
    views: list[WipStep],
    item: str,
    now: dt.datetime,
    stuck_minutes: int,
) -> WipJob:
    current = next((s for s in steps if s.status is not StepStatus.done), None)
    last = max((s.last_event_at for s in steps if s.last_event_at), default=None)
    running = any(s.status is StepStatus.running for s in steps)
    return WipJob(
        work_order=str(j.number),
        item=item,
        quantity=j.quantity,
        due_date=j.due_date,
        status=j.status.value,
        current_step=current.sequence if current else None,
        late=j.due_date < now.date(),
        stuck=running and (last is None or now - last > dt.timedelta(minutes=stuck_minutes)),
        last_event_at=last,
        steps=views,
    )


def board_summary(board: WipBoard) -> dict[str, Any]:
    """A compact JSON-able form of the board for the SSE stream."""
    return board.model_dump(mode="json")


class LearnedTime(BaseModel):
    """Actual times of done steps for one operation, item, workstation and run-length band."""

    operation: str
    item: str
    workstation: str
    run_length: str
    steps: int
    units: Decimal
    mean_run_length: Decimal
    setup_minutes: Decimal
    run_minutes: Decimal
    cleanup_minutes: Decimal
    down_minutes: Decimal
    run_minutes_per_unit: Decimal
    standard_setup_minutes: Decimal
    standard_run_minutes_per_unit: Decimal
    standard_cleanup_minutes: Decimal
    actual_minutes: Decimal
    standard_minutes: Decimal
    actual_minutes_per_unit: Decimal
    standard_minutes_per_unit: Decimal


RUN_LENGTH_BANDS = ((10, "1-9"), (100, "10-99"), (1000, "100-999"))


def run_length_band(units: Decimal) -> str:
    """The band a run length falls in: 1-9, 10-99, 100-999, 1000+ units."""
    return next((label for top, label in RUN_LENGTH_BANDS if units < top), "1000+")


Spans = list[tuple[dt.datetime, dt.datetime]]


_Timing = dict[str, Decimal]
_StateSpans = dict[int, list[tuple[MachineState, dt.datetime, dt.datetime]]]


def learned_times(session: Session, *, now: dt.datetime | None = None) -> list[LearnedTime]:
    """Actual setup, run and cleanup of done steps, per operation, item, workstation and run
    length, beside the standards snapshotted at release.

    A step's time is the union of its labour spans (someone clocked on). Of that, the part the
    workstation was in `setup` is setup, in `cleanup` cleanup, `down` is down time (neither),
    and the rest is run (machine `run`, `idle`, or no state recorded: manual work). Setup and
    cleanup are reported per step (mean); run per unit.
    """
    until = now or utcnow()
    items = dict(session.execute(select(Item.id, Item.code)).all())
    stations = dict(session.execute(select(Workstation.id, Workstation.code)).all())
    done = session.execute(
        select(WorkOrderStep, WorkOrder.item_id)
        .join(WorkOrder, WorkOrder.id == WorkOrderStep.work_order_id)
        .where(WorkOrderStep.status == StepStatus.done, WorkOrderStep.workstation_id.is_not(None))
    ).all()
    spans, states = _clocked_and_states(session, [s for s, _ in done], until)
    groups: dict[tuple[str, int, int, str], list[_Timing]] = defaultdict(list)
    for step, item_id in done:
        units = step.quantity_good + step.quantity_scrap
        band = run_length_band(units)
        groups[(step.operation, item_id, step.workstation_id or 0, band)].append(
            _step_timing(step, units, spans[step.id], states[step.workstation_id or 0])
        )
    return [
        _learned(operation, items[item_id], stations.get(ws_id, "?"), band, rows)
        for (operation, item_id, ws_id, band), rows in sorted(groups.items())
    ]


def _clocked_and_states(
    session: Session, steps: list[WorkOrderStep], until: dt.datetime
) -> tuple[dict[int, Spans], _StateSpans]:
    """The done steps' labour spans, and their workstations' setup, cleanup and down spans."""
    spans: dict[int, Spans] = defaultdict(list)
    states: _StateSpans = defaultdict(list)
    if not steps:
        return spans, states
    for step_id, a, b in session.execute(
        select(LabourRecord.step_id, LabourRecord.started_at, LabourRecord.ended_at).where(
            LabourRecord.step_id.in_([s.id for s in steps]),
            LabourRecord.ended_at.is_not(None),
        )
    ).all():
        spans[step_id].append((a, b or a))
    for ws_id, state, a, b in session.execute(
        select(
            MachineRecord.workstation_id,
            MachineRecord.state,
            MachineRecord.started_at,
            MachineRecord.ended_at,
        ).where(
            MachineRecord.workstation_id.in_({s.workstation_id for s in steps}),
            MachineRecord.state.in_((MachineState.setup, MachineState.cleanup, MachineState.down)),
        )
    ).all():
        states[ws_id].append((state, a, b or until))
    return spans, states


def _step_timing(
    step: WorkOrderStep,
    units: Decimal,
    spans: Spans,
    states: list[tuple[MachineState, dt.datetime, dt.datetime]],
) -> _Timing:
    """One done step's clocked minutes split into setup, cleanup, down and run."""
    clocked = _union(spans)
    split = {k: Decimal(0) for k in ("setup", "cleanup", "down")}
    for state, a, b in states:
        split[state.value] += _overlap_minutes(clocked, a, b)
    elapsed = _union_minutes(clocked)
    return {
        "units": units,
        "elapsed": elapsed,
        "setup": split["setup"],
        "cleanup": split["cleanup"],
        "down": split["down"],
        "run": elapsed - split["setup"] - split["cleanup"] - split["down"],
        "standard": step.standard_minutes,
        "std_setup": step.setup_minutes,
        "std_run": step.run_minutes_per_unit,
        "std_cleanup": step.cleanup_minutes,
    }


def _learned(
    operation: str, item: str, workstation: str, band: str, rows: list[_Timing]
) -> LearnedTime:
    """The means and totals of one group of done steps, beside their standards."""
    n = len(rows)
    q, q4 = Decimal("0.01"), Decimal("0.0001")

    def total(k: str) -> Decimal:
        return sum((r[k] for r in rows), Decimal(0))

    units = total("units")

    def per_unit(k: str) -> Decimal:
        return (total(k) / units).quantize(q4) if units else Decimal(0)

    return LearnedTime(
        operation=operation,
        item=item,
        workstation=workstation,
        run_length=band,
        steps=n,
        units=units,
        mean_run_length=(units / n).quantize(q),
        setup_minutes=(total("setup") / n).quantize(q),
        run_minutes=total("run").quantize(q),
        cleanup_minutes=(total("cleanup") / n).quantize(q),
        down_minutes=total("down").quantize(q),
        run_minutes_per_unit=per_unit("run"),
        standard_setup_minutes=(total("std_setup") / n).quantize(q),
        standard_run_minutes_per_unit=(total("std_run") / n).quantize(q4),
        standard_cleanup_minutes=(total("std_cleanup") / n).quantize(q),
        actual_minutes=total("elapsed").quantize(q),
        standard_minutes=total("standard").quantize(q),
        actual_minutes_per_unit=per_unit("elapsed"),
        standard_minutes_per_unit=per_unit("standard"),
    )


def _union(spans: Spans) -> Spans:
    """Overlapping spans merged into disjoint ones, in order."""
    out: Spans = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _overlap_minutes(spans: Spans, a: dt.datetime, b: dt.datetime) -> Decimal:
    """Minutes of the disjoint `spans` that fall between a and b."""
    total = Decimal(0)
    for s, e in spans:
        lo, hi = max(s, a), min(e, b)
        if hi > lo:
            total += timekeeping.seconds_between(lo, hi)
    return total / 60


def _union_minutes(spans: Spans) -> Decimal:
    """Minutes covered by the spans, overlaps counted once."""
    return sum((timekeeping.seconds_between(a, b) for a, b in _union(spans)), Decimal(0)) / 60


def wip_version(session: Session) -> tuple[int | None, int | None]:
    """The newest production and ledger event ids: the board changes only when one of them does."""
    return (
        session.scalar(select(func.max(ProductionEvent.id))),
        ledger_queries.last_event_id(session),
    )


@dataclass(frozen=True, slots=True)
class OpenJob:
    """An open job as a planner re-plans it: what it still makes, for whom, under which parent."""

    number: str
    item_id: int
    quantity: Decimal
    remaining: Decimal
    due_date: dt.date
    status: WorkOrderStatus
    started: bool
    customer_line: str | None
    parent: str | None
    parent_step: int | None


def open_jobs(session: Session) -> list[OpenJob]:
    """Every planned, released or running job, oldest first, with what it has still to make.

    Read as plain columns, not entities: the agents read every open job several times a run."""
    parent = aliased(WorkOrder)
    rows = session.execute(
        select(
            WorkOrder.id,
            WorkOrder.number,
            WorkOrder.item_id,
            WorkOrder.quantity,
            WorkOrder.due_date,
            WorkOrder.status,
            WorkOrder.customer_line,
            WorkOrder.parent_step_sequence,
            parent.number,
        )
        .outerjoin(parent, parent.id == WorkOrder.parent_id)
        .where(
            WorkOrder.status.in_((WorkOrderStatus.planned, *OPEN)), sites.within(WorkOrder.site_id)
        )
        .order_by(WorkOrder.id)
    ).all()
    if not rows:
        return []
    last: dict[int, tuple[int, Decimal]] = {}
    busy: set[int] = set()
    ids = [row[0] for row in rows]
    for wo_id, seq, good, status in session.execute(
        select(
            WorkOrderStep.work_order_id,
            WorkOrderStep.sequence,
            WorkOrderStep.quantity_good,
            WorkOrderStep.status,
        ).where(WorkOrderStep.work_order_id.in_(ids))
    ):
        if wo_id not in last or seq > last[wo_id][0]:
            last[wo_id] = (seq, good)
        if status not in (StepStatus.waiting, StepStatus.ready):
            busy.add(wo_id)
    return [
        OpenJob(
            number=str(number),
            item_id=item_id,
            quantity=quantity,
            remaining=quantity - last.get(wo_id, (0, Decimal(0)))[1],
            due_date=due_date,
            status=status,
            started=status is WorkOrderStatus.in_progress or wo_id in busy,
            customer_line=customer_line,
            parent=parent_number,
            parent_step=parent_step,
        )
        for (
            wo_id,
            number,
            item_id,
            quantity,
            due_date,
            status,
            customer_line,
            parent_step,
            parent_number,
        ) in rows
    ]


#: Jobs that have a cost to show: started, finished or closed.
COSTED = (WorkOrderStatus.in_progress, WorkOrderStatus.complete, WorkOrderStatus.closed)


def costed_job_numbers(session: Session, *, limit: int) -> list[str]:
    """The numbers of the latest jobs that have a cost to show, newest first (costing's list)."""
    return [
        str(number)
        for number in session.scalars(
            select(WorkOrder.number)
            .where(
                WorkOrder.status.in_(COSTED),
                WorkOrder.number.is_not(None),
                sites.within(WorkOrder.site_id),
            )
            .order_by(WorkOrder.id.desc())
            .limit(limit)
        )
    ]
