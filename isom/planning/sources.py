"""Supply, demand and stock as planning sees them, read in bulk from orders, jobs and the ledger.

Every read of another domain's data that planning needs is here, so the rest of planning works
on plain rows. Each function takes an optional set of item ids: `None` reads every item (the
full run), a set reads only those (the incremental run after events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.ledger import services as ledger
from isom.ledger.models import Balance, Content, ContentStatus, EventLine
from isom.masterdata.models import (
    Calendar,
    Item,
    Person,
    Route,
    RouteStep,
    RunBasis,
    StepInput,
    SupplierItem,
    Workstation,
)
from isom.orders import queries as orders_queries
from isom.orders.models import PRIORITY_RANK, Priority
from isom.planning.models import PriceBreak
from isom.production.models import (
    MaterialRole,
    StepMaterial,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)

OPEN_JOBS = (WorkOrderStatus.planned, WorkOrderStatus.released, WorkOrderStatus.in_progress)
#: Planned consumption of a job's inputs: the day before it is due, when its children are due.
CONSUMPTION_LEAD = dt.timedelta(days=1)
SIX = Decimal("0.000001")


def exact(value: Decimal) -> Decimal:
    """A quantity rounded up to the millionth the store keeps, without trailing zeros."""
    q = value.quantize(SIX, ROUND_CEILING)
    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()


@dataclass(slots=True)
class Supply:
    """Material expected to arrive: on hand now, an open purchase line, or a job's output."""

    item_id: int
    date: dt.date
    quantity: Decimal
    kind: str  # on_hand | purchase | production | proposal
    ref: str


@dataclass(slots=True)
class Demand:
    """Material expected to leave: a customer line or a job step's consumption."""

    item_id: int
    date: dt.date
    quantity: Decimal
    kind: str  # customer | step | planned
    ref: str
    rank: int = PRIORITY_RANK[Priority.normal]
    reserved: Decimal = Decimal(0)


def on_hand(session: Session, items: set[int] | None = None) -> dict[int, Decimal]:
    """Available (not held, not WIP) quantity per item, over every location.

    For material cut into pieces (a step input with a cut length) it is the usable length:
    the whole pieces each reel yields times the cut length, so that reels of 100 m and 35 m
    count as 4 pieces of 30 m (120 m), not 4.5."""
    query = (
        select(Balance.item_id, func.sum(Balance.quantity))
        .where(Balance.status == ContentStatus.available)
        .group_by(Balance.item_id)
    )
    if items is not None:
        query = query.where(Balance.item_id.in_(items))
    rows = session.execute(query).all()
    stock = {item_id: Decimal(total) for item_id, total in rows}
    cuts = cut_lengths(session, set(stock))
    if cuts:
        stock.update(usable_on_hand(session, cuts))
    return stock


def cut_lengths(session: Session, items: set[int] | None = None) -> dict[int, Decimal]:
    """The piece length each item is cut to by active routes; the longest where several are
    (planning then never counts on a piece a reel cannot give)."""
    if items is not None and not items:
        return {}
    query = (
        select(StepInput.item_id, func.max(StepInput.cut_length))
        .join(RouteStep, RouteStep.id == StepInput.step_id)
        .join(Route, Route.id == RouteStep.route_id)
        .where(Route.active, StepInput.cut_length.is_not(None))
        .group_by(StepInput.item_id)
    )
    if items is not None:
        query = query.where(StepInput.item_id.in_(items))
    return {item_id: Decimal(str(length)) for item_id, length in session.execute(query)}


