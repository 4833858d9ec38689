"""What every step scan shares: the open job, clocking in and out, the steps around a step."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput, WrongState
from isom.masterdata.models import Person, Workstation
from isom.production import timekeeping
from isom.production.models import (
    LabourRecord,
    MaterialRole,
    ProductionEvent,
    StepMaterial,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import StepScan
from isom.production.workorders import (
    get_step,
    get_work_order,
    materials_of,
    person_by_badge,
    route_of,
)

OPEN = (WorkOrderStatus.released, WorkOrderStatus.in_progress)


def open_job(
    session: Session, number: str, allowed: tuple[WorkOrderStatus, ...] = OPEN
) -> WorkOrder:
    """The job, locked for the scan, if it is in one of the `allowed` states (else 409)."""
    wo = get_work_order(session, number, lock=True)
    if wo.status not in allowed:
        raise WrongState(
            f"work order {wo.number} is {wo.status.value}",
            field="work_order",
            expected="a work order that is " + " or ".join(s.value for s in allowed),
        )
    return wo


def job_step(
    session: Session, number: str, sequence: int, allowed: tuple[WorkOrderStatus, ...] = OPEN
) -> tuple[WorkOrder, WorkOrderStep]:
    """The job a scan names, locked, if it is in one of the `allowed` states, and its step."""
    wo = open_job(session, number, allowed)
    return wo, get_step(session, wo, sequence)


def scanned(session: Session, cmd: StepScan) -> tuple[WorkOrder, WorkOrderStep, Person]:
    """The open job, the step and the person a step scan names (404 or 409 when not)."""
    return (*job_step(session, cmd.work_order, cmd.step), person_by_badge(session, cmd.badge))


def open_labour(
    session: Session, step: WorkOrderStep, person_id: int | None = None
) -> list[LabourRecord]:
    """The step's open labour records (of one person when `person_id` is given)."""
    query = select(LabourRecord).where(
        LabourRecord.step_id == step.id, LabourRecord.ended_at.is_(None)
    )
    if person_id is not None:
        query = query.where(LabourRecord.person_id == person_id)
    return list(session.scalars(query.order_by(LabourRecord.id)))


def check_qualified(wo: WorkOrder, step: WorkOrderStep, person: Person, ws: Workstation) -> None:
    """Refuse a person without the step's skill or a workstation that cannot do the step."""
    if step.skill and step.skill not in (person.skills or []):
        raise Conflict(
            f"{person.name} lacks the skill {step.skill!r} for {wo.number}/{step.sequence}",
            field="badge",
            expected=f"a person with the skill {step.skill!r}",
        )
    if step.workstation_kind and ws.kind != step.workstation_kind:
        raise Conflict(
            f"workstation {ws.code} is a {ws.kind}, step {step.sequence} needs a "
            f"{step.workstation_kind}",
            field="workstation",
            expected=f"a workstation of kind {step.workstation_kind!r}",
        )
    if ws.operations and step.operation not in ws.operations:
        raise Conflict(
            f"workstation {ws.code} cannot do {step.operation!r}",
            field="workstation",
            expected=f"a workstation whose operations include {step.operation!r}",
        )


def clock_in(
    session: Session,
    wo: WorkOrder,
    step: WorkOrderStep,
    person: Person,
    ws_id: int,
    event: ProductionEvent,
) -> None:
    """Open a labour record for the person on the step, from the event's time."""
    event.work_order_id, event.step_id = wo.id, step.id
    event.person_id, event.workstation_id = person.id, ws_id
    timekeeping.changed(session)
    session.add(
        LabourRecord(
            step_id=step.id,
            work_order_id=wo.id,
            person_id=person.id,
            workstation_id=ws_id,
            started_at=event.occurred_at,
            start_event_id=event.id,
        )
    )


def clock_out(session: Session, records: list[LabourRecord], event: ProductionEvent) -> None:
    """Close labour records at the event's time (never before they opened)."""
    timekeeping.changed(session)
    for r in records:
        if event.occurred_at < r.started_at:
            raise InvalidInput(
                "the scan is earlier than the clock-in it would close",
                field="occurred_at",
                expected=f"a time after {r.started_at.isoformat()}",
            )
        r.ended_at = event.occurred_at
        r.end_event_id = event.id


def previous_step(session: Session, wo: WorkOrder, step: WorkOrderStep) -> WorkOrderStep | None:
    """The step before this one in the job's route, if any."""
    before = [s for s in route_of(session, wo) if s.sequence < step.sequence]
    return before[-1] if before else None


def next_step(session: Session, wo: WorkOrder, step: WorkOrderStep) -> WorkOrderStep | None:
    """The step after this one in the job's route, if any."""
    return next((s for s in route_of(session, wo) if s.sequence > step.sequence), None)


def main_output(session: Session, step: WorkOrderStep) -> StepMaterial | None:
    """The step's main output line (what it makes), if it has one."""
    return next((m for m in materials_of(session, step) if m.role is MaterialRole.main), None)
