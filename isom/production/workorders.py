"""Work orders: look-ups, create, release (route snapshot, child jobs); closing.py closes."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, cast, func, inspect, literal, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from isom.auth import sites
from isom.errors import Conflict, NotFound
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.masterdata.models import (
    Item,
    Person,
    Route,
    RouteStep,
    RunBasis,
    Workstation,
)
from isom.production import conversion, records
from isom.production.events import event_command, remembered
from isom.production.models import (
    MaterialRole,
    ProductionEvent,
    StepMaterial,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import (
    CreateWorkOrder,
    ReleaseWorkOrder,
    ScanResult,
)
from isom.production.states import transition_work_order

Actor = ledger.Actor
SIX = Decimal("0.000001")
MAX_CHILD_DEPTH = 5
#: Where a unit of work keeps the master data its releases read (session.info keys).
PLANT = "isom.production.plant"
R = TypeVar("R")


# ---------------------------------------------------------------------------------------------
# Look-ups.


def get_work_order(session: Session, number: str, *, lock: bool = False) -> WorkOrder:
    """The work order with this number (locked for update when `lock`), or 404. A job this
    transaction inserted is read from the session, and is locked already."""
    mine = records.held(session)
    wo = mine.inserted.get(number)
    if wo is None or not inspect(wo).persistent:  # not inserted, or its savepoint rolled back
        query = select(WorkOrder).where(WorkOrder.number == number)
        wo = session.scalar(query.with_for_update() if lock else query)
        if lock and wo is not None:
            mine.locked[wo.id] = records.innermost(session)
    if wo is None:
        raise NotFound(
            f"no work order {number!r}", field="work_order", expected="an existing work order"
        )
    sites.check(wo.site_id, "work order", number, field="work_order")
    return wo


def steps_of(session: Session, wo: WorkOrder) -> list[WorkOrderStep]:
    """The job's steps in sequence order."""
    return list(
        session.scalars(
            select(WorkOrderStep)
            .where(WorkOrderStep.work_order_id == wo.id)
            .order_by(WorkOrderStep.sequence)
        )
    )


def route_of(session: Session, wo: WorkOrder) -> list[WorkOrderStep]:
    """The job's steps in sequence order, read once per production event."""
    return remembered(session, ("route", wo.id), lambda: steps_of(session, wo))


def get_step(session: Session, wo: WorkOrder, sequence: int) -> WorkOrderStep:
    """One step of a job, or 404."""
    step = next((s for s in route_of(session, wo) if s.sequence == sequence), None)
    if step is None:
        raise NotFound(
            f"work order {wo.number} has no step {sequence}",
            field="step",
            expected="a step sequence of the job's route",
        )
    return step


def materials_of(session: Session, step: WorkOrderStep) -> list[StepMaterial]:
    """The step's BOM lines, as released (read once per production event)."""

    def load() -> list[StepMaterial]:
        return list(
            session.scalars(
                select(StepMaterial)
                .where(StepMaterial.step_id == step.id)
                .order_by(StepMaterial.id)
            )
        )

    return remembered(session, ("materials", step.id), load)


def person_by_badge(session: Session, badge: str) -> Person:
    """The active person whose badge this is, or 404."""
    found = _active(session, Person, Person.badge_code, badge)
    return _found(
        found, f"no active person has badge {badge!r}", "badge", "the badge of an active person"
    )


def workstation_by_code(session: Session, code: str) -> Workstation:
    """The active workstation with this code, or 404."""
    found = _active(session, Workstation, Workstation.code, code)
    return _found(
        found, f"no active workstation {code!r}", "workstation", "the code of an active workstation"
    )


def _active(session: Session, model: type[R], column: Any, value: str) -> R | None:
    """The active row whose `column` is `value` (a scanned badge or code), read once per event."""
    query = select(model).where(column == value, model.active)  # type: ignore[attr-defined]
    return remembered(session, (model.__name__, value), lambda: session.scalar(query))


def workstation_by_id(session: Session, ws_id: int | None) -> Workstation | None:
    """The workstation with this id (held for the event's feed), if any."""
    return remembered(
        session, ("workstation_id", ws_id), lambda: session.get(Workstation, ws_id or 0)
    )


def _found(row: R | None, detail: str, field: str, expected: str) -> R:
    """The row looked up, or 404 naming what was scanned."""
    if row is None:
        raise NotFound(detail, field=field, expected=expected)
    return row


def step_ref(wo: WorkOrder, step: WorkOrderStep) -> str:
    """The ledger's name for a job step: `<work order>/<sequence>`."""
    return f"{wo.number}/{step.sequence}"


def result_of(wo: WorkOrder, step: WorkOrderStep | None = None, **detail: Any) -> ScanResult:
    return ScanResult(
        event_id=0,
        key="",
        kind="",
        work_order=wo.number,
        step=step.sequence if step else None,
        step_status=step.status.value if step else None,
        work_order_status=wo.status.value,
        ledger_events=detail.pop("ledger_events", []),
        detail=detail,
    )


