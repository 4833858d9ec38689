"""Actual and standard job cost, and the variance between them.

Actual cost of a job = material (every ledger line into the job's step places of an item no
step of the job makes, quantity x the unit cost it carried) + labour (each person's minutes
on each step x their rate) + machine (chargeable machine minutes x the workstation's rate) +
overhead (the job's minutes on each workstation x its overhead rate, default 0).

Standard cost of a job at its actual good output, from the route snapshot taken at release:
material = snapshot quantity per unit x good x standard unit cost; labour and machine =
(setup + run per unit x good + cleanup) minutes x the standard rates snapshotted at release.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from isom.auth import sites
from isom.costing.models import OverheadRate
from isom.costing.money import CENT, split_cents
from isom.costing.money import cents as cents  # other domains round money with it
from isom.costing.schemas import BatchCost, CostLine, JobCost, StandardCost, Variances
from isom.errors import Conflict, NotFound
from isom.ledger.models import Event, EventKind, EventLine, Lot
from isom.ledger.schemas import AdjustReason
from isom.masterdata import services as md
from isom.masterdata.models import Item, Person, Route, RouteStep, RunBasis, Workstation
from isom.production import timekeeping
from isom.production.models import (
    LabourRecord,
    MaterialRole,
    StepMaterial,
    WorkOrder,
    WorkOrderStep,
)
from isom.types import utcnow

SIXTY = Decimal(60)


def place_value(session: Session, place: str) -> Decimal:
    """The value a ledger place holds now: the sum of quantity x unit cost of its lines."""
    rows = session.execute(
        select(EventLine.quantity, EventLine.unit_cost).where(EventLine.place == place)
    ).all()
    return sum((q * c for q, c in rows), Decimal(0))


def overhead_rate(session: Session, workstation_id: int) -> Decimal:
    """The overhead per hour on a workstation; 0 unless one is set."""
    rate = session.scalar(
        select(OverheadRate.hourly_rate).where(OverheadRate.workstation_id == workstation_id)
    )
    return rate if rate is not None else Decimal(0)


def overhead_rates(session: Session) -> dict[int, Decimal]:
    """The overhead per hour of every workstation that has one set, by workstation id."""
    return dict(
        session.execute(select(OverheadRate.workstation_id, OverheadRate.hourly_rate)).all()
    )


def set_overhead_rate(session: Session, workstation: str, hourly_rate: Decimal) -> OverheadRate:
    """Set the overhead charged per hour a job spends on a workstation."""
    ws = session.scalar(select(Workstation).where(Workstation.code == workstation))
    if ws is None:
        raise NotFound(
            f"no workstation {workstation!r}",
            field="workstation",
            expected="an existing workstation code",
        )
    if hourly_rate < 0:
        raise Conflict("an overhead rate cannot be negative", field="hourly_rate", expected=">= 0")
    row = session.scalar(select(OverheadRate).where(OverheadRate.workstation_id == ws.id))
    if row is None:
        row = OverheadRate(workstation_id=ws.id, hourly_rate=hourly_rate)
        session.add(row)
    else:
        row.hourly_rate = hourly_rate
    session.flush()
    return row


def _rates(
    session: Session, model: type[Person] | type[Workstation], ids: set[int]
) -> dict[int, Decimal]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.hourly_rate).where(model.id.in_(ids))).all())


def step_conversion_cost(session: Session, step: WorkOrderStep, until: dt.datetime) -> Decimal:
    """Labour, machine and overhead cost of one step so far (unrounded), carried by its output."""
    labour = {
        k: v
        for k, v in timekeeping.labour_minutes(session, step.work_order_id, until).items()
        if k[0] == step.id
    }
    machine = {
        k: v
        for k, v in timekeeping.machine_minutes(session, step.work_order_id, until).items()
        if k[0] == step.id
    }
    lr = _rates(session, Person, {p for _, p in labour})
    mr = _rates(session, Workstation, {w for _, w in machine})
    total = sum((m * lr[p] / SIXTY for (_, p), m in labour.items()), Decimal(0))
    total += sum((m * mr[w] / SIXTY for (_, w), m in machine.items()), Decimal(0))
    if step.workstation_id is not None:
        total += (
            _step_minutes_on_station(session, step, until)
            * overhead_rate(session, step.workstation_id)
            / SIXTY
        )
    return total


def _step_minutes_on_station(session: Session, step: WorkOrderStep, until: dt.datetime) -> Decimal:
    """Elapsed minutes the step had at least one person on it (the union of labour spans)."""
    rows = session.execute(
        select(LabourRecord.started_at, LabourRecord.ended_at).where(
            LabourRecord.step_id == step.id
        )
    ).all()
    spans = sorted((a, b or until) for a, b in rows)
    total = Decimal(0)
    cur: tuple[dt.datetime, dt.datetime] | None = None
    for a, b in spans:
        if cur is None or a > cur[1]:
            if cur is not None:
                total += timekeeping.seconds_between(*cur)
            cur = (a, b)
        else:
            cur = (cur[0], max(cur[1], b))
    if cur is not None:
        total += timekeeping.seconds_between(*cur)
    return total / SIXTY


def _job(session: Session, number: str) -> tuple[WorkOrder, list[WorkOrderStep]]:
    wo = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
    if wo is None or not sites.allows(wo.site_id):
        raise NotFound(
            f"no work order {number!r}", field="work_order", expected="an existing work order"
        )
    steps = list(
        session.scalars(
            select(WorkOrderStep)
            .where(WorkOrderStep.work_order_id == wo.id)
            .order_by(WorkOrderStep.sequence)
        )
    )
    return wo, steps


@dataclass
class _Breakdown:
    """A job's cost figures before rounding, so that job and batch reports round only once."""

    wo: WorkOrder
    good: Decimal
    actual: dict[str, Decimal]
    standard: dict[str, Decimal]
    variances: dict[str, Decimal]
    materials: list[dict[str, Any]]
    labour_minutes: Decimal
    machine_minutes: Decimal


