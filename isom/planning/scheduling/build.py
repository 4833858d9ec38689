"""The scheduling problem built from the floor: open steps, workstations, calendars, people,
machines down, material and priorities, all read through `planning.sources`.

Minute 0 is the moment the plan is made. A step's minutes are its setup, run for the quantity
left and cleanup: learned from history where a workstation did the operation on the item at
least `MIN_OBSERVATIONS` times, the route's standard otherwise. A long step (over
`SPAN_OVER` minutes) may pause over a break; a short one runs in one piece. A step waits for
its purchased inputs: on hand now, else the day the purchase lines that cover it are due.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from isom.errors import NotFound
from isom.masterdata.models import Calendar, Route, RunBasis, Workstation
from isom.planning import sources
from isom.planning.scheduling.backward import WorkCalendar
from isom.planning.scheduling.model import WEIGHTS, Job, Operation, Problem, Slot
from isom.planning.scheduling.timeline import Span, merge
from isom.production import queries as production_queries

MIN_OBSERVATIONS = 3
SPAN_OVER = 240
#: How many levels of child jobs a new job's steps go down (a guard against a cyclic BOM).
MAX_DEPTH = 20
#: How far ahead calendars are laid out (days).
HORIZON_DAYS = 120


def down_hours() -> float:
    """How long a machine reported down is expected to stay down (ISOM_DOWN_HOURS, 8)."""
    return float(os.environ.get("ISOM_DOWN_HOURS", "8"))


@dataclass
class Floor:
    """A problem built from the database and what turns its minutes back into the floor's
    terms: when minute 0 is, and each operation's step and job."""

    at: dt.datetime
    problem: Problem
    steps: dict[str, sources.OpenStep]
    due: dict[str, dt.datetime]
    priority: dict[str, str]

    def minute(self, t: dt.datetime) -> int:
        return minute_of(self.at, t)

    def time(self, minute: int) -> dt.datetime:
        return self.at + dt.timedelta(minutes=minute)


def minute_of(at: dt.datetime, t: dt.datetime) -> int:
    """Whole minutes from `at` to `t` (rounded down)."""
    return math.floor((t - at).total_seconds() / 60)


def build(
    session: Session,
    *,
    now: dt.datetime,
    proposed: bool = False,
    extra: list[sources.OpenStep] | None = None,
    only: list[sources.OpenStep] | None = None,
) -> Floor:
    """The problem of every open step (and planned jobs' steps when `proposed`, and `extra`
    steps of jobs that do not exist yet: a what-if's or a promise's) as of `now`; or of
    `only` those steps, their material after what open steps still need."""
    at = now.replace(second=0, microsecond=0)
    stations = sources.workstations(session)
    down = {w.code: _unavailable(cal, at) for w, cal in stations}
    zones = {w.code: ZoneInfo(cal.timezone if cal else "UTC") for w, cal in stations}
    for ws_id, since in sources.machines_down(session).items():
        code = next((w.code for w, _ in stations if w.id == ws_id), None)
        if code is not None:
            until = max(0, minute_of(at, since)) + int(down_hours() * 60)
            down[code] = merge([*down[code], (0, until)])
    steps = only if only is not None else sources.open_steps(session, proposed=proposed)
    steps = steps + (extra or [])
    skills = sources.people_per_skill(session)
    floor = Floor(at, Problem([], down, skills), {}, {}, {})
    jobs = _operations(session, floor, steps, stations, after_open=only is not None)
    _due_and_priority(session, floor, jobs, zones)
    floor.problem.jobs = list(jobs.values())
    return floor


def _operations(
    session: Session,
    floor: Floor,
    steps: list[sources.OpenStep],
    stations: list[tuple[Workstation, Calendar | None]],
    *,
    after_open: bool = False,
) -> dict[int, Job]:
    """Each step as an operation of its job, with its minutes, workstations and release."""
    times = _learned(session)
    release = _material(session, steps, floor.at, after_open=after_open)
    by_id = {w.id: w.code for w, _ in stations}
    jobs: dict[int, Job] = {}
    for st in steps:
        key = f"{st.job}/{st.sequence}"
        machines = _able(st, [w for w, _ in stations])
        for code in machines:
            floor.problem.down.setdefault(code, [])
        minutes = _minutes(st, times)
        started = None
        if st.started_at is not None and st.running_on in by_id:
            start = floor.minute(st.started_at)
            started = Slot(by_id[st.running_on], start, max(start + minutes, 5))
        skill = st.skill if floor.problem.skills.get(st.skill or "") else None
        op = Operation(
            key, st.job, minutes, machines, skill, minutes > SPAN_OVER,
            release.get((st.job, st.sequence), 0), started,
        )  # fmt: skip
        jobs.setdefault(st.job_id, Job(st.job, 0, 0, [])).ops.append(op)
        floor.steps[key] = st
    return jobs


