"""The cut plan of a job step: which reel to cut each piece it still needs from.

For every input of the step that the route cuts to a length, the pieces still needed are the
released quantity less what the step's place already holds, in whole pieces; the reels are
every reel, coil and offcut holding the item as available stock. `ledger.cutplan.propose`
chooses the reel of each piece so that the cuts leave the least remnant.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import NotFound
from isom.ledger import cutplan, cutting
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.masterdata.models import Item, Route, RouteStep, StepInput, Unit
from isom.production import services
from isom.production.models import MaterialRole, StepMaterial


class PieceCut(BaseModel):
    """One piece to cut and the reel proposed for it (none when no reel can give it)."""

    length: Decimal
    reel: str | None


class ReelAfter(BaseModel):
    """A reel the plan cuts from: what it holds now, what it keeps, and if that is a remnant."""

    reel: str
    length: Decimal
    left: Decimal
    remnant: bool


class CutProposal(BaseModel):
    """The plan for one input item of the step."""

    item: str
    unit: str
    cut_length: Decimal
    pieces_needed: int
    unplaced: int
    waste: Decimal
    method: str
    pieces: list[PieceCut]
    reels: list[ReelAfter]


class CutPlanView(BaseModel):
    """What the terminal shows for a cut step: a proposal per input cut to length."""

    work_order: str
    step: int
    proposals: list[CutProposal]


def _cut_lengths(session: Session, route_code: str | None, sequence: int) -> dict[int, Decimal]:
    if route_code is None:
        return {}
    rows = session.execute(
        select(StepInput.item_id, StepInput.cut_length)
        .join(RouteStep, RouteStep.id == StepInput.step_id)
        .join(Route, Route.id == RouteStep.route_id)
        .where(
            Route.code == route_code,
            RouteStep.sequence == sequence,
            StepInput.cut_length.is_not(None),
        )
    ).all()
    return {item_id: length for item_id, length in rows if length is not None}


def cut_plan(session: Session, number: str, sequence: int) -> CutPlanView:
    """The reel to cut each piece the step still needs from, for each input cut to length."""
    wo = services.get_work_order(session, number)
    step = next((s for s in services.steps_of(session, wo) if s.sequence == sequence), None)
    if step is None:
        raise NotFound(
            f"work order {number} has no step {sequence}",
            field="step",
            expected="a step sequence of the job's route",
        )
    cuts = _cut_lengths(session, wo.route_code, sequence)
    held = ledger_queries.place_quantities(session, ledger.step_place(f"{number}/{sequence}"))
    inputs = session.scalars(
        select(StepMaterial).where(
            StepMaterial.step_id == step.id,
            StepMaterial.role == MaterialRole.input,
            StepMaterial.item_id.in_(cuts),
        )
    ).all()
    proposals = []
    for material in inputs:
        item = session.get(Item, material.item_id)
        assert item is not None
        length = cuts[item.id]
        remaining = max(material.quantity - held.get(item.id, Decimal(0)), Decimal(0))
        needed = int((remaining / length).to_integral_value(ROUND_CEILING))
        reels = [cutplan.Reel(c, q) for c, q in cutting.reels(session, item.id)]
        plan = cutplan.propose([length] * needed, reels, item.min_usable)
        unit = session.get(Unit, item.base_unit_id)
        used = {r for _, r in plan.pieces if r is not None}
        proposals.append(
            CutProposal(
                item=item.code,
                unit=unit.code if unit else "",
                cut_length=length,
                pieces_needed=needed,
                unplaced=plan.unplaced,
                waste=plan.waste,
                method=plan.method,
                pieces=[PieceCut(length=q, reel=r) for q, r in plan.pieces],
                reels=[
                    ReelAfter(
                        reel=r.code,
                        length=r.length,
                        left=plan.left[r.code],
                        remnant=cutting.is_remnant(item, plan.left[r.code]),
                    )
                    for r in reels
                    if r.code in used
                ],
            )
        )
    return CutPlanView(work_order=number, step=sequence, proposals=proposals)
