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
from isom.ledger import queries as ledger_queries
from isom.masterdata import services as md
from isom.masterdata.models import Item, Person, Route, RouteStep, RunBasis, Workstation
from isom.production import conversion, timekeeping
from isom.production import rows as production_rows
from isom.production.enums import MaterialRole
from isom.production.rows import JobRow, MaterialRow, StepRow
from isom.types import utcnow

SIXTY = Decimal(60)


def overhead_rate(session: Session, workstation_id: int) -> Decimal:
    """The overhead per hour on a workstation; 0 unless one is set."""
    rate = session.scalar(
        select(OverheadRate.hourly_rate).where(OverheadRate.workstation_id == workstation_id)
    )
    return rate if rate is not None else Decimal(0)


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


def _job(session: Session, number: str) -> tuple[JobRow, list[StepRow]]:
    wo = production_rows.job(session, number)
    if wo is None or not sites.allows(wo.site_id):
        raise NotFound(
            f"no work order {number!r}", field="work_order", expected="an existing work order"
        )
    return wo, production_rows.steps(session, [wo.id])


@dataclass
class _Breakdown:
    """A job's cost figures before rounding, so that job and batch reports round only once."""

    wo: JobRow
    steps: list[StepRow]
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
    if not b.steps or b.good <= 0:
        return []
    ref = f"{b.wo.number}/{b.steps[-1].sequence}"
    batches: dict[int | None, tuple[Decimal, Decimal]] = {}
    for line in ledger_queries.produced_into_stock(session, ref, b.wo.item_id):
        q0, v0 = batches.get(line.lot_id, (Decimal(0), Decimal(0)))
        batches[line.lot_id] = (q0 + line.quantity, v0 + line.quantity * line.unit_cost)
    lots = {i: lot.code for i, lot in ledger_queries.lots_by_id(session, batches).items()}
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


def _remnant_figures(remnants: list[ledger_queries.CostedLine], item_id: int) -> dict[str, str]:
    mine = [(r.quantity, r.unit_cost) for r in remnants if r.item_id == item_id]
    if not mine:
        return {}
    return {
        "remnant_quantity": str(sum((q for q, _ in mine), Decimal(0))),
        "remnant_value": str(cents(sum((q * c for q, c in mine), Decimal(0)))),
    }


def _breakdown(session: Session, number: str, until: dt.datetime) -> _Breakdown:
    wo, steps = _job(session, number)
    materials = production_rows.materials(session, [s.id for s in steps])
    made_here = {m.item_id for m in materials if m.role is not MaterialRole.input}
    refs = [f"{wo.number}/{s.sequence}" for s in steps]
    actual_qty: dict[int, Decimal] = defaultdict(Decimal)
    actual_val: dict[int, Decimal] = defaultdict(Decimal)
    for line in ledger_queries.place_lines(session, [f"step:{r}" for r in refs]):
        if line.item_id not in made_here:
            actual_qty[line.item_id] += line.quantity
            actual_val[line.item_id] += line.quantity * line.unit_cost
    remnants = ledger_queries.scrapped_remnants(session, refs)
    for r in remnants:
        actual_qty[r.item_id] += r.quantity
        actual_val[r.item_id] += r.quantity * r.unit_cost
    labour = timekeeping.labour_minutes(session, wo.id, until)
    machine = timekeeping.machine_minutes(session, wo.id, until)
    lr = conversion.hourly_rates(session, Person, {p for _, p in labour})
    mr = conversion.hourly_rates(session, Workstation, {w for _, w in machine})
    actual = {
        "material": sum(actual_val.values(), Decimal(0)),
        "labour": sum((m * lr[p] / SIXTY for (_, p), m in labour.items()), Decimal(0)),
        "machine": sum((m * mr[w] / SIXTY for (_, w), m in machine.items()), Decimal(0)),
        "overhead": _actual_overhead(session, steps, until),
    }
    good = steps[-1].quantity_good if steps else Decimal(0)
    std = _standard(steps, materials, made_here, good)
    price, usage = _material_variances(session, actual_qty, actual_val, std)
    actual_hours = sum(labour.values(), Decimal(0)) / SIXTY
    std_rate = (std.labour / std.labour_hours) if std.labour_hours else Decimal(0)
    standard = {
        "material": std.material,
        "labour": std.labour,
        "machine": std.machine,
        "overhead": std.overhead,
    }
    item_ids = set(actual_qty) | set(std.quantity)
    item_codes = dict(
        session.execute(select(Item.id, Item.code).where(Item.id.in_(item_ids))).all()
    )
    return _Breakdown(
        wo=wo,
        steps=steps,
        good=good,
        actual=actual,
        standard=standard,
        variances={
            "material_price": price,
            "material_usage": usage - std.scrap["material"],
            "labour_efficiency": (actual_hours - std.labour_hours) * std_rate - std.scrap["labour"],
            "labour_rate": actual["labour"] - actual_hours * std_rate,
            "machine": actual["machine"] - std.machine - std.scrap["machine"],
            "scrap": sum(std.scrap.values(), Decimal(0)),
            "overhead": actual["overhead"] - std.overhead - std.scrap["overhead"],
            "total": sum(actual.values(), Decimal(0)) - sum(standard.values(), Decimal(0)),
        },
        materials=[
            {
                "item": item_codes.get(i, str(i)),
                "actual_quantity": str(actual_qty.get(i, Decimal(0))),
                "standard_quantity": str(std.quantity.get(i, Decimal(0))),
                "actual_value": str(cents(actual_val.get(i, Decimal(0)))),
                **_remnant_figures(remnants, i),
            }
            for i in sorted(item_ids)
        ],
        labour_minutes=sum(labour.values(), Decimal(0)),
        machine_minutes=sum(machine.values(), Decimal(0)),
    )


