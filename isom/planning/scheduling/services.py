"""Making and publishing plans: the instant repair on every re-plan, CP-SAT's improvement
after it, what-if plans that wait for a planner, and accepting one.

Services take the session first and never commit. A plan is written whole, with why it was
made, how many operations it moved against the plan it replaced and by how many minutes.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import copy_row
from isom.errors import Conflict, NotFound
from isom.planning import projection
from isom.planning.scheduling import dispatch, solver
from isom.planning.scheduling.build import Floor, build
from isom.planning.scheduling.model import Plan, Slot, moves, score
from isom.planning.scheduling.models import PlannedOperation, PlanRun
from isom.planning.scheduling.timeline import Span
from isom.transitions import move
from isom.types import utcnow

PUBLISHED, WHAT_IF, ACCEPTED = "published", "what_if", "accepted"
#: A what-if is accepted once (a published copy of it then comes into force).
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    PUBLISHED: frozenset(),
    WHAT_IF: frozenset({ACCEPTED}),
    ACCEPTED: frozenset(),
}


def frozen_minutes() -> int:
    """The frozen horizon: planned starts this close do not move (ISOM_FROZEN_MINUTES, 120)."""
    return int(os.environ.get("ISOM_FROZEN_MINUTES", "120"))


def current(session: Session) -> PlanRun | None:
    """The plan in force: the newest published one."""
    return session.scalar(
        select(PlanRun).where(PlanRun.status == PUBLISHED).order_by(PlanRun.id.desc()).limit(1)
    )


def get_run(session: Session, run_id: int) -> PlanRun:
    """A plan by id, or 404."""
    run = session.get(PlanRun, run_id)
    if run is None:
        raise NotFound(f"no plan {run_id}", field="plan", expected="the id of a plan")
    return run


def operations(session: Session, run_id: int) -> list[PlannedOperation]:
    """A plan's operations in time order."""
    return list(
        session.scalars(
            select(PlannedOperation)
            .where(PlannedOperation.schedule_id == run_id)
            .order_by(PlannedOperation.start, PlannedOperation.work_order)
        )
    )


def as_plan(session: Session, run: PlanRun | None, floor: Floor) -> Plan:
    """A stored plan in the minutes of a floor (operations no longer open are left out)."""
    if run is None:
        return {}
    out: Plan = {}
    for row in operations(session, run.id):
        key = f"{row.work_order}/{row.sequence}"
        if key in floor.steps:
            out[key] = Slot(row.workstation, floor.minute(row.start), floor.minute(row.end))
    return out


def busy(session: Session, run: PlanRun, floor: Floor) -> dict[str, list[Span]]:
    """What a stored plan runs on each workstation from now on, in the minutes of a floor."""
    rows = session.execute(
        select(PlannedOperation.workstation, PlannedOperation.start, PlannedOperation.end).where(
            PlannedOperation.schedule_id == run.id, PlannedOperation.end > floor.at
        )
    )
    out: dict[str, list[Span]] = {}
    for code, start, end in rows:
        out.setdefault(code, []).append((floor.minute(start), floor.minute(end)))
    return out


@dataclass
class Made:
    """A plan computed but not yet written: the floor it is for and the plan it replaces."""

    floor: Floor
    plan: Plan
    base: PlanRun | None
    base_plan: Plan
    method: str


def repaired(session: Session, *, now: dt.datetime | None = None) -> Made:
    """The instant plan: the published one repaired to the floor now, or dispatched by due
    date when there is none."""
    floor = build(session, now=now or utcnow())
    base = current(session)
    before = as_plan(session, base, floor)
    if base is None:
        return Made(floor, dispatch.edd(floor.problem), None, {}, "dispatch")
    plan = dispatch.repair(floor.problem, before, frozen_minutes())
    return Made(floor, plan, base, before, "repair")


def improved(made: Made, *, seconds: float, workers: int = 2) -> Made:
    """CP-SAT's improvement of a made plan (warm-started from it; moves cost)."""
    plan = solver.improve(
        made.floor.problem,
        made.plan,
        seconds=seconds,
        published=made.base_plan,
        frozen_until=frozen_minutes(),
        workers=workers,
    )
    return Made(made.floor, plan, made.base, made.base_plan, "cp-sat")


