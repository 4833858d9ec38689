"""The stop scan: backflush floor stock, produce good output, scrap, rework, clock out.

Rework goes back to the step that made it: the reworked units are not produced out; they stay
in the step's place (its work in process) with their share of the step's cost, and the step
cannot be done while any are pending. A later stop of the step counts its good, scrapped
and re-reworked units against the pending rework first.

Serial-tracked output needs one serial per unit at stop (`serials` for good units,
`scrap_serials` for scrapped ones); each serial is its own produce and its own container line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput, WrongState
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ProduceCommand, ScrapCommand
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Tracking, Workstation
from isom.production.conversion import step_conversion_cost
from isom.production.coverage import cover, processed_after
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
from isom.production.schemas import ScanResult, StopScan
from isom.production.states import transition_step, transition_work_order
from isom.production.steps import clock_out, main_output, next_step, open_labour, scanned
from isom.production.workorders import (
    materials_of,
    result_of,
    step_ref,
    workstation_by_id,
)

Actor = ledger.Actor
SIX = Decimal("0.000001")


@event_command("stop")
def stop_step(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: StopScan
) -> ScanResult:
    """Stop a step: backflush floor stock, produce good output (WIP or stock), scrap, clock out."""
    wo, step, person = scanned(session, cmd)
    if step.status not in (StepStatus.running, StepStatus.paused):
        raise WrongState(
            f"{wo.number}/{step.sequence} is {step.status.value}",
            field="step",
            expected="a running or paused step",
        )
    if cmd.scrap_quantity > 0 and not cmd.scrap_reason:
        raise InvalidInput(
            "scrap needs a reason", field="scrap_reason", expected="why it was scrapped"
        )
    out_item, ws, location = _output_and_place(session, wo, step, cmd)
    good_serials, scrap_serials = _check_serials(session, out_item, cmd)
    final = next_step(session, wo, step) is None
    ref = step_ref(wo, step)
    at = event.occurred_at
    made = cmd.good_quantity + cmd.scrap_quantity
    processed = processed_after(step, made, cmd.rework_quantity)
    ledger_events = cover(session, actor, key, wo, step, ws, processed, at)
    clock_out(session, open_labour(session, step), event)
    session.flush()
    unit_cost = _unit_cost(session, step, ref, made + cmd.rework_quantity, at)
    lot_code = cmd.lot or (str(wo.number) if out_item.tracking is Tracking.lot else None)
    out = _Output(session, actor, key, ref, out_item, unit_cost, location, at)
    produced_into = None
    if cmd.good_quantity > 0:
        made_events, produced_into = _produce_good(
            out, cmd, [*good_serials] or [lot_code], serials=bool(good_serials), wip=not final
        )
        ledger_events += made_events
        for m in materials_of(session, step):
            if m.role in (MaterialRole.byproduct, MaterialRole.intermediate, MaterialRole.scrap):
                ledger_events.append(
                    _by_product(session, actor, key, ref, m, cmd.good_quantity, location, at)
                )
    if cmd.scrap_quantity > 0:
        ledger_events += _scrap_units(out, cmd, [*scrap_serials] or [lot_code])
    _count_and_advance(session, wo, step, cmd, final=final, actor=actor, at=at)
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
        rework=str(cmd.rework_quantity),
        rework_pending=str(step.rework_pending),
        serials=good_serials,
    )


@dataclass(frozen=True)
class _Output:
    """What a stop puts out of its step: which item, at what unit cost, where and when."""

    session: Session
    actor: Actor
    key: str
    ref: str
    item: Item
    unit_cost: Decimal
    location: str
    at: dt.datetime

    def produce(
        self,
        key: str,
        lot: str | None,
        quantity: Decimal,
        *,
        wip: bool,
        container: str | None,
        new_container: str | None = None,
    ) -> tuple[int, str]:
        """Produce into `container` (else a new one at the location): the ledger event and
        the container."""
        res = ledger.produce(
            self.session,
            self.actor,
            f"{self.key}:{key}",
            ProduceCommand(
                step=self.ref,
                item=self.item.code,
                lot=LotIn(code=lot) if lot else None,
                quantity=quantity,
                unit_cost=self.unit_cost,
                wip=wip,
                container=container,
                new_container=new_container,
                location=None if container else self.location,
                occurred_at=self.at,
            ),
        )
        return res.event_id, str(res.detail["container"])


def _produce_good(
    out: _Output, cmd: StopScan, lots: list[str | None], *, serials: bool, wip: bool
) -> tuple[list[int], str]:
    """Produce the good units (one produce per serial, else one), all into the first container:
    the ledger events and that container."""
    each = Decimal(1) if serials else cmd.good_quantity
    events: list[int] = []
    produced_into: str | None = None
    for n, code in enumerate(lots):
        event_id, produced_into = out.produce(
            "produce" + (f":{n}" if serials else ""),
            code,
            each,
            wip=wip,
            container=produced_into or cmd.container,
            new_container=None if produced_into else cmd.new_container,
        )
        events.append(event_id)
    assert produced_into is not None
    return events, produced_into


def _output_and_place(
    session: Session, wo: WorkOrder, step: WorkOrderStep, cmd: StopScan
) -> tuple[Item, Workstation, str]:
    """The step's main output, its workstation, and where the output is put (the scan's
    location, else the workstation's)."""
    main = main_output(session, step)
    if main is None:
        raise Conflict(
            f"{wo.number}/{step.sequence} has no main output",
            field="step",
            expected="a step with a main output",
        )
    ws = workstation_by_id(session, step.workstation_id)
    assert ws is not None
    loc = session.get(Location, ws.location_id or 0)
    location = cmd.location or (loc.code if loc else None)
    if location is None:
        raise InvalidInput(
            f"workstation {ws.code} has no location",
            field="location",
            expected="where the output is put",
        )
    out_item = session.get(Item, main.item_id)
    assert out_item is not None
    return out_item, ws, location