def usable_on_hand(session: Session, cuts: dict[int, Decimal]) -> dict[int, Decimal]:
    """Per item, the whole pieces of its cut length on every reel (each content line one
    length of material) times that length."""
    rows = session.execute(
        select(Content.item_id, Content.quantity).where(
            Content.item_id.in_(cuts), Content.status == ContentStatus.available
        )
    )
    usable = dict.fromkeys(cuts, Decimal(0))
    for item_id, quantity in rows:
        usable[item_id] += (Decimal(quantity) // cuts[item_id]) * cuts[item_id]
    return usable


def pieces(quantity: Decimal, cut_length: Decimal) -> int:
    """How many pieces of `cut_length` a quantity stands for, a part piece counting whole."""
    return int((quantity / cut_length).to_integral_value(ROUND_CEILING))


def customer_demand(session: Session, items: set[int] | None = None) -> list[Demand]:
    """Open quantity of every open customer line, at its due date, ranked by order priority."""
    return [
        Demand(
            d.item_id,
            d.due_date,
            d.open_quantity,
            "customer",
            d.reference,
            PRIORITY_RANK[d.priority],
            min(d.reserved_quantity, d.open_quantity),
        )
        for d in orders_queries.open_customer_demand(session, items)
    ]


def purchase_supply(session: Session, items: set[int] | None = None) -> list[Supply]:
    """Open quantity of every open purchase line (proposed ones too), at its due date."""
    return [
        Supply(s.item_id, s.due_date, s.open_quantity, "purchase", s.reference)
        for s in orders_queries.open_purchase_supply(session, items)
    ]


def production_supply(session: Session, items: set[int] | None = None) -> list[Supply]:
    """What open jobs will still put into stock: quantity less their last step's good output."""
    query = select(
        WorkOrder.id, WorkOrder.item_id, WorkOrder.due_date, WorkOrder.quantity, WorkOrder.number
    ).where(WorkOrder.status.in_(OPEN_JOBS))
    jobs = session.execute(
        query if items is None else query.where(WorkOrder.item_id.in_(items))
    ).all()
    if not jobs:
        return []
    steps = select(WorkOrderStep.work_order_id, WorkOrderStep.sequence, WorkOrderStep.quantity_good)
    if items is not None:
        steps = steps.where(WorkOrderStep.work_order_id.in_([j[0] for j in jobs]))
    last: dict[int, tuple[int, Decimal]] = {}
    for wo_id, seq, good in session.execute(steps):
        if wo_id not in last or seq > last[wo_id][0]:
            last[wo_id] = (seq, good)
    out = []
    for wo_id, item_id, due, qty, number in jobs:
        remaining = qty - last.get(wo_id, (0, Decimal(0)))[1]
        if remaining > 0:
            out.append(Supply(item_id, due, remaining, "production", str(number)))
    return out


def step_demand(session: Session, items: set[int] | None = None) -> list[Demand]:
    """What open jobs' steps will still consume: released BOM lines less what was consumed,
    and for planned jobs (no snapshot yet) their route's inputs times the job's quantity.

    Queries start from the jobs' status (indexed) so that a few items cost a few rows."""
    released = (
        select(
            StepMaterial.item_id,
            StepMaterial.quantity,
            WorkOrderStep.sequence,
            WorkOrder.number,
            WorkOrder.due_date,
        )
        .select_from(WorkOrder)
        .join(WorkOrderStep, WorkOrderStep.work_order_id == WorkOrder.id)
        .join(StepMaterial, StepMaterial.step_id == WorkOrderStep.id)
        .where(
            WorkOrder.status.in_((WorkOrderStatus.released, WorkOrderStatus.in_progress)),
            StepMaterial.role == MaterialRole.input,
        )
    )
    rows = session.execute(
        released if items is None else released.where(StepMaterial.item_id.in_(items))
    ).all()
    places = {ledger.step_place(f"{number}/{seq}") for _, _, seq, number, _ in rows}
    taken: dict[tuple[str | None, int], Decimal] = {}
    if places:
        consumed = (
            select(EventLine.place, EventLine.item_id, func.sum(EventLine.quantity))
            .where(EventLine.quantity > 0)
            .group_by(EventLine.place, EventLine.item_id)
        )
        consumed = (
            consumed.where(EventLine.place.like("step:%"))
            if items is None
            else consumed.where(EventLine.place.in_(places), EventLine.item_id.in_(items))
        )
        taken = {(place, item_id): Decimal(q) for place, item_id, q in session.execute(consumed)}
    out = []
    starts = planned_starts(session, {str(r[3]) for r in rows})
    for item_id, qty, seq, number, due in rows:
        ref = f"{number}/{seq}"
        remaining = qty - taken.get((ledger.step_place(ref), item_id), Decimal(0))
        if remaining > 0:
            day = starts.get(ref, due - CONSUMPTION_LEAD)
            out.append(Demand(item_id, day, remaining, "step", ref))
    planned = (
        select(
            StepInput.item_id,
            StepInput.quantity_per,
            RouteStep.sequence,
            WorkOrder.number,
            WorkOrder.due_date,
            WorkOrder.quantity,
            Route.id,
            Route.item_id,
        )
        .select_from(WorkOrder)
        .join(Route, Route.item_id == WorkOrder.item_id)
        .join(RouteStep, RouteStep.route_id == Route.id)
        .join(StepInput, StepInput.step_id == RouteStep.id)
        .where(WorkOrder.status == WorkOrderStatus.planned, Route.active)
    )
    found = session.execute(
        planned if items is None else planned.where(StepInput.item_id.in_(items))
    ).all()
    newest = _newest_routes(session, {r[7] for r in found})
    for item_id, per, seq, number, due, qty, route_id, _ in found:
        if route_id in newest:
            out.append(
                Demand(item_id, due - CONSUMPTION_LEAD, exact(per * qty), "step", f"{number}/{seq}")
            )
    return out


def planned_starts(session: Session, jobs: set[str]) -> dict[str, dt.date]:
    """The day (UTC) each step of these jobs starts in the plan in force, by "WO-1/10": a
    released job's step consumes its inputs then, not the day before the job is due."""
    from isom.planning.scheduling import queries as plans

    if not jobs:
        return {}
    return {ref: t.start.date() for ref, t in plans.planned_steps(session, jobs).items()}


def _newest_routes(session: Session, made: set[int] | None = None) -> set[int]:
    """The route a job of each item is released with: the item's newest active route."""
    if made is not None and not made:
        return set()
    query = select(func.max(Route.id)).where(Route.active).group_by(Route.item_id)
    if made is not None:
        query = query.where(Route.item_id.in_(made))
    return set(session.scalars(query))


def routes_by_item(session: Session) -> dict[int, Route]:
    """The newest active route with steps and BOMs per made item, for explosion."""
    from sqlalchemy.orm import selectinload

    newest = _newest_routes(session)
    routes = session.scalars(
        select(Route)
        .where(Route.id.in_(newest))
        .options(
            selectinload(Route.steps).selectinload(RouteStep.inputs),
            selectinload(Route.steps).selectinload(RouteStep.outputs),
        )
    ).all()
    return {r.item_id: r for r in routes if r.steps}


def supplier_items(
    session: Session, items: Iterable[int] | None = None
) -> dict[int, list[SupplierItem]]:
    """What each item can be bought from, preferred supplier first."""
    query = select(SupplierItem).order_by(SupplierItem.preferred.desc(), SupplierItem.id)
    if items is not None:
        query = query.where(SupplierItem.item_id.in_(set(items)))
    out: dict[int, list[SupplierItem]] = {}
    for si in session.scalars(query):
        out.setdefault(si.item_id, []).append(si)
    return out


def price_breaks(session: Session) -> dict[int, list[tuple[Decimal, Decimal]]]:
    """Each supplier offer's price breaks as (from quantity, unit price), all in one read."""
    out: dict[int, list[tuple[Decimal, Decimal]]] = {}
    for offer, least, price in session.execute(
        select(PriceBreak.supplier_item_id, PriceBreak.min_quantity, PriceBreak.price)
    ):
        out.setdefault(offer, []).append((least, price))
    return out


def item_codes(session: Session, items: Iterable[int] | None = None) -> dict[int, str]:
    """Item codes by id."""
    query = select(Item.id, Item.code)
    if items is not None:
        query = query.where(Item.id.in_(set(items)))
    return {i: c for i, c in session.execute(query)}


# ---------------------------------------------------------------------------------------------
# What the finite scheduler reads: open steps, workstations, people, machines down, priorities.


@dataclass(slots=True)
class OpenStep:
    """A step still to run (or running) of an open job, with the work left on it."""

    job_id: int
    job: str
    item: str
    quantity_left: Decimal
    due: dt.date
    customer_line: str | None
    parent_id: int | None
    parent_step: int | None
    sequence: int
    operation: str
    kind: str | None
    skill: str | None
    setup: Decimal
    run_per_unit: Decimal
    cleanup: Decimal
    running_on: int | None  # the workstation a started step is on
    started_at: dt.datetime | None
    inputs: list[tuple[int, Decimal]]  # (item, quantity still to consume)
    priority: str | None = None  # set only for a job that does not exist yet


def open_steps(session: Session, *, proposed: bool = False) -> list[OpenStep]:
    """Every step not done of released and running jobs (and of planned jobs by their newest
    route, when `proposed`), in job and route order."""
    from isom.production.models import StepStatus

    codes = dict(session.execute(select(Item.id, Item.code)).all())
    rows = session.execute(
        select(WorkOrder, WorkOrderStep)
        .join(WorkOrderStep, WorkOrderStep.work_order_id == WorkOrder.id)
        .where(
            WorkOrder.status.in_((WorkOrderStatus.released, WorkOrderStatus.in_progress)),
            WorkOrderStep.status != StepStatus.done,
        )
        .order_by(WorkOrder.id, WorkOrderStep.sequence)
    ).all()
    inputs: dict[int, list[tuple[int, Decimal]]] = {}
    step_ids = [st.id for _, st in rows]
    if step_ids:
        for step_id, item_id, qty in session.execute(
            select(StepMaterial.step_id, StepMaterial.item_id, StepMaterial.quantity).where(
                StepMaterial.step_id.in_(step_ids), StepMaterial.role == MaterialRole.input
            )
        ):
            inputs.setdefault(step_id, []).append((item_id, Decimal(qty)))
    out = []
    for wo, st in rows:
        left = max(Decimal(0), wo.quantity - st.quantity_good - st.quantity_scrap)
        running = st.status in (StepStatus.running, StepStatus.paused)
        out.append(
            OpenStep(
                wo.id, str(wo.number), codes[wo.item_id], left, wo.due_date, wo.customer_line,
                wo.parent_id, wo.parent_step_sequence, st.sequence, st.operation,
                st.workstation_kind, st.skill, st.setup_minutes, st.run_minutes_per_unit,
                st.cleanup_minutes, st.workstation_id if running else None,
                st.actual_start if running else None, inputs.get(st.id, []),
            )
        )  # fmt: skip
    if proposed:
        out += _planned_steps(session, codes)
    return out


def _planned_steps(session: Session, codes: dict[int, str]) -> list[OpenStep]:
    """Planned (not yet released) jobs' steps from their item's newest route."""
    routes = routes_by_item(session)
    out = []
    for wo in session.scalars(
        select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.planned).order_by(WorkOrder.id)
    ):
        route = routes.get(wo.item_id)
        if route is None:
            continue
        for rs in route.steps:
            per = rs.run_minutes
            if rs.run_basis is not RunBasis.unit:
                per = rs.run_minutes / route.batch_size
            out.append(
                OpenStep(
                    wo.id, str(wo.number), codes[wo.item_id], wo.quantity, wo.due_date,
                    wo.customer_line, wo.parent_id, wo.parent_step_sequence, rs.sequence,
                    rs.operation, rs.workstation_kind, rs.skill, rs.setup_minutes, per,
                    rs.cleanup_minutes, None, None,
                    [(i.item_id, exact(i.quantity_per * wo.quantity)) for i in rs.inputs],
                )
            )  # fmt: skip
    return out


