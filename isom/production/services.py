"""Step execution by scan, and the production domain's one entry point for the API and devices.

Work-order actions live in `workorders.py`, state machines in `states.py`, the idempotent event
frame in `events.py`, what scans share in `steps.py`, the stop scan in `stops.py` and returns
to stock in `returns.py`; they are re-exported here so callers import one module.

Every action takes the session first, then who acts, the idempotency key and a validated
command; it checks everything before it writes, moves material only through the ledger's
services, and never commits. A replay of a key answers the stored result.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isom.db import RetryableConflict
from isom.errors import Conflict, InvalidInput, WrongState
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import ConsumeCommand
from isom.masterdata import services as md
from isom.masterdata.models import Item, Person
from isom.production import timekeeping
from isom.production.closing import cancel_work_order, close_work_order
from isom.production.events import event_command
from isom.production.models import (
    MachineRecord,
    MachineState,
    MaterialRole,
    ProductionEvent,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.replan import (
    create_child_work_order,
    not_started,
    release_as_planned,
    replan_work_order,
)
from isom.production.returns import return_material
from isom.production.schemas import (
    ConsumeScan,
    MachineStateCommand,
    ScanResult,
    StepScan,
)
from isom.production.states import (
    STEP_TRANSITIONS,
    WORK_ORDER_TRANSITIONS,
    transition_step,
    transition_work_order,
)
from isom.production.steps import (
    check_qualified,
    clock_in,
    clock_out,
    job_step,
    main_output,
    open_labour,
    previous_step,
    scanned,
)
from isom.production.stops import stop_step
from isom.production.workorders import (
    create_work_order,
    get_step,
    get_work_order,
    materials_of,
    new_work_order,
    person_by_badge,
    release,
    release_work_order,
    result_of,
    step_ref,
    steps_of,
    workstation_by_code,
    workstation_by_id,
)

Actor = ledger.Actor
SIX = Decimal("0.000001")


__all__ = [
    "STEP_TRANSITIONS",
    "WORK_ORDER_TRANSITIONS",
    "cancel_work_order",
    "close_work_order",
    "create_child_work_order",
    "create_work_order",
    "get_step",
    "get_work_order",
    "materials_of",
    "new_work_order",
    "not_started",
    "release",
    "release_as_planned",
    "release_work_order",
    "replan_work_order",
    "return_material",
    "steps_of",
    "stop_step",
    "transition_step",
    "transition_work_order",
    "workstation_by_code",
]

# ---------------------------------------------------------------------------------------------
# Step execution by scan.


def _move(
    step: WorkOrderStep, to: StepStatus, wo: WorkOrder, actor: Actor, event: ProductionEvent
) -> None:
    """Move a step to `to` at the time of the scan's event."""
    transition_step(step, to, actor=actor, at=event.occurred_at, number=str(wo.number))


def _recorded(
    event: ProductionEvent, wo: WorkOrder, step: WorkOrderStep, person: Person
) -> ScanResult:
    """Name the job, step and person on the scan's event, and answer with them."""
    event.work_order_id, event.step_id, event.person_id = wo.id, step.id, person.id
    return result_of(wo, step, person=person.code)


