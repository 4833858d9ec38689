"""Material in, material out: what a step stops must be covered by what it took in.

A step has processed `good + scrap + rework pending` units. Each BOM input must have gone into
the step's place at `quantity_per` per unit (rounded up to the unit's decimals), net of what was
returned; a later step must also have taken in one unit of the previous step's main output per
unit it processed (unless that output is a BOM line of its own). A floor-stock input is not
scanned: its shortfall is backflushed from the workstation's location through the ledger, at
the cost of the lots taken. Any other shortfall refuses the stop with what is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy.orm import Session

from isom.errors import Conflict, InsufficientStock
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.posting import plain
from isom.ledger.schemas import ConsumeCommand
from isom.masterdata import services as md
from isom.masterdata.models import Item, Workstation
from isom.production.models import MaterialRole, StepMaterial, WorkOrder, WorkOrderStep
from isom.production.steps import main_output, previous_step
from isom.production.workorders import materials_of, step_ref

Actor = ledger.Actor


class InputsMissing(Conflict):
    """A stop (or a return) would leave a step's output not covered by what it consumed."""

    code = "step_inputs_missing"
    title = "The step has not taken in what its output needs"


@dataclass(frozen=True)
class Need:
    """One input of a step: how much `processed` units need and how much the step took in."""

    material: StepMaterial | None  # None: the previous step's main output, 1 per unit
    item: Item
    need: Decimal
    taken: Decimal
    per_unit: Decimal

    @property
    def short(self) -> Decimal:
        return max(Decimal(0), self.need - self.taken)


def processed_after(step: WorkOrderStep, made: Decimal, rework: Decimal) -> Decimal:
    """Units the step will have processed after a stop of `made` (good + scrap) and `rework`."""
    pending = step.rework_pending + rework - min(step.rework_pending, made + rework)
    return step.quantity_good + step.quantity_scrap + made + pending


def needs(session: Session, wo: WorkOrder, step: WorkOrderStep, processed: Decimal) -> list[Need]:
    """Every input the step's processed units need, with what the step has taken in of each."""
    taken = ledger_queries.place_quantities(session, ledger.step_place(step_ref(wo, step)))
    out: list[Need] = []
    inputs = [m for m in materials_of(session, step) if m.role is MaterialRole.input]
    for m in inputs:
        item = session.get(Item, m.item_id)
        assert item is not None
        quantum = Decimal(1).scaleb(-md.unit_decimals(session, item))
        need = (m.quantity_per * processed).quantize(quantum, ROUND_CEILING)
        out.append(Need(m, item, need, taken.get(item.id, Decimal(0)), m.quantity_per))
    previous = previous_step(session, wo, step)
    made_before = main_output(session, previous) if previous else None
    if made_before is not None and made_before.item_id not in {m.item_id for m in inputs}:
        item = session.get(Item, made_before.item_id)
        assert item is not None
        out.append(Need(None, item, processed, step.quantity_in, Decimal(1)))
    return out


def refuse_uncovered(
    wo: WorkOrder, step: WorkOrderStep, processed: Decimal, missing: list[Need], *, field: str
) -> None:
    """Raise what is missing for `processed` units, and how many units what was taken covers."""
    if not missing:
        return
    covered = min((n.taken / n.per_unit).to_integral_value(ROUND_FLOOR) for n in missing)
    ref = step_ref(wo, step)
    shortages = "; ".join(
        f"{plain(n.short)} {n.item.code} short ({plain(n.taken)} taken in, {plain(n.need)} needed)"
        for n in missing
    )
    raise InputsMissing(
        f"{plain(processed)} units of {ref} (good + scrap + rework pending) need more than "
        f"the step has taken in: {shortages}",
        field=field,
        expected=f"good + scrap covered by what {ref} consumed: consume what is short first "
        f"(what was taken in covers {covered} units)",
        missing=[
            {
                "item": n.item.code,
                "needed": plain(n.need),
                "taken": plain(n.taken),
                "short": plain(n.short),
            }
            for n in missing
        ],
    )


def cover(
    session: Session,
    actor: Actor,
    key: str,
    wo: WorkOrder,
    step: WorkOrderStep,
    ws: Workstation,
    processed: Decimal,
    at: dt.datetime,
) -> list[int]:
    """Backflush floor-stock shortfalls, or refuse the stop when anything else is missing."""
    all_needs = needs(session, wo, step, processed)
    missing = [n for n in all_needs if n.short > 0 and not (n.material and n.material.floor_stock)]
    refuse_uncovered(wo, step, processed, missing, field="good_quantity")
    events: list[int] = []
    for n in all_needs:
        if n.short > 0 and n.material is not None:
            events += _backflush(session, actor, key, wo, step, n.material, n.item, ws, n.short, at)
    return events


def _backflush(
    session: Session,
    actor: Actor,
    key: str,
    wo: WorkOrder,
    step: WorkOrderStep,
    m: StepMaterial,
    item: Item,
    ws: Workstation,
    need: Decimal,
    at: dt.datetime,
) -> list[int]:
    """Consume `need` of floor stock at the workstation's location, oldest content first."""
    rows = ledger_queries.floor_stock(session, ws.location_id, item.id)
    if sum((r.quantity for r in rows), Decimal(0)) < need:
        raise InsufficientStock(
            f"not enough floor stock of {item.code} at {ws.code} to backflush {need}",
            field="floor_stock",
            expected=f"{need} {item.code} at the workstation",
        )
    out: list[int] = []
    for n, r in enumerate(rows):
        if need <= 0:
            break
        take = min(need, r.quantity)
        res = ledger.consume(
            session,
            actor,
            f"{key}:backflush:{m.id}:{n}",
            ConsumeCommand(
                container=r.container,
                item=item.code,
                lot=r.lot,
                quantity=take,
                step=step_ref(wo, step),
                occurred_at=at,
            ),
        )
        out.append(res.event_id)
        need -= take
    return out