# ---------------------------------------------------------------------------------------------
# Work orders: create, release (snapshot the route, child jobs).


@event_command("create")
def create_work_order(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: CreateWorkOrder
) -> ScanResult:
    """Plan a job for an item, quantity and due date; release it at once when asked."""
    item = item_of(session, cmd.item)
    wo = new_work_order(
        session,
        item,
        cmd.quantity,
        cmd.due_date,
        actor=actor,
        at=event.occurred_at,
        customer_line=cmd.customer_line,
    )
    event.work_order_id = wo.id
    children: list[str] = []
    if cmd.release:
        children = release(session, wo, actor=actor, at=event.occurred_at, route_code=cmd.route)
    return result_of(wo, children=children)


def item_of(session: Session, code: str, *, field: str = "item") -> Item:
    """The active item with this code, read once per unit of work (an agent's run makes
    hundreds of jobs of a few items)."""
    cache: dict[str, Item] = session.info.setdefault(f"{PLANT}.items", {})
    item = cache.get(code)
    if item is None or not item.active:
        item = cache[code] = md.get_item(session, code, field=field)
    return item


def new_work_order(
    session: Session,
    item: Item,
    quantity: Decimal,
    due: dt.date,
    *,
    actor: Actor,
    at: dt.datetime,
    customer_line: str | None = None,
    parent: WorkOrder | None = None,
    parent_step: int | None = None,
) -> WorkOrder:
    """A planned job; its number `WO-000001` comes from the table's id sequence."""
    wo = WorkOrder(
        item_id=item.id,
        quantity=quantity,
        due_date=due,
        customer_line=customer_line,
        status=WorkOrderStatus.planned,
        parent_id=parent.id if parent else None,
        parent_step_sequence=parent_step,
        site_id=parent.site_id if parent else sites.home_site(session),
        created_at=at,
        updated_at=at,
        updated_by=actor.name,
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # the number in the insert itself: one statement instead of two
        wo.number = _number_from_sequence()
    session.add(wo)
    session.flush()
    number = f"WO-{wo.id:06d}"
    if postgres:  # the same number, known here without reading it back
        set_committed_value(wo, "number", number)
    else:
        wo.number = number  # written by the event's next flush
    mine = records.held(session)
    mine.inserted[number] = wo
    mine.ids.add(wo.id)
    return wo


def _number_from_sequence() -> ColumnElement[str]:
    """`WO-` and the id the insert draws, six digits or more. The insert's row takes its
    columns in table order, so the id's `nextval` is drawn before this `currval` reads it."""
    digits = cast(func.currval(func.pg_get_serial_sequence(WorkOrder.__tablename__, "id")), String)
    return literal("WO-") + func.lpad(digits, func.greatest(6, func.length(digits)), "0")


@event_command("release")
def release_work_order(
    session: Session, actor: Actor, key: str, event: ProductionEvent, cmd: ReleaseWorkOrder
) -> ScanResult:
    """Release a planned job: snapshot its route and make child jobs for made inputs."""
    wo = get_work_order(session, cmd.work_order, lock=True)
    event.work_order_id = wo.id
    children = release(session, wo, actor=actor, at=event.occurred_at, route_code=cmd.route)
    return result_of(wo, children=children)


def _active_route(session: Session, item: Item, code: str | None) -> Route | None:
    """The route to release by (the item's newest active one unless named), read once per
    unit of work: an agent's run releases hundreds of jobs by the same few routes."""
    routes: dict[tuple[int, str | None], Route | None] = session.info.setdefault(
        f"{PLANT}.routes", {}
    )
    if (item.id, code) not in routes:
        routes[(item.id, code)] = _read_route(session, item, code)
    return routes[(item.id, code)]


def _read_route(session: Session, item: Item, code: str | None) -> Route | None:
    query = select(Route).options(
        selectinload(Route.steps).selectinload(RouteStep.inputs),
        selectinload(Route.steps).selectinload(RouteStep.outputs),
    )
    if code is not None:
        return session.scalar(query.where(Route.code == code, Route.item_id == item.id))
    return session.scalar(
        query.where(Route.item_id == item.id, Route.active).order_by(Route.id.desc()).limit(1)
    )


def _mean(values: list[Decimal]) -> Decimal:
    if not values:
        return Decimal(0)
    return (sum(values, Decimal(0)) / len(values)).quantize(SIX, ROUND_HALF_EVEN)


def _rates(
    session: Session,
) -> tuple[list[Person], list[Workstation], dict[int, Decimal]]:
    """Active people, workstations and overhead rates (the standard rates' sources), read
    once per unit of work."""
    key = f"{PLANT}.rates"
    if key not in session.info:
        session.info[key] = (
            list(session.scalars(select(Person).where(Person.active))),
            list(session.scalars(select(Workstation).where(Workstation.active))),
            conversion.overhead_rates(session),
        )
    return session.info[key]  # type: ignore[no-any-return]


def release(
    session: Session,
    wo: WorkOrder,
    *,
    actor: Actor,
    at: dt.datetime,
    route_code: str | None = None,
    depth: int = 0,
    make_children: bool = True,
) -> list[str]:
    """Snapshot the route into the job, make it ready to start, and release child jobs.

    A planner (or an agent) that has already netted the made inputs against stock and open jobs
    releases with `make_children=False` and makes the child jobs it decided on itself.
    """
    transition_work_order(wo, WorkOrderStatus.released, actor=actor, at=at)
    item = session.get(Item, wo.item_id)
    assert item is not None
    route = _active_route(session, item, route_code)
    if route is None or not route.steps:
        raise Conflict(
            f"{item.code} has no active route with steps"
            if route_code is None
            else f"route {route_code!r} does not make {item.code}",
            field="route",
            expected="an active route of the item, with at least one step",
        )
    wo.route_code, wo.route_revision = route.code, route.revision
    rates = _rates(session)
    children: list[str] = []
    for n, rs in enumerate(route.steps):
        step = _snapshot_step(wo, route, rs, rates, first=n == 0, actor=actor, at=at)
        session.add(step)
        session.flush()
        for si in rs.inputs:
            it = session.get(Item, si.item_id)
            assert it is not None
            need = (si.quantity_per * wo.quantity).quantize(SIX, ROUND_HALF_EVEN)
            session.add(
                StepMaterial(
                    step_id=step.id,
                    item_id=si.item_id,
                    role=MaterialRole.input,
                    quantity_per=si.quantity_per,
                    quantity=need,
                    floor_stock=si.floor_stock,
                    std_unit_cost=it.standard_cost,
                )
            )
            if (
                make_children
                and not si.floor_stock
                and depth < MAX_CHILD_DEPTH
                and _active_route(session, it, None)
            ):
                children += _release_child(session, wo, it, need, rs.sequence, actor, at, depth)
        for so in rs.outputs:
            it = session.get(Item, so.item_id)
            assert it is not None
            session.add(
                StepMaterial(
                    step_id=step.id,
                    item_id=so.item_id,
                    role=MaterialRole(so.kind.value),
                    quantity_per=so.quantity_per,
                    quantity=(so.quantity_per * wo.quantity).quantize(SIX),
                    std_unit_cost=it.standard_cost,
                )
            )
    session.flush()
    return children


def _release_child(
    session: Session,
    wo: WorkOrder,
    item: Item,
    need: Decimal,
    sequence: int,
    actor: Actor,
    at: dt.datetime,
    depth: int,
) -> list[str]:
    """Make and release the child job that makes a step's input, due the day before its parent."""
    child = new_work_order(
        session,
        item,
        need,
        wo.due_date - dt.timedelta(days=1),
        actor=actor,
        at=at,
        customer_line=wo.customer_line,
        parent=wo,
        parent_step=sequence,
    )
    return [str(child.number), *release(session, child, actor=actor, at=at, depth=depth + 1)]


def _snapshot_step(
    wo: WorkOrder,
    route: Route,
    rs: RouteStep,
    rates: tuple[list[Person], list[Workstation], dict[int, Decimal]],
    *,
    first: bool,
    actor: Actor,
    at: dt.datetime,
) -> WorkOrderStep:
    """A route step as the job's step: its minutes for the job's quantity and its standard
    rates (the mean of the people with the skill and of the workstations of the kind)."""
    people, stations, overheads = rates
    per_unit = (
        rs.run_minutes
        if rs.run_basis is RunBasis.unit
        else (rs.run_minutes / route.batch_size).quantize(SIX, ROUND_HALF_EVEN)
    )
    run_total = (
        rs.run_minutes * wo.quantity
        if rs.run_basis is RunBasis.unit
        else (rs.run_minutes * (wo.quantity / route.batch_size).to_integral_value(ROUND_CEILING))
    )
    kind = [w for w in stations if not rs.workstation_kind or w.kind == rs.workstation_kind]
    return WorkOrderStep(
        work_order_id=wo.id,
        sequence=rs.sequence,
        operation=rs.operation,
        name=rs.name,
        workstation_kind=rs.workstation_kind,
        skill=rs.skill,
        setup_minutes=rs.setup_minutes,
        run_minutes_per_unit=per_unit,
        cleanup_minutes=rs.cleanup_minutes,
        standard_minutes=(rs.setup_minutes + run_total + rs.cleanup_minutes).quantize(SIX),
        std_labour_rate=_mean(
            [p.hourly_rate for p in people if not rs.skill or rs.skill in p.skills]
        ),
        std_machine_rate=_mean([w.hourly_rate for w in kind]),
        std_overhead_rate=_mean([overheads.get(w.id, Decimal(0)) for w in kind]),
        status=StepStatus.ready if first else StepStatus.waiting,
        updated_at=at,
        updated_by=actor.name,
    )