def workstations(session: Session) -> list[tuple[Workstation, Calendar | None]]:
    """Active workstations, each with its calendar (shifts and holidays loaded)."""
    from sqlalchemy.orm import selectinload

    stations = list(
        session.scalars(select(Workstation).where(Workstation.active).order_by(Workstation.code))
    )
    ids = {w.calendar_id for w in stations if w.calendar_id}
    calendars = {
        c.id: c
        for c in session.scalars(
            select(Calendar)
            .where(Calendar.id.in_(ids))
            .options(selectinload(Calendar.shifts), selectinload(Calendar.holidays))
        )
    }
    return [(w, calendars.get(w.calendar_id or 0)) for w in stations]


def machines_down(session: Session) -> dict[int, dt.datetime]:
    """Workstations down right now, and since when."""
    from isom.production.models import MachineRecord, MachineState

    rows = session.execute(
        select(MachineRecord.workstation_id, MachineRecord.started_at).where(
            MachineRecord.ended_at.is_(None), MachineRecord.state == MachineState.down
        )
    )
    return {ws: since for ws, since in rows}


def people_per_skill(session: Session) -> dict[str, int]:
    """How many active people have each skill."""
    out: dict[str, int] = {}
    for skills in session.scalars(select(Person.skills).where(Person.active)):
        for s in skills or []:
            out[s] = out.get(s, 0) + 1
    return out