def _unavailable(calendar: Calendar | None, at: dt.datetime) -> list[Span]:
    """The calendar's non-working time from minute 0 over the horizon, in minutes."""
    if calendar is None or not calendar.shifts:
        return []
    cal = WorkCalendar(calendar)
    first = cal.local_day(at) - dt.timedelta(days=1)
    windows: list[Span] = []
    for d in range(HORIZON_DAYS + 2):
        for a, b in cal.windows(first + dt.timedelta(days=d)):
            windows.append((minute_of(at, a), minute_of(at, b)))
    out: list[Span] = []
    t = 0
    for start, end in merge(windows):
        if end <= t:
            continue
        if start > t:
            out.append((t, start))
        t = end
    out.append((t, HORIZON_DAYS * 1440 * 4))
    return out


def _able(step: sources.OpenStep, stations: list[Workstation]) -> tuple[str, ...]:
    """The workstations of the step's kind (or doing its operation, when it names no kind);
    none known: a placeholder row named after the kind, so the plan still shows the step."""
    codes = tuple(
        w.code
        for w in stations
        if (w.kind == step.kind if step.kind else step.operation in (w.operations or []))
    )
    return codes or (f"({step.kind or step.operation})",)


def _learned(session: Session) -> dict[tuple[str, str], production_queries.LearnedTime]:
    """The learned time with the most observations per operation and item, if enough."""
    best: dict[tuple[str, str], production_queries.LearnedTime] = {}
    for t in production_queries.learned_times(session):
        key = (t.operation, t.item)
        if t.steps >= MIN_OBSERVATIONS and (key not in best or t.steps > best[key].steps):
            best[key] = t
    return best


def _minutes(
    step: sources.OpenStep, learned: dict[tuple[str, str], production_queries.LearnedTime]
) -> int:
    t = learned.get((step.operation, step.item))
    if t is not None:
        total = t.setup_minutes + t.run_minutes_per_unit * step.quantity_left + t.cleanup_minutes
    else:
        total = step.setup + step.run_per_unit * step.quantity_left + step.cleanup
    return max(1, math.ceil(total))


def _material(
    session: Session, steps: list[sources.OpenStep], at: dt.datetime, *, after_open: bool = False
) -> dict[tuple[str, int], int]:
    """The minute each step's purchased inputs are there: stock first to the earliest due
    job, then open purchase lines in date order, then what is bought now arrives after the
    preferred supplier's lead time (made inputs wait on their child jobs). `after_open`:
    what open jobs' steps still need comes first (the steps are new ones)."""
    made = set(sources.routes_by_item(session))
    items = {i for st in steps for i, _ in st.inputs if i not in made}
    if not items:
        return {}
    if after_open:
        first = [
            sources.OpenStep(
                -1, d.ref, "", Decimal(0), dt.date.min, None, None, None, 0, "", None, None,
                Decimal(0), Decimal(0), Decimal(0), None, None, [(d.item_id, d.quantity)], None,
            )
            for d in sources.step_demand(session, items)
        ]  # fmt: skip
        steps = first + steps
    stock = dict(sources.on_hand(session, items))
    lead = {
        i: offers[0].lead_time_days for i, offers in sources.supplier_items(session, items).items()
    }
    arriving: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for s in sorted(sources.purchase_supply(session, items), key=lambda s: s.date):
        arriving[s.item_id].append((s.date, s.quantity))
    out: dict[tuple[str, int], int] = {}
    for st in sorted(steps, key=lambda s: (s.due, s.job, s.sequence)):
        when = 0
        for item, need in st.inputs:
            if item not in items:
                continue
            have = min(stock.get(item, Decimal(0)), need)
            stock[item] = stock.get(item, Decimal(0)) - have
            need -= have
            while need > 0 and arriving[item]:
                day, qty = arriving[item][0]
                used = min(qty, need)
                need -= used
                arriving[item][0] = (day, qty - used)
                if arriving[item][0][1] <= 0:
                    arriving[item].pop(0)
                start = dt.datetime.combine(day, dt.time(0), dt.UTC)
                when = max(when, minute_of(at, start))
            if need > 0 and lead.get(item) is not None:  # nothing covers it: buy it now
                when = max(when, int(lead[item]) * 1440)
        if when > 0:
            out[(st.job, st.sequence)] = when
    return out