def _unit_cost(
    session: Session, step: WorkOrderStep, ref: str, units: Decimal, at: dt.datetime
) -> Decimal:
    """What each unit stopped carries: the value in the step's place plus its conversion cost
    so far, over every unit stopped (units sent to rework keep their share in the place)."""
    if units <= 0:
        return Decimal(0)
    value = ledger_queries.place_value(session, ledger.step_place(ref))
    conversion = step_conversion_cost(session, step, at)
    return max(Decimal(0), ((value + conversion) / units).quantize(SIX, ROUND_HALF_EVEN))


def _count_and_advance(
    session: Session,
    wo: WorkOrder,
    step: WorkOrderStep,
    cmd: StopScan,
    *,
    final: bool,
    actor: Actor,
    at: dt.datetime,
) -> None:
    """Add the stop's quantities to the step, and move the step, the next one and the job on."""
    made = cmd.good_quantity + cmd.scrap_quantity
    step.quantity_good += cmd.good_quantity
    step.quantity_scrap += cmd.scrap_quantity
    step.quantity_rework += cmd.rework_quantity
    # Every unit stopped (good, scrap or sent again) answers for pending rework first.
    stopped = made + cmd.rework_quantity
    step.rework_pending += cmd.rework_quantity - min(step.rework_pending, stopped)
    nb = str(wo.number)
    done = cmd.complete and step.rework_pending == 0
    if done:
        transition_step(step, StepStatus.done, actor=actor, at=at, number=nb)
    elif step.status is StepStatus.running:
        transition_step(step, StepStatus.paused, actor=actor, at=at, number=nb)
    nxt = next_step(session, wo, step)
    if nxt is not None and nxt.status is StepStatus.waiting and (cmd.good_quantity > 0 or done):
        transition_step(nxt, StepStatus.ready, actor=actor, at=at, number=nb)
    if final and done:
        transition_work_order(wo, WorkOrderStatus.complete, actor=actor, at=at)


def _check_serials(session: Session, item: Item, cmd: StopScan) -> tuple[list[str], list[str]]:
    """The serials of a serial-tracked output, one per unit, new and distinct; else none given."""
    if item.tracking is not Tracking.serial:
        if cmd.serials or cmd.scrap_serials:
            raise InvalidInput(
                f"{item.code} is not serial-tracked",
                field="serials",
                expected="no serials",
            )
        return [], []
    if cmd.lot:
        raise InvalidInput(
            f"{item.code} is serial-tracked: give a serial per unit, not a lot",
            field="lot",
            expected="no lot; serials instead",
        )
    for field, quantity, serials in (
        ("serials", cmd.good_quantity, cmd.serials),
        ("scrap_serials", cmd.scrap_quantity, cmd.scrap_serials),
    ):
        if quantity != quantity.to_integral_value():
            raise InvalidInput(
                f"{item.code} is serial-tracked: {quantity} is not a whole number of units",
                field="good_quantity" if field == "serials" else "scrap_quantity",
                expected="a whole number",
            )
        if len(serials) != quantity:
            raise InvalidInput(
                f"{item.code} is serial-tracked: {quantity} units need {quantity} serials, "
                f"{len(serials)} were given",
                field=field,
                expected=f"{int(quantity)} serials, one per unit",
            )
    given = [*cmd.serials, *cmd.scrap_serials]
    seen: set[str] = set()
    for n, code in enumerate(given):
        if code in seen:
            field = "serials" if n < len(cmd.serials) else "scrap_serials"
            raise InvalidInput(
                f"serial {code} is given twice", field=field, expected="distinct serials"
            )
        seen.add(code)
    if given:
        used = ledger_queries.lot_codes_in_use(session, item.id, given)
        if used:
            raise Conflict(
                f"serial {', '.join(used)} of {item.code} is already used",
                field="serials" if used[0] in cmd.serials else "scrap_serials",
                expected="serials not given to any unit before",
            )
    return list(cmd.serials), list(cmd.scrap_serials)


def _scrap_units(out: _Output, cmd: StopScan, lots: list[str | None]) -> list[int]:
    """Produce the scrapped units into a scrap box at the step's cost, then scrap them."""
    serial = out.item.tracking is Tracking.serial
    each = Decimal(1) if serial else cmd.scrap_quantity
    box: str | None = None
    events: list[int] = []
    for n, code in enumerate(lots):
        suffix = f":{n}" if serial else ""
        produced, box = out.produce(f"scrap-out{suffix}", code, each, wip=True, container=box)
        sc = ledger.scrap(
            out.session,
            out.actor,
            f"{out.key}:scrap{suffix}",
            ScrapCommand(
                container=box,
                item=out.item.code,
                lot=code,
                wip_step=out.ref,
                quantity=each,
                reason=cmd.scrap_reason,
                occurred_at=out.at,
            ),
        )
        events += [produced, sc.event_id]
    return events


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
