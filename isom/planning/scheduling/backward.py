"""Backward scheduling: every open job's steps placed back from its due date on work calendars.

A job must be finished by the start of its due date. Walking its steps from the last to the
first, each step ends a move time before the next one's queue starts, takes its setup, run and
cleanup time (standard, or learned from history when asked), and waits a queue time before it
starts; all of it counts only working time of the calendar of the workstation it is put on
(its shifts and holidays, in the calendar's time zone). The load this puts on each workstation
per day is set against the day's working minutes times the workstation's capacity, and days
over capacity are flagged. Capacity is not enforced here: finite scheduling comes later.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from isom.masterdata.models import Calendar, Item, RunBasis, Workstation
from isom.planning import sources
from isom.production import queries as production_queries
from isom.production import rows as production_rows
from isom.production.enums import WorkOrderStatus
from isom.production.rows import JobRow

#: Waiting in front of a step before it starts, and carrying its output to the next one.
QUEUE_MINUTES = Decimal(60)
MOVE_MINUTES = Decimal(15)
#: How far back a calendar is searched for working time before the schedule gives up.
HORIZON_DAYS = 730
MINUTE = dt.timedelta(minutes=1)


class WorkCalendar:
    """Working windows of a calendar in UTC; no calendar means around the clock."""

    def __init__(self, calendar: Calendar | None) -> None:
        self.zone = ZoneInfo(calendar.timezone if calendar else "UTC")
        self.shifts: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
        self.holidays: set[dt.date] = set()
        self.always = calendar is None or not calendar.shifts
        if calendar is not None:
            for s in calendar.shifts:
                self.shifts[s.weekday].append((s.start_time, s.end_time))
            self.holidays = {h.date for h in calendar.holidays}

    def windows(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working windows that start on a local day, in UTC, in time order."""
        if self.always:
            start = dt.datetime.combine(day, dt.time(0), self.zone)
            return [(start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC))]
        if day in self.holidays:
            return []
        out = []
        for a, b in sorted(self.shifts.get(day.weekday(), [])):
            start = dt.datetime.combine(day, a, self.zone)
            end_day = day if b > a else day + dt.timedelta(days=1)
            end = dt.datetime.combine(end_day, b, self.zone)
            out.append((start.astimezone(dt.UTC), end.astimezone(dt.UTC)))
        return out

    def working_minutes(self, day: dt.date) -> Decimal:
        """Minutes of working time in the windows that start on a local day."""
        return sum(
            (Decimal((b - a).total_seconds()) / 60 for a, b in self.windows(day)), Decimal(0)
        )

    def local_day(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.zone).date()

    def back(
        self, end: dt.datetime, minutes: Decimal
    ) -> tuple[dt.datetime, list[tuple[dt.datetime, dt.datetime]]]:
        """Go back `minutes` of working time from `end`: the start, and the spans worked."""
        left = dt.timedelta(minutes=float(minutes))
        spans: list[tuple[dt.datetime, dt.datetime]] = []
        day = self.local_day(end) + dt.timedelta(days=1)
        cursor = end
        for _ in range(HORIZON_DAYS):
            if left <= dt.timedelta(0):
                break
            for a, b in reversed(self.windows(day)):
                if a >= cursor:
                    continue
                top = min(b, cursor)
                take = min(left, top - a)
                if take > dt.timedelta(0):
                    spans.append((top - take, top))
                    left -= take
                    cursor = top - take
                if left <= dt.timedelta(0):
                    break
            day -= dt.timedelta(days=1)
        return cursor, spans


class PlannedStep(BaseModel):
    work_order: str
    item: str
    sequence: int
    operation: str
    workstation: str | None
    minutes: Decimal
    planned_start: dt.datetime
    planned_end: dt.datetime
    late: bool


class LoadRow(BaseModel):
    workstation: str
    date: dt.date
    load_minutes: Decimal
    capacity_minutes: Decimal
    overloaded: bool


class Schedule(BaseModel):
    """Planned start and end of every open step, and the load per workstation per day."""

    at: dt.datetime
    learned: bool
    queue_minutes: Decimal
    move_minutes: Decimal
    steps: list[PlannedStep]
    load: list[LoadRow]
    overloads: list[LoadRow]


@dataclass
class _Job:
    number: str
    item: str
    due: dt.date
    parent_id: int | None = None
    parent_step: int | None = None
    steps: list[tuple[int, str, str | None, Decimal, int | None]] = field(default_factory=list)


def _open_jobs(session: Session, learned: dict[tuple[str, str], Decimal]) -> dict[int, _Job]:
    """Open jobs with the work left on each step: (sequence, operation, kind, minutes, ws)."""
    codes = dict(session.execute(select(Item.id, Item.code)).all())
    jobs: dict[int, _Job] = {}
    for wo, st in production_rows.open_steps(session, by="due"):
        job = jobs.setdefault(wo.id, _job(wo, codes))
        left = max(Decimal(0), wo.quantity - st.quantity_good - st.quantity_scrap)
        minutes = _minutes(
            learned.get((st.operation, job.item)),
            st.setup_minutes + st.run_minutes_per_unit * left + st.cleanup_minutes,
            st.setup_minutes + st.cleanup_minutes,
            left,
        )
        job.steps.append(
            (st.sequence, st.operation, st.workstation_kind, minutes, st.workstation_id)
        )
    routes = sources.routes_by_item(session)
    for wo in production_rows.jobs(session, statuses=[WorkOrderStatus.planned], by="due"):
        route = routes.get(wo.item_id)
        if route is None:
            continue
        job = jobs.setdefault(wo.id, _job(wo, codes))
        for rs in route.steps:
            run = (
                rs.run_minutes * wo.quantity
                if rs.run_basis is RunBasis.unit
                else rs.run_minutes
                * (wo.quantity / route.batch_size).to_integral_value(ROUND_CEILING)
            )
            minutes = _minutes(
                learned.get((rs.operation, job.item)),
                rs.setup_minutes + run + rs.cleanup_minutes,
                rs.setup_minutes + rs.cleanup_minutes,
                wo.quantity,
            )
            job.steps.append((rs.sequence, rs.operation, rs.workstation_kind, minutes, None))
    return jobs


