"""Return of unused material from a step to plain stock, by the operator's scan.

Material consumed into a step and not used goes back out of the step's place (the job's
material cost drops by what it came in at). A container line of the step's own WIP output can
be returned too (surplus or a job stopped short): it becomes plain stock and the step counts it
as returned, so good output = consumed by the next step + still WIP + returned.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput
from isom.ledger import services as ledger
from isom.ledger.schemas import ReturnCommand
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Workstation
from isom.production.coverage import needs, processed_after, refuse_uncovered
from isom.production.events import event_command
from isom.production.models import (
    MaterialRole,
    ProductionEvent,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import ReturnScan, ScanResult
from isom.production.steps import job_step, main_output, previous_step
from isom.production.workorders import (
    materials_of,
    person_by_badge,
    result_of,
    step_ref,
)

Actor = ledger.Actor
RETURNABLE = (WorkOrderStatus.released, WorkOrderStatus.in_progress, WorkOrderStatus.complete)


@event_command("return")
def return_material(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ReturnScan
) -> ScanResult:
    """Unused material of a step (or its WIP output) back to plain stock: ledger return."""
    wo, step = job_step(session, cmd.work_order, cmd.step, RETURNABLE)
    person = person_by_badge(session, cmd.badge) if cmd.badge else None
    item = md.get_item(session, cmd.item)
    main = main_output(session, step)
    of_output = cmd.container is not None and main is not None and main.item_id == item.id
    if cmd.container is None:
        _check_returnable_input(session, wo, step, item)
    elif not of_output:
        raise InvalidInput(
            f"{item.code} is not what {wo.number}/{step.sequence} makes",
            field="item",
            expected="the step's output, to return its WIP from a container",
        )
    location = cmd.location
    if cmd.into is None and location is None and cmd.container is None:
        location = _workstation_location(session, step.workstation_id)
    result = ledger.return_to_stock(
        session,
        actor,
        f"{key}:return",
        ReturnCommand(
            step=step_ref(wo, step),
            item=item.code,
            lot=cmd.lot,
            quantity=cmd.quantity,
            container=cmd.container,
            into=cmd.into,
            new_container=cmd.new_container,
            location=location,
            reason=cmd.reason,
            occurred_at=event.occurred_at,
        ),
    )
    if of_output:
        step.quantity_returned += cmd.quantity
    else:
        _check_still_covered(session, wo, step, item)
    step.last_event_at = event.occurred_at
    event.work_order_id, event.step_id = wo.id, step.id
    event.person_id = person.id if person else None
    return result_of(
        wo,
        step,
        ledger_events=[result.event_id],
        item=item.code,
        quantity=str(cmd.quantity),
        container=result.detail["container"],
        unit_cost=result.detail["unit_cost"],
    )


def _check_returnable_input(
    session: Session, wo: WorkOrder, step: WorkOrderStep, item: Item
) -> None:
    """Only the step's BOM inputs go back to stock; the job's own WIP goes on to the next step."""
    number = wo.number
    inputs = {m.item_id for m in materials_of(session, step) if m.role is MaterialRole.input}
    if item.id in inputs:
        return
    previous = previous_step(session, wo, step)
    made = main_output(session, previous) if previous else None
    if made is not None and made.item_id == item.id:
        raise Conflict(
            f"{item.code} in {number}/{step.sequence} is the job's own WIP; it is finished by "
            "the step, scrapped, or sent to rework, not returned to stock",
            field="item",
            expected="a BOM input of the step",
        )
    codes = sorted(session.scalars(select(Item.code).where(Item.id.in_(inputs))))
    raise InvalidInput(
        f"{item.code} is not in the BOM of {number}/{step.sequence}",
        field="item",
        expected="one of: " + (", ".join(codes) or "nothing"),
    )


def _check_still_covered(session: Session, wo: WorkOrder, step: WorkOrderStep, item: Item) -> None:
    """Only what the step's output did not use goes back: its good, scrap and rework stay
    covered by what it consumed."""
    processed = processed_after(step, Decimal(0), Decimal(0))
    short = [n for n in needs(session, wo, step, processed) if n.item.id == item.id and n.short]
    refuse_uncovered(wo, step, processed, short, field="quantity")


def _workstation_location(session: Session, workstation_id: int | None) -> str | None:
    ws = session.get(Workstation, workstation_id or 0)
    loc = session.get(Location, ws.location_id or 0) if ws else None
    return loc.code if loc else None