ELEMENTS = ("material", "labour", "machine", "overhead")


def _line(parts: dict[str, Decimal], scale: Decimal = Decimal(1)) -> CostLine:
    """Cost elements in cents that add up to the total in cents."""
    total = cents(sum(parts.values(), Decimal(0)) * scale)
    split = split_cents([parts[k] * scale for k in ELEMENTS], total)
    return CostLine(**dict(zip(ELEMENTS, split, strict=True)), total=total)


def _variances(
    parts: dict[str, Decimal], actual: CostLine, standard: CostLine, scale: Decimal = Decimal(1)
) -> Variances:
    """Variances in cents that add up to actual - standard as shown (both in cents)."""
    names = [k for k in parts if k != "total"]
    total = actual.total - standard.total
    split = split_cents([parts[k] * scale for k in names], total)
    return Variances(**dict(zip(names, split, strict=True)), total=total)


def job_cost(session: Session, number: str, *, at: dt.datetime | None = None) -> JobCost:
    """The job's actual cost so far against standard at its good output, with the variance split."""
    b = _breakdown(session, number, at or utcnow())
    actual, standard = _line(b.actual), _line(b.standard)
    return JobCost(
        work_order=str(b.wo.number),
        status=b.wo.status.value,
        good_quantity=b.good,
        actual=actual,
        standard=standard,
        variances=_variances(b.variances, actual, standard),
        materials=b.materials,
        labour_minutes=b.labour_minutes.quantize(CENT),
        machine_minutes=b.machine_minutes.quantize(CENT),
    )


