"""Shop-floor reports over a window of days: throughput, cycle and queue time, machine
utilisation and labour efficiency, from the same step, labour and machine records job cost uses.

Definitions (also on the reports page):
- throughput: good quantity of each job's last step, by the day that step ended;
- cycle time: release to completion of each job completed in the window, in hours;
- queue time: from the end of the step before (or the job's release, for the first step) to
  the step's start, averaged per operation, in minutes;
- utilisation: the share of the window's recorded machine time in each state, per workstation
  (time with no state recorded is "unrecorded", so the bars never claim more than was seen);
- labour efficiency: standard minutes earned (a step's standard minutes x good / ordered
  quantity, shared between its people by their minutes on it) over the minutes worked.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from isom.masterdata.models import Item, Person, Workstation
from isom.production.models import (
    LabourRecord,
    MachineRecord,
    MachineState,
    StepStatus,
    WorkOrder,
    WorkOrderStep,
)
from isom.production.timekeeping import seconds_between

MINUTE = Decimal(60)
HOUR = Decimal(3600)


class DayQuantity(BaseModel):
    day: dt.date
    item: str
    quantity: Decimal


class JobCycle(BaseModel):
    work_order: str
    item: str
    released_at: dt.datetime
    completed_at: dt.datetime
    hours: Decimal


class OperationQueue(BaseModel):
    operation: str
    steps: int
    mean_queue_minutes: Decimal
    mean_run_minutes: Decimal


class Utilisation(BaseModel):
    workstation: str
    hours: dict[str, Decimal]  # state -> hours inside the window, plus "unrecorded"


class LabourEfficiency(BaseModel):
    person: str
    name: str
    worked_minutes: Decimal
    earned_minutes: Decimal
    efficiency_percent: Decimal | None


class ShopReport(BaseModel):
    start: dt.datetime
    end: dt.datetime
    throughput: list[DayQuantity]
    cycles: list[JobCycle]
    queues: list[OperationQueue]
    utilisation: list[Utilisation]
    labour: list[LabourEfficiency]


def _mean(values: list[Decimal]) -> Decimal:
    return (
        (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1")) if values else Decimal(0)
    )


def _clip(a: dt.datetime, b: dt.datetime, start: dt.datetime, end: dt.datetime) -> Decimal:
    lo, hi = max(a, start), min(b, end)
    return seconds_between(lo, hi) if hi > lo else Decimal(0)


def shop_report(session: Session, *, days: int = 14, now: dt.datetime | None = None) -> ShopReport:
    """The window's throughput, cycle and queue times, utilisation and labour efficiency."""
    end = now or dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=days)
    return ShopReport(
        start=start,
        end=end,
        throughput=_throughput(session, start, end),
        cycles=_cycles(session, start, end),
        queues=_queues(session, start, end),
        utilisation=_utilisation(session, start, end),
        labour=_labour(session, start, end),
    )


def _throughput(session: Session, start: dt.datetime, end: dt.datetime) -> list[DayQuantity]:
    last = (
        select(WorkOrderStep.work_order_id, func.max(WorkOrderStep.sequence).label("seq"))
        .group_by(WorkOrderStep.work_order_id)
        .subquery()
    )
    rows = session.execute(
        select(WorkOrderStep.actual_end, Item.code, WorkOrderStep.quantity_good)
        .join(
            last,
            and_(
                last.c.work_order_id == WorkOrderStep.work_order_id,
                last.c.seq == WorkOrderStep.sequence,
            ),
        )
        .join(WorkOrder, WorkOrder.id == WorkOrderStep.work_order_id)
        .join(Item, Item.id == WorkOrder.item_id)
        .where(
            WorkOrderStep.status == StepStatus.done,
            WorkOrderStep.actual_end >= start,
            WorkOrderStep.actual_end < end,
        )
    ).all()
    per_day: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for ended, item, good in rows:
        if ended is not None:  # the query asks for ended steps; the column itself is nullable
            per_day[(ended.date(), item)] += good
    return [DayQuantity(day=d, item=i, quantity=q) for (d, i), q in sorted(per_day.items())]


def _cycles(session: Session, start: dt.datetime, end: dt.datetime) -> list[JobCycle]:
    rows = session.execute(
        select(WorkOrder.number, Item.code, WorkOrder.released_at, WorkOrder.completed_at)
        .join(Item, Item.id == WorkOrder.item_id)
        .where(
            WorkOrder.completed_at >= start,
            WorkOrder.completed_at < end,
            WorkOrder.released_at.is_not(None),
        )
        .order_by(WorkOrder.completed_at)
    ).all()
    return [
        JobCycle(
            work_order=str(number),
            item=item,
            released_at=released,
            completed_at=completed,
            hours=(seconds_between(released, completed) / HOUR).quantize(Decimal("0.1")),
        )
        for number, item, released, completed in rows
        if released is not None and completed is not None
    ]


