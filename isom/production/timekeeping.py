"""Labour and machine minutes per job step, shared out where time overlaps.

A person on several steps at once has each moment split equally between them. A machine's
chargeable time (setup, run, cleanup) is split between the steps on it at that moment in
proportion to the quantity each job makes (its work-order quantity, known while it runs and
never changed afterwards). Machine time with no step on it, and idle or down time, is charged
to no job.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from isom.production.events import forget, remembered
from isom.production.models import (
    LabourRecord,
    MachineRecord,
    MachineState,
    WorkOrder,
)

CHARGEABLE = (MachineState.setup, MachineState.run, MachineState.cleanup)


@dataclass(frozen=True)
class Span:
    """A weighted time span of one key (a labour record, a step on a machine)."""

    key: Hashable
    start: dt.datetime
    end: dt.datetime
    weight: Decimal = Decimal(1)


def seconds_between(a: dt.datetime, b: dt.datetime) -> Decimal:
    delta = b - a
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def share(
    spans: Iterable[Span], within: list[tuple[dt.datetime, dt.datetime]] | None = None
) -> dict[Hashable, Decimal]:
    """Seconds per key: each moment split between the spans covering it, by weight.

    With `within`, only moments inside those windows count (a machine's chargeable states).
    """
    spans = [s for s in spans if s.end > s.start]
    points = {s.start for s in spans} | {s.end for s in spans}
    if within is not None:
        points |= {a for a, _ in within} | {b for _, b in within}
    ordered = sorted(points)
    out: dict[Hashable, Decimal] = defaultdict(Decimal)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if within is not None and not any(w0 <= a and b <= w1 for w0, w1 in within):
            continue
        active = [s for s in spans if s.start <= a and b <= s.end]
        total = sum((s.weight for s in active), Decimal(0))
        if not active or total <= 0:
            continue
        length = seconds_between(a, b)
        for s in active:
            out[s.key] += length * s.weight / total
    return dict(out)


#: Memo keys of what is computed here from labour and machine records (`forget` on a write).
MINUTES = "minutes"
Minutes = dict[tuple[int, int], Decimal]


def changed(session: Session) -> None:
    """A labour or machine record of the running event changed: compute minutes afresh."""
    forget(session, MINUTES)


def labour_minutes(
    session: Session, work_order_id: int, until: dt.datetime
) -> dict[tuple[int, int], Decimal]:
    """Minutes per (step id, person id) of one job; open records run to `until`.

    Only the people's records that overlap the job's own time can share a moment with it, so
    only those are read: the cost of a scan does not grow with the people's history. Computed
    once per event and time (a stop's carried cost and its feed message share it).
    """
    return _once(session, _labour_minutes, work_order_id, until)


def _labour_minutes(
    session: Session, work_order_id: int, until: dt.datetime, start: dt.datetime, end: dt.datetime
) -> Minutes:
    records = session.execute(_PEOPLES_LABOUR, {"job": work_order_id, "start": start, "end": end})
    by_person: dict[int, list[Any]] = defaultdict(list)
    for r in records:
        by_person[r.person_id].append(r)
    out: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for person_id, rows in by_person.items():
        seconds = share(Span(r.id, r.started_at, r.ended_at or until) for r in rows)
        for r in rows:
            if r.work_order_id == work_order_id and r.id in seconds:
                out[(r.step_id, person_id)] += seconds[r.id] / 60
    return dict(out)


def machine_minutes(
    session: Session, work_order_id: int, until: dt.datetime
) -> dict[tuple[int, int], Decimal]:
    """Chargeable machine minutes per (step id, workstation id) of one job.

    Read within the job's own time, like labour: a machine's older states and other jobs'
    earlier spans cannot share a moment with this job. Computed once per event and time.
    """
    return _once(session, _machine_minutes, work_order_id, until)


def _once(
    session: Session,
    compute: Callable[[Session, int, dt.datetime, dt.datetime, dt.datetime], Minutes],
    work_order_id: int,
    until: dt.datetime,
) -> Minutes:
    """`compute` within the job's own time, once per event, job and time; a copy, so a caller
    may change its own."""

    def load() -> Minutes:
        window = _job_window(session, work_order_id, until)
        return compute(session, work_order_id, until, *window) if window else {}

    key = (MINUTES, compute.__name__, work_order_id, until)
    return dict(remembered(session, key, load))


def _machine_minutes(
    session: Session, work_order_id: int, until: dt.datetime, start: dt.datetime, end: dt.datetime
) -> Minutes:
    stations = {ws for _, _, ws in _job_spans(session, work_order_id)}
    out: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for ws_id in sorted(stations):
        span = {"ws": ws_id, "start": start, "end": end}
        windows = [(a, b or until) for a, b in session.execute(_CHARGEABLE_STATES, span)]
        if not windows:
            continue
        span["start"] = max(start, min(w[0] for w in windows))
        rows = session.execute(_STEPS_ON_STATION, span).all()
        # A step with two people on it is on the machine once: keep the union of its spans.
        seconds = share(_union_by_step(rows, until), within=windows)
        for k, secs in seconds.items():
            assert isinstance(k, tuple)
            if k[1] == work_order_id:
                out[(int(k[0]), ws_id)] += secs / 60
    return dict(out)


#: Statements built once (issue 13: no query built per scan), run with bound parameters.
_PEOPLES_LABOUR = (
    select(
        LabourRecord.id,
        LabourRecord.step_id,
        LabourRecord.work_order_id,
        LabourRecord.person_id,
        LabourRecord.started_at,
        LabourRecord.ended_at,
    )
    .where(
        LabourRecord.person_id.in_(
            select(LabourRecord.person_id).where(LabourRecord.work_order_id == bindparam("job"))
        ),
        LabourRecord.started_at < bindparam("end"),
        or_(LabourRecord.ended_at.is_(None), LabourRecord.ended_at > bindparam("start")),
    )
    .order_by(LabourRecord.id)
)
_CHARGEABLE_STATES = select(MachineRecord.started_at, MachineRecord.ended_at).where(
    MachineRecord.workstation_id == bindparam("ws"),
    MachineRecord.state.in_(CHARGEABLE),
    MachineRecord.started_at < bindparam("end"),
    or_(MachineRecord.ended_at.is_(None), MachineRecord.ended_at > bindparam("start")),
)
_STEPS_ON_STATION = (
    select(
        LabourRecord.step_id,
        LabourRecord.work_order_id,
        LabourRecord.started_at,
        LabourRecord.ended_at,
        WorkOrder.quantity,
    )
    .join(WorkOrder, WorkOrder.id == LabourRecord.work_order_id)
    .where(
        LabourRecord.workstation_id == bindparam("ws"),
        LabourRecord.started_at < bindparam("end"),
        or_(LabourRecord.ended_at.is_(None), LabourRecord.ended_at > bindparam("start")),
    )
)
_JOB_SPANS = select(
    LabourRecord.started_at, LabourRecord.ended_at, LabourRecord.workstation_id
).where(LabourRecord.work_order_id == bindparam("job"))


def _union_by_step(rows: Iterable[Any], until: dt.datetime) -> list[Span]:
    by_step: dict[tuple[int, int], list[tuple[dt.datetime, dt.datetime, Decimal]]] = defaultdict(
        list
    )
    for step_id, wo_id, start, end, qty in rows:
        by_step[(step_id, wo_id)].append((start, end or until, qty))
    out: list[Span] = []
    for (step_id, wo_id), spans in by_step.items():
        spans.sort()
        cur_start, cur_end, weight = spans[0]
        for start, end, _ in spans[1:]:
            if start <= cur_end:
                cur_end = max(cur_end, end)
            else:
                out.append(Span((step_id, wo_id, len(out)), cur_start, cur_end, weight))
                cur_start, cur_end = start, end
        out.append(Span((step_id, wo_id, len(out)), cur_start, cur_end, weight))
    return out


def _job_window(
    session: Session, work_order_id: int, until: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """From the job's first clock-in to its last clock-out (or `until` while one is open)."""
    spans = _job_spans(session, work_order_id)
    if not spans:
        return None
    start = min(a for a, _, _ in spans)
    end = max((b or until) for _, b, _ in spans)
    return start, max(end, start)


def _job_spans(
    session: Session, work_order_id: int
) -> list[tuple[dt.datetime, dt.datetime | None, int]]:
    """The job's labour spans and where they were, read once per event (until a write)."""

    def load() -> list[tuple[dt.datetime, dt.datetime | None, int]]:
        rows = session.execute(_JOB_SPANS, {"job": work_order_id})
        return [(a, b, ws) for a, b, ws in rows]

    return remembered(session, (MINUTES, "spans", work_order_id), load)