def batch_costs(session: Session, number: str, *, at: dt.datetime | None = None) -> list[BatchCost]:
    """Cost per batch: each lot of the job's finished output, against standard.

    A batch's share of the job is its part of the good finished quantity; its actual, standard
    and variances are the job's times that share (scrap and rework are borne by the good units
    of every batch alike). `carried_value` is what the lot's stock carries in the ledger.
    """
    b = _breakdown(session, number, at or utcnow())
    steps = list(
        session.scalars(
            select(WorkOrderStep)
            .where(WorkOrderStep.work_order_id == b.wo.id)
            .order_by(WorkOrderStep.sequence.desc())
            .limit(1)
        )
    )
    if not steps or b.good <= 0:
        return []
    ref = f"{b.wo.number}/{steps[0].sequence}"
    rows = session.execute(
        select(EventLine.lot_id, EventLine.quantity, EventLine.unit_cost)
        .join(Event, Event.id == EventLine.event_id)
        .where(
            Event.kind == EventKind.produce,
            Event.reference == ref,
            EventLine.item_id == b.wo.item_id,
            EventLine.container_id.is_not(None),
            EventLine.wip_step.is_(None),
        )
        .order_by(EventLine.id)
    ).all()
    batches: dict[int | None, tuple[Decimal, Decimal]] = {}
    for lot_id, q, c in rows:
        q0, v0 = batches.get(lot_id, (Decimal(0), Decimal(0)))
        batches[lot_id] = (q0 + q, v0 + q * c)
    lots = dict(
        session.execute(
            select(Lot.id, Lot.code).where(Lot.id.in_([k for k in batches if k is not None]))
        ).all()
    )
    out = []
    for lot_id, (quantity, value) in batches.items():
        share = quantity / b.good
        actual, standard = _line(b.actual, share), _line(b.standard, share)
        out.append(
            BatchCost(
                work_order=str(b.wo.number),
                lot=lots.get(lot_id) if lot_id is not None else None,
                quantity=quantity,
                share=share.quantize(Decimal("0.000001")),
                carried_value=cents(value),
                actual=actual,
                standard=standard,
                variances=_variances(b.variances, actual, standard, share),
            )
        )
    return out


def _scrapped_remnants(session: Session, steps: list[str]) -> list[tuple[int, Decimal, Decimal]]:
    """Item, length and unit cost of every remnant scrapped after a cut of these steps: the job
    that cut a reel down to a remnant bears it (docs/design/continuous.md)."""
    rows = session.execute(
        select(EventLine.item_id, EventLine.quantity, EventLine.unit_cost)
        .join(Event, Event.id == EventLine.event_id)
        .where(
            Event.kind == EventKind.scrap,
            Event.reason_code == AdjustReason.remnant.value,
            Event.reference.in_(steps),
            EventLine.place == "scrap",
        )
    ).all()
    return [(item_id, q, c) for item_id, q, c in rows]


def _remnant_figures(remnants: list[tuple[int, Decimal, Decimal]], item_id: int) -> dict[str, str]:
    mine = [(q, c) for i, q, c in remnants if i == item_id]
    if not mine:
        return {}
    return {
        "remnant_quantity": str(sum((q for q, _ in mine), Decimal(0))),
        "remnant_value": str(cents(sum((q * c for q, c in mine), Decimal(0)))),
    }


