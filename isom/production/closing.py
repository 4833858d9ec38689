"""Close or cancel a job, also one that is under way: its work in process goes back to stock.

A planner cancels a job that has not started and closes a complete one. A supervisor (or an
admin) may also cancel or close a job in progress (a route that cannot be finished, an order
withdrawn): open labour records are closed; every container line tagged as WIP of the job's
steps becomes plain stock where it stands; what each step's place holds beyond what its
good, scrap and rework used goes back to stock in a new container at the step's workstation:
unused BOM inputs at the cost they came in at (ledger return), and units of the previous step's
output taken in and not yet made at the cost they came in at (ledger produce, so the step's
conversion cost stays with the job). Everything goes through the ledger in the same unit of
work; the job's cost keeps only what was used.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from isom.errors import Conflict
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.posting import plain
from isom.ledger.schemas import LotIn, ProduceCommand, ReturnCommand
from isom.masterdata.models import Location, Workstation
from isom.production.coverage import needs, processed_after
from isom.production.events import Build, run_event
from isom.production.models import (
    ProductionEvent,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import ChangeWorkOrder, ScanResult
from isom.production.states import transition_work_order
from isom.production.steps import clock_out, open_labour
from isom.production.workorders import get_work_order, result_of, step_ref, steps_of

Actor = ledger.Actor
#: Who may stop a job that is under way (an admin always may).
SHORT_CLOSERS = ("supervisor",)


def close_work_order(session: Session, actor: Actor, key: str, cmd: ChangeWorkOrder) -> ScanResult:
    """Close a complete job; a supervisor may close one in progress, its WIP back to stock."""
    return run_event(session, actor, key, "close", cmd, _change(WorkOrderStatus.closed))


def cancel_work_order(session: Session, actor: Actor, key: str, cmd: ChangeWorkOrder) -> ScanResult:
    """Cancel a job that has not started; a supervisor may cancel one in progress too."""
    return run_event(session, actor, key, "cancel", cmd, _change(WorkOrderStatus.cancelled))


def _change(to: WorkOrderStatus) -> Build:
    def build(
        session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ChangeWorkOrder
    ) -> ScanResult:
        wo = get_work_order(session, cmd.work_order, lock=True)
        event.work_order_id = wo.id
        returned: list[dict[str, str | None]] = []
        events: list[int] = []
        if wo.status is WorkOrderStatus.in_progress:
            if not actor.has_any(*SHORT_CLOSERS):
                raise Conflict(
                    f"work order {wo.number} is in progress: only a supervisor may "
                    f"{'close' if to is WorkOrderStatus.closed else 'cancel'} it",
                    field="work_order",
                    expected="a job that is not under way, or a supervisor to stop it",
                )
            transition_work_order(wo, to, actor=actor, at=event.occurred_at)
            events, returned = _return_wip(session, actor, key, wo, event)
        else:
            transition_work_order(wo, to, actor=actor, at=event.occurred_at)
        return result_of(wo, reason=cmd.reason, ledger_events=events, returned=returned)

    return build


def _return_wip(
    session: Session, actor: Actor, key: str, wo: WorkOrder, event: ProductionEvent
) -> tuple[list[int], list[dict[str, str | None]]]:
    """Clock everyone off the job and send its work in process back to stock."""
    events: list[int] = []
    returned: list[dict[str, str | None]] = []
    for step in steps_of(session, wo):
        clock_out(session, open_labour(session, step), event)
        for container, item, lot, quantity in _tagged_lines(session, step_ref(wo, step)):
            res = ledger.return_to_stock(
                session,
                actor,
                f"{key}:wip:{step.sequence}:{container}:{item}:{lot or ''}",
                ReturnCommand(
                    step=step_ref(wo, step),
                    item=item,
                    lot=lot,
                    quantity=quantity,
                    container=container,
                    reason=f"{wo.number} {wo.status.value}",
                    occurred_at=event.occurred_at,
                ),
            )
            step.quantity_returned += quantity
            events.append(res.event_id)
            returned.append(
                {"container": container, "item": item, "lot": lot, "quantity": plain(quantity)}
            )
        got = _return_unused(session, actor, key, wo, step, event)
        events += [e for e, _ in got]
        returned += [r for _, r in got]
    return events, returned


def _tagged_lines(session: Session, ref: str) -> list[tuple[str, str, str | None, Decimal]]:
    """Container lines tagged as WIP of a step: its output waiting for the next step."""
    return ledger_queries.wip_lines(session, ref)


def _return_unused(
    session: Session,
    actor: Actor,
    key: str,
    wo: WorkOrder,
    step: WorkOrderStep,
    event: ProductionEvent,
) -> list[tuple[int, dict[str, str | None]]]:
    """What the step's place holds beyond what its output used, back to stock at cost in."""
    ref = step_ref(wo, step)
    unused = {
        n.item.id: (n, n.taken - n.need)
        for n in needs(session, wo, step, processed_after(step, Decimal(0), Decimal(0)))
        if n.taken > n.need
    }
    if not unused:
        return []
    ws = session.get(Workstation, step.workstation_id or 0)
    loc = session.get(Location, ws.location_id or 0) if ws else None
    out: list[tuple[int, dict[str, str | None]]] = []
    for n_lot, held in enumerate(ledger_queries.place_lots(session, ledger.step_place(ref))):
        if held.item_id not in unused:
            continue
        need, left = unused[held.item_id]
        take = min(left, held.quantity)
        if take <= 0:
            continue
        unused[held.item_id] = (need, left - take)
        k = f"{key}:unused:{step.sequence}:{n_lot}"
        location = loc.code if loc else None
        if need.material is None:  # the previous step's output: out at the cost it came in at
            res = ledger.produce(
                session,
                actor,
                k,
                ProduceCommand(
                    step=ref,
                    item=need.item.code,
                    lot=LotIn(code=held.lot) if held.lot else None,
                    quantity=take,
                    unit_cost=held.unit_cost_in,
                    location=location,
                    occurred_at=event.occurred_at,
                ),
            )
        else:
            res = ledger.return_to_stock(
                session,
                actor,
                k,
                ReturnCommand(
                    step=ref,
                    item=need.item.code,
                    lot=held.lot,
                    quantity=take,
                    location=location,
                    reason=f"{wo.number} {wo.status.value}",
                    occurred_at=event.occurred_at,
                ),
            )
        record = {"container": str(res.detail["container"]), "item": need.item.code}
        out.append((res.event_id, {**record, "lot": held.lot, "quantity": plain(take)}))
    return out