def _actual_overhead(session: Session, steps: list[StepRow], until: dt.datetime) -> Decimal:
    """Overhead charged for the minutes each step had someone on its workstation."""
    overhead = Decimal(0)
    for s in steps:
        if s.workstation_id is not None:
            overhead += (
                conversion.step_minutes_on_station(session, s.id, until)
                * overhead_rate(session, s.workstation_id)
                / SIXTY
            )
    return overhead


@dataclass
class _Standard:
    """A job's standard cost at its good output, and the standard value of what it scrapped."""

    unit_material: dict[int, Decimal]
    quantity: dict[int, Decimal]
    material: Decimal
    labour: Decimal
    machine: Decimal
    overhead: Decimal
    labour_hours: Decimal
    scrap: dict[str, Decimal]


def _standard(
    steps: list[StepRow], materials: list[MaterialRow], made_here: set[int], good: Decimal
) -> _Standard:
    zero = Decimal(0)
    scrap = dict.fromkeys(ELEMENTS, zero)
    std = _Standard({}, defaultdict(Decimal), zero, zero, zero, zero, zero, scrap)
    per_unit = dict.fromkeys(ELEMENTS, Decimal(0))
    for s in steps:
        ins = [
            m
            for m in materials
            if m.step_id == s.id and m.role is MaterialRole.input and m.item_id not in made_here
        ]
        step_mat_per_unit = sum((m.quantity_per * m.std_unit_cost for m in ins), Decimal(0))
        for m in ins:
            std.unit_material[m.item_id] = m.std_unit_cost
            std.quantity[m.item_id] += m.quantity_per * good
        minutes = s.setup_minutes + s.run_minutes_per_unit * good + s.cleanup_minutes
        std.material += step_mat_per_unit * good
        std.labour += minutes * s.std_labour_rate / SIXTY
        std.machine += minutes * s.std_machine_rate / SIXTY
        std.overhead += minutes * s.std_overhead_rate / SIXTY
        std.labour_hours += minutes / SIXTY
        per_unit["material"] += step_mat_per_unit
        per_unit["labour"] += s.run_minutes_per_unit * s.std_labour_rate / SIXTY
        per_unit["machine"] += s.run_minutes_per_unit * s.std_machine_rate / SIXTY
        per_unit["overhead"] += s.run_minutes_per_unit * s.std_overhead_rate / SIXTY
        for k in ELEMENTS:
            std.scrap[k] += s.quantity_scrap * per_unit[k]
    return std


def _material_variances(
    session: Session,
    actual_qty: dict[int, Decimal],
    actual_val: dict[int, Decimal],
    std: _Standard,
) -> tuple[Decimal, Decimal]:
    """Price and usage variances of the material (usage before the scrapped units' share)."""
    price = Decimal(0)
    usage = Decimal(0)
    for item_id, aq in actual_qty.items():
        sp = std.unit_material.get(item_id)
        if sp is None:
            item = session.get(Item, item_id)
            sp = item.standard_cost if item else Decimal(0)
        price += actual_val[item_id] - aq * sp
        usage += (aq - std.quantity.get(item_id, Decimal(0))) * sp
    for item_id, sq in std.quantity.items():
        if item_id not in actual_qty:
            usage -= sq * std.unit_material[item_id]
    return price, usage


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
    overheads = conversion.overhead_rates(session)
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