def _breakdown(session: Session, number: str, until: dt.datetime) -> _Breakdown:
    wo, steps = _job(session, number)
    by_id = {s.id: s for s in steps}
    materials = list(session.scalars(select(StepMaterial).where(StepMaterial.step_id.in_(by_id))))
    made_here = {m.item_id for m in materials if m.role is not MaterialRole.input}
    places = {f"step:{wo.number}/{s.sequence}": s for s in steps}
    lines = session.execute(
        select(EventLine.place, EventLine.item_id, EventLine.quantity, EventLine.unit_cost).where(
            EventLine.place.in_(places)
        )
    ).all()
    actual_qty: dict[int, Decimal] = defaultdict(Decimal)
    actual_val: dict[int, Decimal] = defaultdict(Decimal)
    for _place, item_id, q, c in lines:
        if item_id in made_here:
            continue
        actual_qty[item_id] += q
        actual_val[item_id] += q * c
    remnants = _scrapped_remnants(session, [p.removeprefix("step:") for p in places])
    for item_id, q, c in remnants:
        actual_qty[item_id] += q
        actual_val[item_id] += q * c
    labour = timekeeping.labour_minutes(session, wo.id, until)
    machine = timekeeping.machine_minutes(session, wo.id, until)
    lr = _rates(session, Person, {p for _, p in labour})
    mr = _rates(session, Workstation, {w for _, w in machine})
    labour_cost = sum((m * lr[p] / SIXTY for (_, p), m in labour.items()), Decimal(0))
    machine_cost = sum((m * mr[w] / SIXTY for (_, w), m in machine.items()), Decimal(0))
    overhead = Decimal(0)
    for s in steps:
        if s.workstation_id is not None:
            overhead += (
                _step_minutes_on_station(session, s, until)
                * overhead_rate(session, s.workstation_id)
                / SIXTY
            )
    last = steps[-1] if steps else None
    good = last.quantity_good if last else Decimal(0)
    # standard at the actual good output, and the standard value of what was scrapped
    std_unit_mat: dict[int, Decimal] = {}
    std_qty: dict[int, Decimal] = defaultdict(Decimal)
    std_mat = std_lab = std_mach = std_ovh = Decimal(0)
    std_lab_hours = Decimal(0)
    scrap_mat = scrap_lab = scrap_mach = scrap_ovh = Decimal(0)
    per_unit_mat = per_unit_lab = per_unit_mach = per_unit_ovh = Decimal(0)
    for s in steps:
        ins = [
            m
            for m in materials
            if m.step_id == s.id and m.role is MaterialRole.input and m.item_id not in made_here
        ]
        step_mat_per_unit = sum((m.quantity_per * m.std_unit_cost for m in ins), Decimal(0))
        for m in ins:
            std_unit_mat[m.item_id] = m.std_unit_cost
            std_qty[m.item_id] += m.quantity_per * good
        minutes = s.setup_minutes + s.run_minutes_per_unit * good + s.cleanup_minutes
        std_mat += step_mat_per_unit * good
        std_lab += minutes * s.std_labour_rate / SIXTY
        std_mach += minutes * s.std_machine_rate / SIXTY
        std_ovh += minutes * s.std_overhead_rate / SIXTY
        std_lab_hours += minutes / SIXTY
        per_unit_mat += step_mat_per_unit
        per_unit_lab += s.run_minutes_per_unit * s.std_labour_rate / SIXTY
        per_unit_mach += s.run_minutes_per_unit * s.std_machine_rate / SIXTY
        per_unit_ovh += s.run_minutes_per_unit * s.std_overhead_rate / SIXTY
        scrap_mat += s.quantity_scrap * per_unit_mat
        scrap_lab += s.quantity_scrap * per_unit_lab
        scrap_mach += s.quantity_scrap * per_unit_mach
        scrap_ovh += s.quantity_scrap * per_unit_ovh
    price = Decimal(0)
    usage = Decimal(0)
    for item_id, aq in actual_qty.items():
        sp = std_unit_mat.get(item_id)
        if sp is None:
            item = session.get(Item, item_id)
            sp = item.standard_cost if item else Decimal(0)
        price += actual_val[item_id] - aq * sp
        usage += (aq - std_qty.get(item_id, Decimal(0))) * sp
    for item_id, sq in std_qty.items():
        if item_id not in actual_qty:
            usage -= sq * std_unit_mat[item_id]
    usage -= scrap_mat
    actual_hours = sum(labour.values(), Decimal(0)) / SIXTY
    std_rate = (std_lab / std_lab_hours) if std_lab_hours else Decimal(0)
    material_cost = sum(actual_val.values(), Decimal(0))
    actual = {
        "material": material_cost,
        "labour": labour_cost,
        "machine": machine_cost,
        "overhead": overhead,
    }
    standard = {"material": std_mat, "labour": std_lab, "machine": std_mach, "overhead": std_ovh}
    item_codes = dict(
        session.execute(
            select(Item.id, Item.code).where(Item.id.in_(set(actual_qty) | set(std_qty)))
        ).all()
    )
    return _Breakdown(
        wo=wo,
        good=good,
        actual=actual,
        standard=standard,
        variances={
            "material_price": price,
            "material_usage": usage,
            "labour_efficiency": (actual_hours - std_lab_hours) * std_rate - scrap_lab,
            "labour_rate": labour_cost - actual_hours * std_rate,
            "machine": machine_cost - std_mach - scrap_mach,
            "scrap": scrap_mat + scrap_lab + scrap_mach + scrap_ovh,
            "overhead": overhead - std_ovh - scrap_ovh,
            "total": sum(actual.values(), Decimal(0)) - sum(standard.values(), Decimal(0)),
        },
        materials=[
            {
                "item": item_codes.get(i, str(i)),
                "actual_quantity": str(actual_qty.get(i, Decimal(0))),
                "standard_quantity": str(std_qty.get(i, Decimal(0))),
                "actual_value": str(cents(actual_val.get(i, Decimal(0)))),
                **_remnant_figures(remnants, i),
            }
            for i in sorted(set(actual_qty) | set(std_qty))
        ],
        labour_minutes=sum(labour.values(), Decimal(0)),
        machine_minutes=sum(machine.values(), Decimal(0)),
    )