def line_priorities(session: Session) -> dict[str, Priority]:
    """The priority of every open customer line, by its reference (SO-1001/1)."""
    return {d.reference: d.priority for d in orders_queries.open_customer_demand(session)}


def floor_events_after(
    session: Session, production_after: int, orders_after: int
) -> tuple[int, int, list[str]]:
    """The ends of the production and order logs, and what landed after the given ends
    (kinds and what they name, e.g. "machine CUT-1 down"), for re-planning."""
    from isom.orders.models import OrderEvent
    from isom.production.models import ProductionEvent

    prod = session.execute(
        select(ProductionEvent.id, ProductionEvent.kind, ProductionEvent.command)
        .where(ProductionEvent.id > production_after, ProductionEvent.kind != "consume")
        .order_by(ProductionEvent.id)
        .limit(500)
    ).all()
    orders = session.execute(
        select(OrderEvent.id, OrderEvent.kind)
        .where(OrderEvent.id > orders_after)
        .order_by(OrderEvent.id)
        .limit(500)
    ).all()
    said = []
    for _, kind, cmd in prod:
        what = cmd.get("workstation") if kind == "machine" else cmd.get("work_order")
        state = f" {cmd.get('state')}" if kind == "machine" else ""
        said.append(f"{kind} {what or ''}{state}".strip())
    said += [kind for _, kind in orders]
    ends = (
        prod[-1][0] if prod else production_after,
        orders[-1][0] if orders else orders_after,
    )
    return ends[0], ends[1], said


def log_ends(session: Session) -> tuple[int, int]:
    """The newest production and order event ids (a change means something landed)."""
    from isom.orders.models import OrderEvent
    from isom.production.models import ProductionEvent

    return (
        session.scalar(select(func.max(ProductionEvent.id))) or 0,
        session.scalar(select(func.max(OrderEvent.id))) or 0,
    )
