"""Jobs, labour and machine records as the production feed reads them (integration's reaction
to production's events): plain rows, so the feed never holds production's ORM rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from isom.masterdata.models import Person, Workstation
from isom.production.enums import MachineState
from isom.production.models import LabourRecord, MachineRecord, WorkOrder, WorkOrderStep
from isom.production.rows import JobRow, StepRow, as_row, job_row


def job_by_id(session: Session, job_id: int) -> JobRow | None:
    """The job with this id, if there is one."""
    wo = session.get(WorkOrder, job_id)
    return job_row(wo) if wo is not None else None


def step_by_id(session: Session, step_id: int) -> StepRow | None:
    """The step with this id, if there is one."""
    step = session.get(WorkOrderStep, step_id)
    return as_row(StepRow, step) if step is not None else None


def children(session: Session, job_id: int) -> list[JobRow]:
    """The child jobs of a job, oldest first."""
    rows = session.scalars(
        select(WorkOrder).where(WorkOrder.parent_id == job_id).order_by(WorkOrder.id)
    )
    return [job_row(wo) for wo in rows]


#: session.info key: the jobs the session's transaction inserted or locked (`Held`).
HELD = "isom.production.held"


@dataclass(frozen=True, slots=True)
class Held:
    """Jobs one transaction holds. One it inserted no other transaction sees before the
    commit, so it needs neither a look-up by number nor a row lock (an agent's run creates
    hundreds, then makes their children); one it locked stays locked while the savepoint
    that locked it lasts (a release locks its job, then its feed messages would again)."""

    transaction: object
    inserted: dict[str, WorkOrder]
    ids: set[int]
    locked: dict[int, object]  # job id -> the (sub)transaction that locked it


def held(session: Session) -> Held:
    """What this session's current transaction holds (`new_work_order` and a locked
    `get_work_order` add to it)."""
    root = session.get_transaction()
    kept: Held | None = session.info.get(HELD)
    if kept is None or kept.transaction is not root:
        kept = session.info[HELD] = Held(root, {}, set(), {})
    return kept


def innermost(session: Session) -> object:
    """The savepoint under way, or the transaction."""
    return session.get_nested_transaction() or session.get_transaction()


def lock_jobs(session: Session, job_ids: Iterable[int]) -> None:
    """Lock these jobs' rows in id order (a no-op on SQLite, which has one writer at a time),
    so messages keyed by job are committed in the order their events were. A job this
    transaction inserted, or locked in the savepoint under way, is its own already."""
    mine = held(session)
    now = innermost(session)
    ids = sorted(i for i in set(job_ids) if i not in mine.ids and mine.locked.get(i) is not now)
    if ids and session.get_bind().dialect.name != "sqlite":
        session.execute(select(WorkOrder.id).where(WorkOrder.id.in_(ids)).with_for_update())


def step_sequences(session: Session, step_ids: Iterable[int]) -> dict[int, int]:
    """The sequence of each of these steps, by step id."""
    rows = session.execute(
        select(WorkOrderStep.id, WorkOrderStep.sequence).where(WorkOrderStep.id.in_(list(step_ids)))
    )
    return {step_id: sequence for step_id, sequence in rows}


@dataclass(frozen=True, slots=True)
class LabourSpan:
    """A span a person was clocked on a step, with who and where."""

    step_id: int
    person_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    person: str
    person_name: str
    workstation: str
    sequence: int


def labour_closed_by(session: Session, event_id: int) -> list[LabourSpan]:
    """The labour spans an event closed (a stop, pause or leave), in the order they began."""
    rows = session.execute(_CLOSED_BY, {"event": event_id})
    return [LabourSpan(*row) for row in rows]


_CLOSED_BY = (
    select(
        LabourRecord.step_id,
        LabourRecord.person_id,
        LabourRecord.started_at,
        LabourRecord.ended_at,
        Person.code,
        Person.name,
        Workstation.code,
        WorkOrderStep.sequence,
    )
    .join(Person, Person.id == LabourRecord.person_id)
    .join(Workstation, Workstation.id == LabourRecord.workstation_id)
    .join(WorkOrderStep, WorkOrderStep.id == LabourRecord.step_id)
    .where(LabourRecord.end_event_id == bindparam("event"))
    .order_by(LabourRecord.id)
)


def clocked_on(session: Session, workstation_id: int) -> dict[int, set[int]]:
    """The steps someone is clocked on at a workstation now, by job id."""
    rows = session.execute(
        select(LabourRecord.work_order_id, LabourRecord.step_id).where(
            LabourRecord.workstation_id == workstation_id, LabourRecord.ended_at.is_(None)
        )
    )
    by_job: dict[int, set[int]] = defaultdict(set)
    for wo_id, step_id in rows:
        by_job[wo_id].add(step_id)
    return dict(by_job)


@dataclass(frozen=True, slots=True)
class MachineSpan:
    """A span a workstation spent in one state."""

    state: MachineState
    reason: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None


def machine_change(
    session: Session, workstation_id: int, event_id: int, at: dt.datetime
) -> tuple[MachineSpan | None, MachineSpan | None]:
    """The state span a machine event closed at `at` and the one it opened."""
    closed: MachineRecord | None = None
    opened: MachineRecord | None = None
    for rec in session.scalars(
        select(MachineRecord)
        .where(MachineRecord.workstation_id == workstation_id)
        .where(or_(MachineRecord.event_id == event_id, MachineRecord.ended_at == at))
        .order_by(MachineRecord.id)
    ):
        if rec.event_id == event_id:
            opened = rec
        else:
            closed = rec  # the latest span that ended at `at`

    def span(rec: MachineRecord | None) -> MachineSpan | None:
        return MachineSpan(rec.state, rec.reason, rec.started_at, rec.ended_at) if rec else None

    return span(closed), span(opened)