def _queues(session: Session, start: dt.datetime, end: dt.datetime) -> list[OperationQueue]:
    steps = session.execute(
        select(
            WorkOrderStep.work_order_id,
            WorkOrderStep.sequence,
            WorkOrderStep.operation,
            WorkOrderStep.actual_start,
            WorkOrderStep.actual_end,
            WorkOrder.released_at,
        )
        .join(WorkOrder, WorkOrder.id == WorkOrderStep.work_order_id)
        .where(WorkOrderStep.actual_start >= start, WorkOrderStep.actual_start < end)
        .order_by(WorkOrderStep.work_order_id, WorkOrderStep.sequence)
    ).all()
    ends: dict[tuple[int, int], dt.datetime | None] = {
        (wo, seq): e
        for wo, seq, e in session.execute(
            select(
                WorkOrderStep.work_order_id, WorkOrderStep.sequence, WorkOrderStep.actual_end
            ).where(WorkOrderStep.work_order_id.in_({s[0] for s in steps}))
        )
    }
    queued: dict[str, list[Decimal]] = defaultdict(list)
    ran: dict[str, list[Decimal]] = defaultdict(list)
    for wo, seq, operation, began, finished, released in steps:
        if began is None:
            continue
        before = [e for (w, s), e in ends.items() if w == wo and s < seq]
        ready = max((e for e in before if e is not None), default=None) if before else released
        if ready is not None and began >= ready:
            queued[operation].append(seconds_between(ready, began) / MINUTE)
        if finished is not None:
            ran[operation].append(seconds_between(began, finished) / MINUTE)
    return [
        OperationQueue(
            operation=op,
            steps=len(queued[op]),
            mean_queue_minutes=_mean(queued[op]),
            mean_run_minutes=_mean(ran[op]),
        )
        for op in sorted(set(queued) | set(ran))
    ]


def _utilisation(session: Session, start: dt.datetime, end: dt.datetime) -> list[Utilisation]:
    records = session.execute(
        select(
            Workstation.code, MachineRecord.state, MachineRecord.started_at, MachineRecord.ended_at
        )
        .join(Workstation, Workstation.id == MachineRecord.workstation_id)
        .where(
            MachineRecord.started_at < end,
            or_(MachineRecord.ended_at.is_(None), MachineRecord.ended_at > start),
        )
    ).all()
    window = seconds_between(start, end)
    out: dict[str, dict[str, Decimal]] = {}
    for ws, state, began, ended in records:
        hours = out.setdefault(ws, {s.value: Decimal(0) for s in MachineState})
        hours[state.value] += _clip(began, ended or end, start, end)
    result = []
    for ws in sorted(out):
        seconds = out[ws]
        seen = sum(seconds.values(), Decimal(0))
        seconds["unrecorded"] = max(window - seen, Decimal(0))
        result.append(
            Utilisation(
                workstation=ws,
                hours={k: (v / HOUR).quantize(Decimal("0.01")) for k, v in seconds.items()},
            )
        )
    return result


def _labour(session: Session, start: dt.datetime, end: dt.datetime) -> list[LabourEfficiency]:
    records = session.execute(
        select(
            LabourRecord.step_id,
            LabourRecord.person_id,
            LabourRecord.started_at,
            LabourRecord.ended_at,
        ).where(
            LabourRecord.started_at < end,
            or_(LabourRecord.ended_at.is_(None), LabourRecord.ended_at > start),
        )
    ).all()
    worked: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for step_id, person_id, began, ended in records:
        worked[(step_id, person_id)] += _clip(began, ended or end, start, end) / MINUTE
    step_ids = {s for s, _ in worked}
    steps = {
        sid: (std, good, qty)
        for sid, std, good, qty in session.execute(
            select(
                WorkOrderStep.id,
                WorkOrderStep.standard_minutes,
                WorkOrderStep.quantity_good,
                WorkOrder.quantity,
            )
            .join(WorkOrder, WorkOrder.id == WorkOrderStep.work_order_id)
            .where(WorkOrderStep.id.in_(step_ids))
        )
    }
    on_step: dict[int, Decimal] = defaultdict(Decimal)
    for (sid, _pid), minutes in worked.items():
        on_step[sid] += minutes
    per_person: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (sid, pid), minutes in worked.items():
        std, good, qty = steps[sid]
        earned = std * good / qty if qty else Decimal(0)
        share = minutes / on_step[sid] if on_step[sid] else Decimal(0)
        per_person[pid][0] += minutes
        per_person[pid][1] += earned * share
    people = {
        p.id: p for p in session.scalars(select(Person).where(Person.id.in_(set(per_person))))
    }
    out = []
    for pid, (minutes, earned) in sorted(per_person.items(), key=lambda kv: people[kv[0]].code):
        out.append(
            LabourEfficiency(
                person=people[pid].code,
                name=people[pid].name,
                worked_minutes=minutes.quantize(Decimal("0.1")),
                earned_minutes=earned.quantize(Decimal("0.1")),
                efficiency_percent=(earned * 100 / minutes).quantize(Decimal("1"))
                if minutes
                else None,
            )
        )
    return out