def publish(
    session: Session,
    made: Made,
    *,
    reason: str,
    actor: str,
    status: str = PUBLISHED,
    changes: list[dict[str, object]] | None = None,
    seen: dict[str, object] | None = None,
) -> PlanRun:
    """Write a plan with why it was made and what it moved against the plan it replaces."""
    floor, plan = made.floor, made.plan
    moved, minutes = moves(made.base_plan, plan)
    s = score(floor.problem, plan)
    run = PlanRun(
        status=status, method=made.method, reason=reason[:500],
        base_id=made.base.id if made.base else None, made_at=floor.at, made_by=actor,
        moved=moved, moved_minutes=minutes, weighted_tardiness=s.weighted_tardiness,
        late_jobs=s.late_jobs, changes=changes or [], seen=seen or {},
    )  # fmt: skip
    session.add(run)
    session.flush()
    frozen = frozen_minutes()
    ops = floor.problem.operations()
    ends = {j.key: max(plan[o.key].end for o in j.ops) for j in floor.problem.jobs if j.ops}
    session.add_all(
        PlannedOperation(
            schedule_id=run.id,
            work_order=st.job,
            sequence=st.sequence,
            operation=st.operation,
            item=st.item,
            workstation=plan[key].machine,
            start=floor.time(plan[key].start),
            end=floor.time(plan[key].end),
            due=floor.due[st.job],
            priority=floor.priority[st.job],
            state="started"
            if ops[key].started
            else "frozen"
            if plan[key].start < frozen
            else "planned",
            late=floor.time(ends[st.job]) > floor.due[st.job],
            moved=key in made.base_plan and made.base_plan[key] != plan[key],
        )  # fmt: skip
        for key, st in floor.steps.items()
    )
    session.flush()
    if status == PUBLISHED:  # step consumption is dated by the plan: those projections move
        changed = [k for k in floor.steps if made.base_plan.get(k) != plan[k]]
        projection.mark(session, {i for k in changed for i, _ in floor.steps[k].inputs})
    return run


def replan(session: Session, *, reason: str, actor: str, now: dt.datetime | None = None) -> PlanRun:
    """Repair the plan in force to the floor now and publish it at once."""
    return publish(session, repaired(session, now=now), reason=reason, actor=actor)


def accept(session: Session, run_id: int, *, actor: str) -> PlanRun:
    """Publish a what-if plan: it becomes the plan in force (if made from the plan in force)."""
    run = get_run(session, run_id)
    if run.status != WHAT_IF:
        raise Conflict(f"plan {run_id} is not a what-if", field="plan", expected="a what-if plan")
    now = current(session)
    if now is not None and run.base_id != now.id:
        raise Conflict(
            f"plan {run_id} was made from plan {run.base_id}; plan {now.id} is in force now",
            field="plan",
            expected="a what-if made from the plan in force (make it again)",
        )
    move(run, RUN_TRANSITIONS, ACCEPTED, what=f"plan {run.id}", kind="plan", field="plan")
    copy = PlanRun(
        status=PUBLISHED, method=run.method,
        reason=f"what-if {run.id} accepted: {run.reason}"[:500],
        base_id=run.base_id, made_at=utcnow(), made_by=actor, moved=run.moved,
        moved_minutes=run.moved_minutes, weighted_tardiness=run.weighted_tardiness,
        late_jobs=run.late_jobs, changes=run.changes, seen=run.seen,
    )  # fmt: skip
    session.add(copy)
    session.flush()
    session.add_all(
        copy_row(o, schedule_id=copy.id)
        for o in operations(session, run.id)
        if not o.work_order.startswith(WHAT_IF_PREFIX)
    )
    session.flush()
    return copy


#: A job a what-if adds is named like this, so it is never mistaken for a real one.
WHAT_IF_PREFIX = "WHATIF-"