def _due_and_priority(
    session: Session, floor: Floor, jobs: dict[int, Job], zones: dict[str, ZoneInfo]
) -> None:
    """Each job's due minute (00:00 of its due date where its last step runs), its priority
    (its customer line's, or its parent's) and the parent step it feeds."""
    lines = sources.line_priorities(session)
    first = {job_id: floor.steps[job.ops[0].key] for job_id, job in jobs.items()}
    number = {job_id: st.job for job_id, st in first.items()}

    def priority(job_id: int, depth: int = 0) -> str:
        st = first[job_id]
        if st.priority is not None:
            return st.priority
        if st.customer_line in lines:
            return lines[st.customer_line].value
        if st.parent_id in first and depth < 20:
            return priority(st.parent_id, depth + 1)
        return "normal"

    for job_id, job in jobs.items():
        st = first[job_id]
        zone = zones.get(job.ops[-1].machines[0], ZoneInfo("UTC"))
        floor.due[job.key] = dt.datetime.combine(st.due, dt.time(0), zone).astimezone(dt.UTC)
        job.due = floor.minute(floor.due[job.key])
        job.priority = floor.priority[job.key] = priority(job_id)
        job.weight = WEIGHTS[job.priority]
        if st.parent_id in number and st.parent_step is not None:
            job.feeds = f"{number[st.parent_id]}/{st.parent_step}"


def route_steps(
    session: Session,
    item: str,
    quantity: Decimal,
    due: dt.date,
    priority: str,
    job: str,
    *,
    job_id: int = -1,
    routes: dict[int, Route] | None = None,
    codes: dict[int, str] | None = None,
    depth: int = 0,
) -> list[sources.OpenStep]:
    """The steps a new job for an item would have by its newest route (404 if none), and
    those of a child job for each made input that stock does not cover (ids below `job_id`,
    fewer than a thousand).
    `routes` and `codes` (item codes by id), when given, save reading them again."""
    from isom.masterdata import services as md

    it = md.get_item(session, item)
    routes = routes if routes is not None else sources.routes_by_item(session)
    route = routes.get(it.id)
    if route is None:
        raise NotFound(f"{it.code} has no active route", field="item", expected="a made item")
    stock = sources.on_hand(session, {i.item_id for rs in route.steps for i in rs.inputs})
    codes = codes if codes is not None else sources.item_codes(session)
    out, child = [], job_id
    for rs in route.steps:
        per = rs.run_minutes if rs.run_basis is RunBasis.unit else rs.run_minutes / route.batch_size
        inputs = [(i.item_id, i.quantity_per * quantity) for i in rs.inputs]
        out.append(
            sources.OpenStep(
                job_id, job, it.code, quantity, due, None, None, None, rs.sequence, rs.operation,
                rs.workstation_kind, rs.skill, rs.setup_minutes, per, rs.cleanup_minutes, None,
                None, inputs, priority,
            )
        )  # fmt: skip
        for input_id, need in inputs:
            short = need - stock.get(input_id, Decimal(0))
            if input_id in routes and short > 0 and depth < MAX_DEPTH:
                child -= 1
                steps = route_steps(
                    session, codes[input_id], short, due, priority, f"{job}.{child}",
                    job_id=child, routes=routes, codes=codes, depth=depth + 1,
                )  # fmt: skip
                for st in steps:
                    if st.job_id == child:
                        st.parent_id, st.parent_step = job_id, rs.sequence
                child = min(st.job_id for st in steps)
                out += steps
    return out