@event_command("start")
def start_step(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    """Badge + job step + workstation: start a ready step, or join one already running there."""
    wo, step, person = scanned(session, cmd)
    if cmd.workstation is None:
        raise InvalidInput(
            "scan the workstation to start a step",
            field="workstation",
            expected="the code of the workstation the step runs on",
        )
    ws = workstation_by_code(session, cmd.workstation)
    check_qualified(wo, step, person, ws)
    at = event.occurred_at
    joined = step.status is StepStatus.running
    if joined:
        if step.workstation_id != ws.id:
            raise Conflict(
                f"{wo.number}/{step.sequence} runs on another workstation",
                field="workstation",
                expected="the workstation the step runs on",
            )
        if open_labour(session, step, person.id):
            raise Conflict(
                f"{person.name} is already on {wo.number}/{step.sequence}",
                field="badge",
                expected="a person not yet on the step",
            )
        step.last_event_at = at
    elif step.status is StepStatus.paused:
        raise Conflict(
            f"{wo.number}/{step.sequence} is paused", field="step", expected="resume a paused step"
        )
    else:
        transition_step(step, StepStatus.running, actor=actor, at=at, number=str(wo.number))
        step.workstation_id = ws.id
    if wo.status is WorkOrderStatus.released:
        transition_work_order(wo, WorkOrderStatus.in_progress, actor=actor, at=at)
    clock_in(session, wo, step, person, ws.id, event)
    return result_of(wo, step, person=person.code, workstation=ws.code, joined=joined)


@event_command("pause")
def pause_step(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    """Pause a running step: everyone's clock on it stops."""
    wo, step, person = scanned(session, cmd)
    _move(step, StepStatus.paused, wo, actor, event)
    clock_out(session, open_labour(session, step), event)
    return _recorded(event, wo, step, person)


@event_command("resume")
def resume_step(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    """Resume a paused step; the scanning person's clock starts again."""
    wo, step, person = scanned(session, cmd)
    ws = (
        workstation_by_code(session, cmd.workstation)
        if cmd.workstation
        else workstation_by_id(session, step.workstation_id)
    )
    if ws is None:
        raise InvalidInput(
            "scan the workstation", field="workstation", expected="a workstation code"
        )
    check_qualified(wo, step, person, ws)
    _move(step, StepStatus.running, wo, actor, event)
    step.workstation_id = ws.id
    clock_in(session, wo, step, person, ws.id, event)
    return result_of(wo, step, person=person.code, workstation=ws.code)


@event_command("leave")
def leave_step(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    """One person leaves a step (break, end of shift); the last one out pauses it."""
    wo, step, person = scanned(session, cmd)
    on_step = open_labour(session, step)
    mine = [r for r in on_step if r.person_id == person.id]
    if not mine:
        raise Conflict(
            f"{person.name} is not on {wo.number}/{step.sequence}",
            field="badge",
            expected="a person working on the step",
        )
    clock_out(session, mine, event)
    if len(mine) == len(on_step):  # the last one out
        _move(step, StepStatus.paused, wo, actor, event)
    return _recorded(event, wo, step, person)


@event_command("consume")
def consume_scan(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ConsumeScan
) -> ScanResult:
    """A container scanned into a running step: checks the step BOM, then ledger.consume."""
    wo, step = job_step(session, cmd.work_order, cmd.step)
    if step.status is not StepStatus.running:
        raise WrongState(
            f"{wo.number}/{step.sequence} is {step.status.value}",
            field="step",
            expected="a running step: start it first",
        )
    item = md.get_item(session, cmd.item)
    allowed = {m.item_id for m in materials_of(session, step) if m.role is MaterialRole.input}
    previous = previous_step(session, wo, step)
    wip_of = None
    if previous is not None:
        main = main_output(session, previous)
        if main is not None and main.item_id == item.id:
            wip_of = step_ref(wo, previous)
    if item.id not in allowed and wip_of is None:
        codes = sorted(session.scalars(select(Item.code).where(Item.id.in_(allowed))))
        raise InvalidInput(
            f"{item.code} is not in the BOM of {wo.number}/{step.sequence}",
            field="item",
            expected="one of: " + (", ".join(codes) or "nothing"),
        )
    lines = ledger_queries.wip_tags(session, cmd.container, item.id)
    if wip_of is not None and wip_of in lines:
        wip = wip_of
    elif None in lines or not lines:
        wip = None  # stock material; the ledger names a missing line
    else:
        raise Conflict(
            f"the {item.code} in {cmd.container} is WIP of "
            + ", ".join(sorted(str(x) for x in lines)),
            field="container",
            expected=f"stock material or WIP of {wip_of or 'the previous step'}",
        )
    result = ledger.consume(
        session,
        actor,
        f"{key}:consume",
        ConsumeCommand(
            container=cmd.container,
            item=item.code,
            lot=cmd.lot,
            wip_step=wip,
            quantity=cmd.quantity,
            step=step_ref(wo, step),
            occurred_at=event.occurred_at,
        ),
    )
    if wip is not None:
        step.quantity_in += cmd.quantity
    step.last_event_at = event.occurred_at
    event.work_order_id, event.step_id = wo.id, step.id
    if cmd.badge:
        event.person_id = person_by_badge(session, cmd.badge).id
    return result_of(
        wo,
        step,
        ledger_events=[result.event_id],
        container=cmd.container,
        item=item.code,
        quantity=str(cmd.quantity),
    )


@event_command("machine")
def machine_state(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: MachineStateCommand
) -> ScanResult:
    """A workstation changes state (setup/run/idle/down/cleanup); the MQTT ingest calls this too."""
    ws = workstation_by_code(session, cmd.workstation)
    if cmd.state is MachineState.down and not cmd.reason:
        raise InvalidInput(
            "a machine that is down needs a reason", field="reason", expected="why it is down"
        )
    at = event.occurred_at
    timekeeping.changed(session)
    current = session.scalar(
        select(MachineRecord)
        .where(MachineRecord.workstation_id == ws.id, MachineRecord.ended_at.is_(None))
        .with_for_update()
    )
    if current is not None:
        if at < current.started_at:
            raise InvalidInput(
                "the state change is earlier than the current state's start",
                field="occurred_at",
                expected=f"after {current.started_at.isoformat()}",
            )
        current.ended_at = at
    record = MachineRecord(
        workstation_id=ws.id, state=cmd.state, reason=cmd.reason, started_at=at, event_id=event.id
    )
    if current is not None:  # its lock keeps any other event from opening a state here
        session.add(record)
    else:
        _open_first_state(session, record)
    event.workstation_id = ws.id
    return ScanResult(
        event_id=0,
        key="",
        kind="",
        detail={
            "workstation": ws.code,
            "state": cmd.state.value,
            "reason": cmd.reason,
            "previous": current.state.value if current else None,
        },
    )


def _open_first_state(session: Session, record: MachineRecord) -> None:
    """Open a workstation's first state; nothing was there to lock, so another event may
    have opened one since we looked: then run again, and close that one instead."""
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError as exc:
        raise RetryableConflict(str(exc)) from exc
