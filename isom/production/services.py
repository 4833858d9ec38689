"""Step execution by scan, and the production domain's one entry point for the API and devices.

Work-order actions live in `workorders.py`, state machines in `states.py`, the idempotent event
frame in `events.py`; they are re-exported here so callers import one module.

Every action takes the session first, then who acts, the idempotency key and a validated
command; it checks everything before it writes, moves material only through the ledger's
services, and never commits. A replay of a key answers the stored result.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.costing import services as costing
from isom.errors import Conflict, InvalidInput
from isom.ledger import services as ledger
from isom.ledger.models import Container, Content, Lot
from isom.ledger.schemas import ConsumeCommand, LotIn, ProduceCommand, ScrapCommand
from isom.masterdata import services as md
from isom.masterdata.models import (
    Item,
    Location,
    Person,
    Tracking,
    Workstation,
)
from isom.production.events import run_event
from isom.production.models import (
    LabourRecord,
    MachineRecord,
    MachineState,
    MaterialRole,
    ProductionEvent,
    StepMaterial,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import (
    ConsumeScan,
    MachineStateCommand,
    ScanResult,
    StepScan,
    StopScan,
)
from isom.production.states import (
    STEP_TRANSITIONS,
    WORK_ORDER_TRANSITIONS,
    transition_step,
    transition_work_order,
)
from isom.production.workorders import (
    cancel_work_order,
    close_work_order,
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
)

Actor = ledger.Actor
SIX = Decimal("0.000001")


__all__ = [
    "STEP_TRANSITIONS",
    "WORK_ORDER_TRANSITIONS",
    "cancel_work_order",
    "close_work_order",
    "create_work_order",
    "get_step",
    "get_work_order",
    "materials_of",
    "new_work_order",
    "release",
    "release_work_order",
    "steps_of",
    "transition_step",
    "transition_work_order",
    "workstation_by_code",
]

# ---------------------------------------------------------------------------------------------
# Step execution by scan.


def _open_job(session: Session, number: str) -> WorkOrder:
    wo = get_work_order(session, number, lock=True)
    if wo.status not in (WorkOrderStatus.released, WorkOrderStatus.in_progress):
        raise Conflict(
            f"work order {wo.number} is {wo.status.value}",
            field="work_order",
            expected="a released or in-progress work order",
        )
    return wo


def _open_labour(
    session: Session, step: WorkOrderStep, person_id: int | None = None
) -> list[LabourRecord]:
    query = select(LabourRecord).where(
        LabourRecord.step_id == step.id, LabourRecord.ended_at.is_(None)
    )
    if person_id is not None:
        query = query.where(LabourRecord.person_id == person_id)
    return list(session.scalars(query.order_by(LabourRecord.id)))


def _check_qualified(wo: WorkOrder, step: WorkOrderStep, person: Person, ws: Workstation) -> None:
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


def start_step(session: Session, actor: Actor, key: str, cmd: StepScan) -> ScanResult:
    """Badge + job step + workstation: start a ready step, or join one already running there."""
    return run_event(session, actor, key, "start", cmd, _start)


def _start(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    wo = _open_job(session, cmd.work_order)
    step = get_step(session, wo, cmd.step)
    person = person_by_badge(session, cmd.badge)
    if cmd.workstation is None:
        raise InvalidInput(
            "scan the workstation to start a step",
            field="workstation",
            expected="the code of the workstation the step runs on",
        )
    ws = workstation_by_code(session, cmd.workstation)
    _check_qualified(wo, step, person, ws)
    at = event.occurred_at
    joined = step.status is StepStatus.running
    if joined:
        if step.workstation_id != ws.id:
            raise Conflict(
                f"{wo.number}/{step.sequence} runs on another workstation",
                field="workstation",
                expected="the workstation the step runs on",
            )
        if _open_labour(session, step, person.id):
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
    _clock_in(session, wo, step, person, ws.id, event)
    return result_of(wo, step, person=person.code, workstation=ws.code, joined=joined)


def _clock_in(
    session: Session,
    wo: WorkOrder,
    step: WorkOrderStep,
    person: Person,
    ws_id: int,
    event: ProductionEvent,
) -> None:
    event.work_order_id, event.step_id = wo.id, step.id
    event.person_id, event.workstation_id = person.id, ws_id
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


def _clock_out(records: list[LabourRecord], event: ProductionEvent) -> None:
    for r in records:
        if event.occurred_at < r.started_at:
            raise InvalidInput(
                "the scan is earlier than the clock-in it would close",
                field="occurred_at",
                expected=f"a time after {r.started_at.isoformat()}",
            )
        r.ended_at = event.occurred_at
        r.end_event_id = event.id


def pause_step(session: Session, actor: Actor, key: str, cmd: StepScan) -> ScanResult:
    """Pause a running step: everyone's clock on it stops."""
    return run_event(session, actor, key, "pause", cmd, _pause)


