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

from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
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
from isom.orders.enums import PRIORITY_RANK, Priority
from isom.planning.models import PriceBreak
from isom.production import rows as production_rows
from isom.production.enums import MaterialRole, StepStatus, WorkOrderStatus

OPEN_JOBS = production_rows.OPEN_JOBS
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
    stock = ledger_queries.available_by_item(session, items)
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
    rows = ledger_queries.available_lines_of(session, cuts)
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
    return [
        Supply(o.item_id, o.due_date, o.remaining, "production", o.number)
        for o in production_rows.remaining_outputs(session, items)
    ]


def step_demand(session: Session, items: set[int] | None = None) -> list[Demand]:
    """What open jobs' steps will still consume: released BOM lines less what was consumed,
    and for planned jobs (no snapshot yet) their route's inputs times the job's quantity.

    Queries start from the jobs' status (indexed) so that a few items cost a few rows."""
    rows = production_rows.released_inputs(session, items)
    places = {ledger.step_place(f"{r.number}/{r.sequence}") for r in rows}
    taken: dict[tuple[str, int], Decimal] = {}
    if places:
        taken = ledger_queries.consumed_at_steps(session, None if items is None else places, items)
    out = []
    starts = planned_starts(session, {r.number for r in rows})
    for r in rows:
        ref = f"{r.number}/{r.sequence}"
        remaining = r.quantity - taken.get((ledger.step_place(ref), r.item_id), Decimal(0))
        if remaining > 0:
            day = starts.get(ref, r.due_date - CONSUMPTION_LEAD)
            out.append(Demand(r.item_id, day, remaining, "step", ref))
    found = production_rows.planned_inputs(session, items)
    newest = _newest_routes(session, {p.route_item_id for p in found})
    for p in found:
        if p.route_id in newest:
            out.append(
                Demand(
                    p.item_id,
                    p.due_date - CONSUMPTION_LEAD,
                    exact(p.quantity_per * p.quantity),
                    "step",
                    f"{p.number}/{p.sequence}",
                )
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
    codes = dict(session.execute(select(Item.id, Item.code)).all())
    rows = production_rows.open_steps(session)
    inputs: dict[int, list[tuple[int, Decimal]]] = {}
    for m in production_rows.materials(session, [st.id for _, st in rows], role=MaterialRole.input):
        inputs.setdefault(m.step_id, []).append((m.item_id, Decimal(m.quantity)))
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
    for wo in production_rows.jobs(session, statuses=[WorkOrderStatus.planned]):
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
    return production_rows.machines_down(session)


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
    prod = production_rows.events_after(session, production_after, limit=500, skip_consume=True)
    orders = orders_queries.events_after(session, orders_after, limit=500)
    said = []
    for e in prod:
        kind, cmd = e.kind, e.command
        what = cmd.get("workstation") if kind == "machine" else cmd.get("work_order")
        state = f" {cmd.get('state')}" if kind == "machine" else ""
        said.append(f"{kind} {what or ''}{state}".strip())
    said += [e.kind for e in orders]
    ends = (
        prod[-1].id if prod else production_after,
        orders[-1].id if orders else orders_after,
    )
    return ends[0], ends[1], said


def log_ends(session: Session) -> tuple[int, int]:
    """The newest production and order event ids (a change means something landed)."""
    return (
        production_rows.last_event_id(session) or 0,
        orders_queries.last_event_id(session) or 0,
    )
