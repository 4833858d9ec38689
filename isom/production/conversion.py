"""The conversion cost a step's output carries: labour, machine and overhead time so far.

The overhead rates are set through costing, a layer above production; their table is declared
in master data (`OverheadRate`), so production reads them here without calling up into costing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.masterdata.models import OverheadRate, Person, Workstation
from isom.production import timekeeping
from isom.production.models import LabourRecord, WorkOrderStep

SIXTY = Decimal(60)


def overhead_rates(session: Session) -> dict[int, Decimal]:
    """The overhead per hour of every workstation that has one set, by workstation id."""
    return dict(
        session.execute(select(OverheadRate.workstation_id, OverheadRate.hourly_rate)).all()
    )


def hourly_rates(
    session: Session, model: type[Person] | type[Workstation], ids: set[int]
) -> dict[int, Decimal]:
    """The hourly rates of these people or workstations, by id."""
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.hourly_rate).where(model.id.in_(ids))).all())


def step_conversion_cost(session: Session, step: WorkOrderStep, until: dt.datetime) -> Decimal:
    """Labour, machine and overhead cost of one step so far (unrounded), carried by its output."""
    labour = {
        k: v
        for k, v in timekeeping.labour_minutes(session, step.work_order_id, until).items()
        if k[0] == step.id
    }
    machine = {
        k: v
        for k, v in timekeeping.machine_minutes(session, step.work_order_id, until).items()
        if k[0] == step.id
    }
    lr = hourly_rates(session, Person, {p for _, p in labour})
    mr = hourly_rates(session, Workstation, {w for _, w in machine})
    total = sum((m * lr[p] / SIXTY for (_, p), m in labour.items()), Decimal(0))
    total += sum((m * mr[w] / SIXTY for (_, w), m in machine.items()), Decimal(0))
    if step.workstation_id is not None:
        overhead = overhead_rates(session).get(step.workstation_id, Decimal(0))
        total += step_minutes_on_station(session, step.id, until) * overhead / SIXTY
    return total


def step_minutes_on_station(session: Session, step_id: int, until: dt.datetime) -> Decimal:
    """Elapsed minutes the step had at least one person on it (the union of labour spans)."""
    rows = session.execute(
        select(LabourRecord.started_at, LabourRecord.ended_at).where(
            LabourRecord.step_id == step_id
        )
    ).all()
    spans = sorted((a, b or until) for a, b in rows)
    total = Decimal(0)
    cur: tuple[dt.datetime, dt.datetime] | None = None
    for a, b in spans:
        if cur is None or a > cur[1]:
            if cur is not None:
                total += timekeeping.seconds_between(*cur)
            cur = (a, b)
        else:
            cur = (cur[0], max(cur[1], b))
    if cur is not None:
        total += timekeeping.seconds_between(*cur)
    return total / SIXTY