def _pause(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    wo = _open_job(session, cmd.work_order)
    step = get_step(session, wo, cmd.step)
    person = person_by_badge(session, cmd.badge)
    transition_step(
        step, StepStatus.paused, actor=actor, at=event.occurred_at, number=str(wo.number)
    )
    _clock_out(_open_labour(session, step), event)
    event.work_order_id, event.step_id, event.person_id = wo.id, step.id, person.id
    return result_of(wo, step, person=person.code)


def resume_step(session: Session, actor: Actor, key: str, cmd: StepScan) -> ScanResult:
    """Resume a paused step; the scanning person's clock starts again."""
    return run_event(session, actor, key, "resume", cmd, _resume)


def _resume(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    wo = _open_job(session, cmd.work_order)
    step = get_step(session, wo, cmd.step)
    person = person_by_badge(session, cmd.badge)
    ws = (
        workstation_by_code(session, cmd.workstation)
        if cmd.workstation
        else session.get(Workstation, step.workstation_id or 0)
    )
    if ws is None:
        raise InvalidInput(
            "scan the workstation", field="workstation", expected="a workstation code"
        )
    _check_qualified(wo, step, person, ws)
    transition_step(
        step, StepStatus.running, actor=actor, at=event.occurred_at, number=str(wo.number)
    )
    step.workstation_id = ws.id
    _clock_in(session, wo, step, person, ws.id, event)
    return result_of(wo, step, person=person.code, workstation=ws.code)


def leave_step(session: Session, actor: Actor, key: str, cmd: StepScan) -> ScanResult:
    """One person leaves a step (break, end of shift); the last one out pauses it."""
    return run_event(session, actor, key, "leave", cmd, _leave)


def _leave(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StepScan
) -> ScanResult:
    wo = _open_job(session, cmd.work_order)
    step = get_step(session, wo, cmd.step)
    person = person_by_badge(session, cmd.badge)
    mine = _open_labour(session, step, person.id)
    if not mine:
        raise Conflict(
            f"{person.name} is not on {wo.number}/{step.sequence}",
            field="badge",
            expected="a person working on the step",
        )
    _clock_out(mine, event)
    session.flush()
    if not _open_labour(session, step):
        transition_step(
            step, StepStatus.paused, actor=actor, at=event.occurred_at, number=str(wo.number)
        )
    event.work_order_id, event.step_id, event.person_id = wo.id, step.id, person.id
    return result_of(wo, step, person=person.code)


def consume_scan(session: Session, actor: Actor, key: str, cmd: ConsumeScan) -> ScanResult:
    """A container scanned into a running step: checks the step BOM, then ledger.consume."""
    return run_event(session, actor, key, "consume", cmd, _consume)


def _consume(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ConsumeScan
) -> ScanResult:
    wo = _open_job(session, cmd.work_order)
    step = get_step(session, wo, cmd.step)
    if step.status is not StepStatus.running:
        raise Conflict(
            f"{wo.number}/{step.sequence} is {step.status.value}",
            field="step",
            expected="a running step: start it first",
        )
    item = md.get_item(session, cmd.item)
    allowed = {m.item_id for m in materials_of(session, step) if m.role is MaterialRole.input}
    previous = _previous_step(session, wo, step)
    wip_of = None
    if previous is not None:
        main = _main_output(session, previous)
        if main is not None and main.item_id == item.id:
            wip_of = step_ref(wo, previous)
    if item.id not in allowed and wip_of is None:
        codes = sorted(session.scalars(select(Item.code).where(Item.id.in_(allowed))))
        raise InvalidInput(
            f"{item.code} is not in the BOM of {wo.number}/{step.sequence}",
            field="item",
            expected="one of: " + (", ".join(codes) or "nothing"),
        )
    lines = (
        session.execute(
            select(Content.wip_step)
            .join(Container, Container.id == Content.container_id)
            .where(
                Container.code == cmd.container, Content.item_id == item.id, Content.quantity > 0
            )
        )
        .scalars()
        .all()
    )
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


def _previous_step(session: Session, wo: WorkOrder, step: WorkOrderStep) -> WorkOrderStep | None:
    return session.scalar(
        select(WorkOrderStep)
        .where(WorkOrderStep.work_order_id == wo.id, WorkOrderStep.sequence < step.sequence)
        .order_by(WorkOrderStep.sequence.desc())
        .limit(1)
    )


def _next_step(session: Session, wo: WorkOrder, step: WorkOrderStep) -> WorkOrderStep | None:
    return session.scalar(
        select(WorkOrderStep)
        .where(WorkOrderStep.work_order_id == wo.id, WorkOrderStep.sequence > step.sequence)
        .order_by(WorkOrderStep.sequence)
        .limit(1)
    )


def _main_output(session: Session, step: WorkOrderStep) -> StepMaterial | None:
    return session.scalar(
        select(StepMaterial)
        .where(StepMaterial.step_id == step.id, StepMaterial.role == MaterialRole.main)
        .limit(1)
    )


def stop_step(session: Session, actor: Actor, key: str, cmd: StopScan) -> ScanResult:
    """Stop a step: backflush floor stock, produce good output (WIP or stock), scrap, clock out."""
    return run_event(session, actor, key, "stop", cmd, _stop)


def _stop(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StopScan
) -> ScanResult:
    wo = _open_job(session, cmd.work_order)
    step = get_step(session, wo, cmd.step)
    person = person_by_badge(session, cmd.badge)
    if step.status not in (StepStatus.running, StepStatus.paused):
        raise Conflict(
            f"{wo.number}/{step.sequence} is {step.status.value}",
            field="step",
            expected="a running or paused step",
        )
    if cmd.scrap_quantity > 0 and not cmd.scrap_reason:
        raise InvalidInput(
            "scrap needs a reason", field="scrap_reason", expected="why it was scrapped"
        )
    main = _main_output(session, step)
    if main is None:
        raise Conflict(
            f"{wo.number}/{step.sequence} has no main output",
            field="step",
            expected="a step with a main output",
        )
    ws = session.get(Workstation, step.workstation_id or 0)
    assert ws is not None
    loc = session.get(Location, ws.location_id or 0)
    location = cmd.location or (loc.code if loc else None)
    if location is None:
        raise InvalidInput(
            f"workstation {ws.code} has no location",
            field="location",
            expected="where the output is put",
        )
    final = _next_step(session, wo, step) is None
    ref = step_ref(wo, step)
    at = event.occurred_at
    out_item = session.get(Item, main.item_id)
    assert out_item is not None
    made = cmd.good_quantity + cmd.scrap_quantity
    ledger_events: list[int] = []
    for m in materials_of(session, step):
        if m.role is MaterialRole.input and m.floor_stock and made > 0:
            ledger_events += _backflush(session, actor, key, wo, step, m, ws, made, at)
    _clock_out(_open_labour(session, step), event)
    session.flush()
    unit_cost = Decimal(0)
    if made > 0:
        value = costing.place_value(session, ledger.step_place(ref))
        conversion = costing.step_conversion_cost(session, step, at)
        unit_cost = max(Decimal(0), ((value + conversion) / made).quantize(SIX, ROUND_HALF_EVEN))
    lot_code = cmd.lot or (str(wo.number) if out_item.tracking is Tracking.lot else None)
    lot = LotIn(code=lot_code) if lot_code else None
    produced_into = None
    if cmd.good_quantity > 0:
        res = ledger.produce(
            session,
            actor,
            f"{key}:produce",
            ProduceCommand(
                step=ref,
                item=out_item.code,
                lot=lot,
                quantity=cmd.good_quantity,
                unit_cost=unit_cost,
                wip=not final,
                container=cmd.container,
                new_container=cmd.new_container,
                location=None if cmd.container else location,
                occurred_at=at,
            ),
        )
        ledger_events.append(res.event_id)
        produced_into = res.detail.get("container")
        for m in materials_of(session, step):
            if m.role in (MaterialRole.byproduct, MaterialRole.intermediate, MaterialRole.scrap):
                ledger_events.append(
                    _by_product(session, actor, key, ref, m, cmd.good_quantity, location, at)
                )
    if cmd.scrap_quantity > 0:
        res = ledger.produce(
            session,
            actor,
            f"{key}:scrap-out",
            ProduceCommand(
                step=ref,
                item=out_item.code,
                lot=lot,
                quantity=cmd.scrap_quantity,
                unit_cost=unit_cost,
                wip=True,
                location=location,
                occurred_at=at,
            ),
        )
        scrap_box = str(res.detail["container"])
        sc = ledger.scrap(
            session,
            actor,
            f"{key}:scrap",
            ScrapCommand(
                container=scrap_box,
                item=out_item.code,
                lot=lot_code,
                wip_step=ref,
                quantity=cmd.scrap_quantity,
                reason=cmd.scrap_reason,
                occurred_at=at,
            ),
        )
        ledger_events += [res.event_id, sc.event_id]
    step.quantity_good += cmd.good_quantity
    step.quantity_scrap += cmd.scrap_quantity
    step.quantity_rework += cmd.rework_quantity
    nb = str(wo.number)
    if cmd.complete:
        transition_step(step, StepStatus.done, actor=actor, at=at, number=nb)
    elif step.status is StepStatus.running:
        transition_step(step, StepStatus.paused, actor=actor, at=at, number=nb)
    nxt = _next_step(session, wo, step)
    if (
        nxt is not None
        and nxt.status is StepStatus.waiting
        and (cmd.good_quantity > 0 or cmd.complete)
    ):
        transition_step(nxt, StepStatus.ready, actor=actor, at=at, number=nb)
    if final and cmd.complete:
        transition_work_order(wo, WorkOrderStatus.complete, actor=actor, at=at)
    event.work_order_id, event.step_id, event.person_id, event.workstation_id = (
        wo.id,
        step.id,
        person.id,
        ws.id,
    )
    return result_of(
        wo,
        step,
        ledger_events=ledger_events,
        container=produced_into,
        unit_cost=str(unit_cost),
        good=str(cmd.good_quantity),
        scrap=str(cmd.scrap_quantity),
    )


def _backflush(
    session: Session,
    actor: Actor,
    key: str,
    wo: WorkOrder,
    step: WorkOrderStep,
    m: StepMaterial,
    ws: Workstation,
    made: Decimal,
    at: dt.datetime,
) -> list[int]:
    """Consume floor stock at the workstation's location for what the step made, oldest first."""
    item = session.get(Item, m.item_id)
    assert item is not None
    places = md.unit_decimals(session, item)
    need = (m.quantity_per * made).quantize(Decimal(1).scaleb(-places), ROUND_CEILING)
    rows = session.execute(
        select(Container.code, Content.quantity, Content.lot_id)
        .join(Container, Container.id == Content.container_id)
        .where(
            Container.location_id == ws.location_id,
            Content.item_id == item.id,
            Content.wip_step.is_(None),
            Content.status == "available",
            Content.quantity > 0,
        )
        .order_by(Content.id)
    ).all()
    if sum((r.quantity for r in rows), Decimal(0)) < need:
        raise Conflict(
            f"not enough floor stock of {item.code} at {ws.code} to backflush {need}",
            field="floor_stock",
            expected=f"{need} {item.code} at the workstation",
        )
    out: list[int] = []
    for n, r in enumerate(rows):
        if need <= 0:
            break
        take = min(need, r.quantity)
        lot = session.scalar(select(Lot.code).where(Lot.id == r.lot_id)) if r.lot_id else None
        res = ledger.consume(
            session,
            actor,
            f"{key}:backflush:{m.id}:{n}",
            ConsumeCommand(
                container=r.code,
                item=item.code,
                lot=lot,
                quantity=take,
                step=step_ref(wo, step),
                occurred_at=at,
            ),
        )
        out.append(res.event_id)
        need -= take
    return out


def _by_product(
    session: Session,
    actor: Actor,
    key: str,
    ref: str,
    m: StepMaterial,
    good: Decimal,
    location: str,
    at: dt.datetime,
) -> int:
    item = session.get(Item, m.item_id)
    assert item is not None
    places = md.unit_decimals(session, item)
    qty = (m.quantity_per * good).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
    if qty <= 0:
        return 0
    res = ledger.produce(
        session,
        actor,
        f"{key}:byproduct:{m.id}",
        ProduceCommand(
            step=ref,
            item=item.code,
            quantity=qty,
            unit_cost=m.std_unit_cost,
            location=location,
            occurred_at=at,
        ),
    )
    return res.event_id


def machine_state(session: Session, actor: Actor, key: str, cmd: MachineStateCommand) -> ScanResult:
    """A workstation changes state (setup/run/idle/down/cleanup); the MQTT ingest calls this too."""
    return run_event(session, actor, key, "machine", cmd, _machine)


def _machine(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: MachineStateCommand
) -> ScanResult:
    ws = workstation_by_code(session, cmd.workstation)
    if cmd.state is MachineState.down and not cmd.reason:
        raise InvalidInput(
            "a machine that is down needs a reason", field="reason", expected="why it is down"
        )
    at = event.occurred_at
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
    session.add(
        MachineRecord(
            workstation_id=ws.id,
            state=cmd.state,
            reason=cmd.reason,
            started_at=at,
            event_id=event.id,
        )
    )
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
