"""Re-planning jobs that have not started: resize or re-date them, and add a child job.

A plan changes as orders change; a job nobody has started yet can follow it (its step BOM and
standard minutes scale with the quantity), a started one cannot: it is refused here and the
planner decides. Child jobs are made planned, and a planned job is released here without
production's automatic children, since whoever plans has already netted the made inputs.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import WrongState
from isom.ledger import services as ledger
from isom.production.events import event_command
from isom.production.models import (
    MaterialRole,
    ProductionEvent,
    StepMaterial,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import (
    CreateChildWorkOrder,
    ReleaseWorkOrder,
    ReplanWorkOrder,
    ScanResult,
)
from isom.production.workorders import (
    get_work_order,
    item_of,
    new_work_order,
    release,
    result_of,
)

Actor = ledger.Actor
SIX = Decimal("0.000001")
NOT_STARTED = (WorkOrderStatus.planned, WorkOrderStatus.released)


def not_started(session: Session, wo: WorkOrder) -> bool:
    """Planned, or released with every step still waiting or ready."""
    if wo.status not in NOT_STARTED:
        return False
    if wo.status is WorkOrderStatus.planned:
        return True  # steps are made at release
    busy = session.scalar(
        select(WorkOrderStep.id).where(
            WorkOrderStep.work_order_id == wo.id,
            WorkOrderStep.status.not_in((StepStatus.waiting, StepStatus.ready)),
        )
    )
    return busy is None


@event_command("replan")
def replan_work_order(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ReplanWorkOrder
) -> ScanResult:
    """Resize or re-date a job that has not started; its step BOM follows the new quantity."""
    wo = get_work_order(session, cmd.work_order, lock=True)
    event.work_order_id = wo.id
    if not not_started(session, wo):
        raise WrongState(
            f"work order {wo.number} is {wo.status.value} and has started",
            field="work_order",
            expected="a planned or released job with no step started",
        )
    if cmd.quantity is not None and cmd.quantity != wo.quantity:
        _rescale(session, wo, cmd.quantity)
    if cmd.due_date is not None:
        wo.due_date = cmd.due_date
    wo.updated_at, wo.updated_by = event.occurred_at, actor.name
    session.flush()
    return result_of(wo, quantity=str(wo.quantity), due_date=str(wo.due_date))


def _rescale(session: Session, wo: WorkOrder, quantity: Decimal) -> None:
    """The job's quantity, and its released steps' materials and standard minutes with it."""
    wo.quantity = quantity
    steps = session.scalars(select(WorkOrderStep).where(WorkOrderStep.work_order_id == wo.id))
    for step in steps:
        run = step.run_minutes_per_unit * quantity
        step.standard_minutes = (step.setup_minutes + run + step.cleanup_minutes).quantize(SIX)
        for m in session.scalars(select(StepMaterial).where(StepMaterial.step_id == step.id)):
            rounding = ROUND_HALF_EVEN if m.role is MaterialRole.input else None
            m.quantity = (
                (m.quantity_per * quantity).quantize(SIX, rounding)
                if rounding
                else (m.quantity_per * quantity).quantize(SIX)
            )


@event_command("create_child")
def create_child_work_order(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: CreateChildWorkOrder
) -> ScanResult:
    """A planned child job for an input of a parent's step, serving the parent's line."""
    parent = get_work_order(session, cmd.parent, lock=True)
    if parent.status not in (*NOT_STARTED, WorkOrderStatus.in_progress):
        raise WrongState(
            f"work order {parent.number} is {parent.status.value}",
            field="parent",
            expected="an open job",
        )
    child = new_work_order(
        session,
        item_of(session, cmd.item),
        cmd.quantity,
        cmd.due_date,
        actor=actor,
        at=event.occurred_at,
        customer_line=parent.customer_line,
        parent=parent,
        parent_step=cmd.parent_step,
    )
    event.work_order_id = child.id
    return result_of(child, parent=parent.number)


@event_command("release")
def release_as_planned(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ReleaseWorkOrder
) -> ScanResult:
    """Release a planned job without automatic child jobs (the plan made the ones needed)."""
    wo = get_work_order(session, cmd.work_order, lock=True)
    release(
        session,
        wo,
        actor=actor,
        at=event.occurred_at,
        route_code=cmd.route,
        make_children=False,
    )
    event.work_order_id = wo.id  # after the release's flushes: the event is written once
    return result_of(wo)
