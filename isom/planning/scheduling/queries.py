"""What the pages, the API and other domains read of the plans: the plan in force with its
late jobs, what changed since the plan before, a workstation's dispatch list, and each open
step's planned start and end (for projected inventory, alerts and purchasing)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.orders import queries as orders_queries
from isom.planning.scheduling import services, whatif
from isom.planning.scheduling.models import PlannedOperation, PlanRun
from isom.production import rows as production_rows


class OperationView(BaseModel):
    work_order: str
    sequence: int
    operation: str
    item: str
    workstation: str
    start: dt.datetime
    end: dt.datetime
    due: dt.datetime
    priority: str
    state: str  # started | frozen | planned
    late: bool
    moved: bool


class PlanView(BaseModel):
    """A plan: how and why it was made, what it moved, its late jobs and its operations."""

    id: int
    status: str
    method: str
    reason: str
    base_id: int | None
    made_at: dt.datetime
    made_by: str
    moved: int
    moved_minutes: int
    weighted_tardiness: int
    late_jobs: list[str]
    operations: list[OperationView]


def _op(o: PlannedOperation) -> OperationView:
    return OperationView.model_validate(o, from_attributes=True)


def plan_view(session: Session, run: PlanRun) -> PlanView:
    """A stored plan as a view."""
    ops = [_op(o) for o in services.operations(session, run.id)]
    return PlanView(
        id=run.id, status=run.status, method=run.method, reason=run.reason, base_id=run.base_id,
        made_at=run.made_at, made_by=run.made_by, moved=run.moved,
        moved_minutes=run.moved_minutes, weighted_tardiness=run.weighted_tardiness,
        late_jobs=sorted({o.work_order for o in ops if o.late}), operations=ops,
    )  # fmt: skip


def current_plan(session: Session) -> PlanView | None:
    """The plan in force, or None before the first one."""
    run = services.current(session)
    return plan_view(session, run) if run else None


def plan(session: Session, run_id: int) -> PlanView:
    """Any plan by id (404 if none)."""
    return plan_view(session, services.get_run(session, run_id))


class RunRow(BaseModel):
    id: int
    status: str
    method: str
    reason: str
    made_at: dt.datetime
    moved: int
    moved_minutes: int
    weighted_tardiness: int
    late_jobs: int


def history(session: Session, *, limit: int = 20) -> list[RunRow]:
    """The newest plans first: why each was made and what it moved."""
    runs = session.scalars(select(PlanRun).order_by(PlanRun.id.desc()).limit(limit))
    return [RunRow.model_validate(r, from_attributes=True) for r in runs]


class Change(BaseModel):
    """An operation that moved between two plans (or appeared, or left)."""

    step: str
    before: OperationView | None
    after: OperationView | None
    minutes: int


def changes(session: Session, run_id: int) -> list[Change]:
    """What changed in a plan against the plan it was made from."""
    run = services.get_run(session, run_id)
    after = {f"{o.work_order}/{o.sequence}": _op(o) for o in services.operations(session, run.id)}
    before = (
        {f"{o.work_order}/{o.sequence}": _op(o) for o in services.operations(session, run.base_id)}
        if run.base_id
        else {}
    )
    out = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a and b and (a.start, a.workstation) == (b.start, b.workstation):
            continue
        minutes = int(abs((b.start - a.start).total_seconds()) // 60) if a and b else 0
        out.append(Change(step=key, before=a, after=b, minutes=minutes))
    return out


class DispatchRow(BaseModel):
    """One operation on a workstation's list: what to run next, and why it is next."""

    work_order: str
    sequence: int
    operation: str
    item: str
    start: dt.datetime
    end: dt.datetime
    due: dt.datetime
    priority: str
    state: str
    why: str


def dispatch_list(session: Session, workstation: str, *, limit: int = 20) -> list[DispatchRow]:
    """A workstation's operations in the plan in force, in the order to run them."""
    run = services.current(session)
    if run is None:
        return []
    rows = session.scalars(
        select(PlannedOperation)
        .where(PlannedOperation.schedule_id == run.id, PlannedOperation.workstation == workstation)
        .order_by(PlannedOperation.start)
        .limit(limit)
    )
    return [DispatchRow.model_validate(_op(o).model_dump() | {"why": _why(o)}) for o in rows]


def _why(o: PlannedOperation) -> str:
    if o.state == "started":
        return "running now"
    late = "late: " if o.late else ""
    rush = f"{o.priority} order, " if o.priority != "normal" else ""
    return f"{late}{rush}due {o.due:%d %b %H:%M} UTC"


class StepTimes(BaseModel):
    """A step's planned start and end in the plan in force, and whether its job is late."""

    work_order: str
    sequence: int
    item: str
    start: dt.datetime
    end: dt.datetime
    late: bool


def planned_steps(session: Session, jobs: set[str] | None = None) -> dict[str, StepTimes]:
    """Planned start and end of every open step (or of some jobs'), by "WO-000004/10"."""
    run = services.current(session)
    if run is None:
        return {}
    query = select(PlannedOperation).where(PlannedOperation.schedule_id == run.id)
    if jobs is not None:
        query = query.where(PlannedOperation.work_order.in_(jobs))
    return {
        f"{o.work_order}/{o.sequence}": StepTimes.model_validate(o, from_attributes=True)
        for o in session.scalars(query)
    }


def at_risk(session: Session) -> dict[str, dt.datetime]:
    """Jobs the plan in force finishes after their due time, with the planned finish."""
    run = services.current(session)
    if run is None:
        return {}
    out: dict[str, dt.datetime] = {}
    for o in session.scalars(
        select(PlannedOperation).where(
            PlannedOperation.schedule_id == run.id, PlannedOperation.late
        )
    ):
        out[o.work_order] = max(out.get(o.work_order, o.end), o.end)
    return out


def promise_new_lines(session: Session, lines: list[orders_queries.Demand]) -> dict[str, dt.date]:
    """Capable-to-promise dates (by line reference) of customer lines that have no open job
    yet, for what their reservations leave to make, against the plan in force."""
    taken = production_rows.customer_lines_in_production(session)
    new = [
        whatif.NewLine(d.reference, d.item, left, d.due_date, d.priority.value)
        for d in lines
        if d.reference not in taken and (left := d.open_quantity - d.reserved_quantity) > 0
    ]
    return whatif.promise_dates(session, new)