def standard_cost(session: Session, item_code: str, *, depth: int = 0) -> StandardCost:
    """Standard cost per unit of an item, rolled up through its route and its made inputs.

    Labour, machine and overhead per unit = the route's standard minutes per unit x the mean
    rate of the people with the skill, of the workstations of the kind, and of their overhead
    rates (a workstation without an overhead rate counts as 0).
    """
    item = md.get_item(session, item_code)
    route = session.scalar(
        select(Route)
        .options(selectinload(Route.steps).selectinload(RouteStep.inputs))
        .where(Route.item_id == item.id, Route.active)
        .order_by(Route.id.desc())
        .limit(1)
    )
    if route is None or depth > 10:
        return StandardCost(
            item=item.code,
            material=item.standard_cost,
            labour=Decimal(0),
            machine=Decimal(0),
            overhead=Decimal(0),
            total=item.standard_cost,
            rolled_up=False,
        )
    people = session.scalars(select(Person).where(Person.active)).all()
    stations = session.scalars(select(Workstation).where(Workstation.active)).all()
    overheads = overhead_rates(session)
    mat = lab = mach = ovh = Decimal(0)
    batch = route.batch_size
    for rs in route.steps:
        for si in rs.inputs:
            child = session.get(Item, si.item_id)
            assert child is not None
            sub = standard_cost(session, child.code, depth=depth + 1)
            mat += si.quantity_per * sub.material
            lab += si.quantity_per * sub.labour
            mach += si.quantity_per * sub.machine
            ovh += si.quantity_per * sub.overhead
        run = rs.run_minutes * batch if rs.run_basis is RunBasis.unit else rs.run_minutes
        minutes_per_unit = (rs.setup_minutes + run + rs.cleanup_minutes) / batch
        prates = [p.hourly_rate for p in people if not rs.skill or rs.skill in p.skills]
        kind = [w for w in stations if not rs.workstation_kind or w.kind == rs.workstation_kind]
        if prates:
            lab += minutes_per_unit * sum(prates, Decimal(0)) / len(prates) / SIXTY
        if kind:
            rates = sum((w.hourly_rate for w in kind), Decimal(0))
            overhead = sum((overheads.get(w.id, Decimal(0)) for w in kind), Decimal(0))
            mach += minutes_per_unit * rates / len(kind) / SIXTY
            ovh += minutes_per_unit * overhead / len(kind) / SIXTY
    q = Decimal("0.000001")
    return StandardCost(
        item=item.code,
        material=mat.quantize(q),
        labour=lab.quantize(q),
        machine=mach.quantize(q),
        overhead=ovh.quantize(q),
        total=(mat + lab + mach + ovh).quantize(q),
        rolled_up=True,
    )