def _job(wo: JobRow, codes: dict[int, str]) -> _Job:
    return _Job(
        str(wo.number), codes[wo.item_id], wo.due_date, wo.parent_id, wo.parent_step_sequence
    )


def _parents_first(jobs: dict[int, _Job]) -> list[tuple[int, _Job]]:
    """Jobs ordered so a parent is placed before its children (they must end before it)."""

    def depth(job: _Job) -> int:
        n, seen = 0, job
        while seen.parent_id in jobs and n < 20:
            seen = jobs[seen.parent_id]
            n += 1
        return n

    return sorted(jobs.items(), key=lambda kv: (depth(kv[1]), kv[1].due, kv[1].number))


def _minutes(
    per_unit: Decimal | None, standard: Decimal, fixed: Decimal, units: Decimal
) -> Decimal:
    """Standard minutes, or the learned minutes per unit when history has them."""
    if per_unit is None or per_unit <= 0:
        return standard
    return fixed + per_unit * units


def _calendars_of(session: Session, stations: Sequence[Workstation]) -> dict[int, WorkCalendar]:
    """The working calendars of these stations, by calendar id."""
    cal_ids = {w.calendar_id for w in stations if w.calendar_id}
    return {
        c.id: WorkCalendar(c)
        for c in session.scalars(
            select(Calendar)
            .where(Calendar.id.in_(cal_ids))
            .options(selectinload(Calendar.shifts), selectinload(Calendar.holidays))
        )
    }


def _load_rows(
    load: dict[tuple[str, dt.date], Decimal],
    stations: Sequence[Workstation],
    calendars: dict[int, WorkCalendar],
    around_the_clock: WorkCalendar,
) -> list[LoadRow]:
    """Each station's load per day beside its capacity that day (its calendar's hours)."""
    rows = []
    for (code, day), minutes in sorted(load.items()):
        ws = next(w for w in stations if w.code == code)
        cal = calendars.get(ws.calendar_id or 0, around_the_clock)
        capacity = cal.working_minutes(day) * ws.capacity
        rows.append(
            LoadRow(
                workstation=code,
                date=day,
                load_minutes=minutes.quantize(Decimal("0.01")),
                capacity_minutes=capacity,
                overloaded=minutes > capacity,
            )
        )
    return rows


def backward_schedule(
    session: Session, *, learned: bool = False, now: dt.datetime | None = None
) -> Schedule:
    """Place every open job's remaining steps back from its due date; sum the load per day."""
    at = now or dt.datetime.now(dt.UTC)
    times: dict[tuple[str, str], Decimal] = {}
    if learned:
        for t in production_queries.learned_times(session):
            times[(t.operation, t.item)] = t.actual_minutes_per_unit
    stations = session.scalars(
        select(Workstation).where(Workstation.active).order_by(Workstation.code)
    ).all()
    calendars = _calendars_of(session, stations)
    around_the_clock = WorkCalendar(None)
    by_kind: dict[str, list[Workstation]] = defaultdict(list)
    by_id = {w.id: w for w in stations}
    for w in stations:
        by_kind[w.kind].append(w)
    load: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    total: dict[str, Decimal] = defaultdict(Decimal)
    steps: list[PlannedStep] = []
    starts: dict[tuple[int, int], dt.datetime] = {}
    for job_id, job in _parents_first(_open_jobs(session, times)):
        cursor: dt.datetime | None = None
        for seq, operation, kind, minutes, ws_id in reversed(job.steps):
            ws = by_id.get(ws_id or 0) or min(
                by_kind.get(kind or "", []), key=lambda w: (total[w.code], w.code), default=None
            )
            cal = calendars.get(ws.calendar_id or 0, around_the_clock) if ws else around_the_clock
            if cursor is None:
                cursor = dt.datetime.combine(job.due, dt.time(0), cal.zone).astimezone(dt.UTC)
                needed_by = starts.get((job.parent_id or 0, job.parent_step or 0))
                if needed_by is not None:  # a child job ends before its parent's step starts
                    cursor = min(cursor, needed_by)
            cursor, _ = cal.back(cursor, MOVE_MINUTES)
            end = cursor
            start, spans = cal.back(end, minutes)
            if ws is not None:
                total[ws.code] += minutes
                for a, b in spans:
                    load[(ws.code, cal.local_day(a))] += Decimal((b - a).total_seconds()) / 60
            starts[(job_id, seq)] = start
            steps.append(
                PlannedStep(
                    work_order=job.number,
                    item=job.item,
                    sequence=seq,
                    operation=operation,
                    workstation=ws.code if ws else None,
                    minutes=minutes,
                    planned_start=start,
                    planned_end=end,
                    late=start < at,
                )
            )
            cursor, _ = cal.back(start, QUEUE_MINUTES)
    rows = _load_rows(load, stations, calendars, around_the_clock)
    steps.sort(key=lambda s: (s.planned_start, s.work_order, s.sequence))
    return Schedule(
        at=at,
        learned=learned,
        queue_minutes=QUEUE_MINUTES,
        move_minutes=MOVE_MINUTES,
        steps=steps,
        load=rows,
        overloads=[r for r in rows if r.overloaded],
    )
