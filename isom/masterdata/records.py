"""Master records by kind: how each is shown, and the generic list / get / upsert / deactivate.

The API, the importer and the CLI work through `KINDS`, so a new kind of master record is one
entry here plus its model, schemas and upsert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from isom.auth import sites
from isom.errors import NotFound
from isom.masterdata import schemas
from isom.masterdata.models import (
    Calendar,
    Customer,
    Holiday,
    Item,
    Location,
    Person,
    Route,
    RouteStep,
    Shift,
    StepInput,
    StepOutput,
    Supplier,
    SupplierItem,
    Unit,
    UnitConversion,
    Workstation,
)
from isom.masterdata.services import (
    find_by_code,
    upsert_calendar,
    upsert_customer,
    upsert_item,
    upsert_location,
    upsert_person,
    upsert_route,
    upsert_supplier,
    upsert_unit,
    upsert_workstation,
)
from isom.toolkit.views import view_of

# --- reading -----------------------------------------------------------------------------


def _code_of(session: Session, model: type[Any], ident: int | None) -> str | None:
    if ident is None:
        return None
    found = session.get(model, ident)
    return None if found is None else str(found.code)


def _children(session: Session, parent: InstrumentedAttribute[Any], ident: int) -> Sequence[Any]:
    """The rows of a child table that point at one record, in the order they were given."""
    model = parent.class_
    return session.scalars(select(model).where(parent == ident).order_by(model.id)).all()


def _plain(value: Decimal) -> Decimal:
    """A decimal without trailing zeros or an exponent: 100, not 1E+2."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def item_out(session: Session, item: Item) -> schemas.ItemOut:
    """An item as the API shows it, units by code."""
    convs = _children(session, UnitConversion.item_id, item.id)
    return view_of(
        schemas.ItemOut,
        item,
        base_unit=_code_of(session, Unit, item.base_unit_id) or "",
        attributes=dict(item.attributes or {}),
        conversions=[
            schemas.ConversionOut(
                unit=_code_of(session, Unit, c.from_unit_id) or "",
                factor=_plain(Decimal(c.numerator) / Decimal(c.denominator)),
            )
            for c in convs
        ],
    )


def location_out(session: Session, loc: Location) -> schemas.LocationOut:
    """A location as the API shows it, parent and site by code."""
    return view_of(
        schemas.LocationOut,
        loc,
        parent=_code_of(session, Location, loc.parent_id),
        site=_code_of(session, Location, loc.site_id),
    )


def calendar_out(session: Session, cal: Calendar) -> schemas.CalendarOut:
    """A calendar with its shifts and holidays."""
    shifts = session.scalars(
        select(Shift)
        .where(Shift.calendar_id == cal.id)
        .order_by(Shift.weekday, Shift.start_time, Shift.name)
    ).all()
    holidays = session.scalars(
        select(Holiday).where(Holiday.calendar_id == cal.id).order_by(Holiday.date)
    ).all()
    return view_of(
        schemas.CalendarOut,
        cal,
        shifts=[
            schemas.ShiftOut(name=s.name, weekday=s.weekday, start=s.start_time, end=s.end_time)
            for s in shifts
        ],
        holidays=[schemas.HolidayOut(date=h.date, name=h.name) for h in holidays],
    )


def workstation_out(session: Session, ws: Workstation) -> schemas.WorkstationOut:
    """A workstation as the API shows it."""
    return view_of(
        schemas.WorkstationOut,
        ws,
        location=_code_of(session, Location, ws.location_id),
        operations=list(ws.operations or []),
        calendar=_code_of(session, Calendar, ws.calendar_id),
    )


def person_out(session: Session, person: Person) -> schemas.PersonOut:
    """A person as the API shows them."""
    return view_of(
        schemas.PersonOut,
        person,
        skills=list(person.skills or []),
        calendar=_code_of(session, Calendar, person.calendar_id),
    )


def route_out(session: Session, route: Route) -> schemas.RouteOut:
    """A route with its steps and each step's BOM, items by code."""
    steps = session.scalars(
        select(RouteStep).where(RouteStep.route_id == route.id).order_by(RouteStep.sequence)
    ).all()
    ids = [s.id for s in steps]
    inputs = session.scalars(
        select(StepInput).where(StepInput.step_id.in_(ids)).order_by(StepInput.id)
    ).all()
    outputs = session.scalars(
        select(StepOutput).where(StepOutput.step_id.in_(ids)).order_by(StepOutput.id)
    ).all()
    return view_of(
        schemas.RouteOut,
        route,
        item=_code_of(session, Item, route.item_id) or "",
        steps=[
            view_of(
                schemas.RouteStepOut,
                s,
                inputs=[
                    view_of(schemas.StepInputOut, i, item=_code_of(session, Item, i.item_id) or "")
                    for i in inputs
                    if i.step_id == s.id
                ],
                outputs=[
                    view_of(schemas.StepOutputOut, o, item=_code_of(session, Item, o.item_id) or "")
                    for o in outputs
                    if o.step_id == s.id
                ],
            )
            for s in steps
        ],
    )


def supplier_out(session: Session, sup: Supplier) -> schemas.SupplierOut:
    """A supplier with what it sells."""
    rows = _children(session, SupplierItem.supplier_id, sup.id)
    return view_of(
        schemas.SupplierOut,
        sup,
        items=[
            view_of(
                schemas.SupplierItemOut,
                r,
                supplier=sup.code,
                item=_code_of(session, Item, r.item_id) or "",
            )
            for r in rows
        ],
    )


# --- the kinds, for the generic list / get / deactivate / import -------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of master record: its table, input and output schemas, upsert and view."""

    name: str
    label: str
    model: type[Any]
    schema_in: type[BaseModel]
    schema_out: type[BaseModel]
    upsert: Callable[[Session, Any], tuple[Any, bool]]
    view: Callable[[Session, Any], BaseModel]


def _kind(name: str, model: type[Any], upsert: Any, view: Any = None) -> Kind:
    """A kind named after its model: label `item`, schemas `ItemIn` and `ItemOut` for `Item`;
    without a view of its own a record is shown as its output schema reads it."""
    base = model.__name__
    schema_out: type[BaseModel] = getattr(schemas, f"{base}Out")
    return Kind(
        name,
        base.lower(),
        model,
        getattr(schemas, f"{base}In"),
        schema_out,
        upsert,
        view or (lambda session, record: schema_out.model_validate(record)),
    )


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind("units", Unit, upsert_unit),
        _kind("items", Item, upsert_item, item_out),
        _kind("locations", Location, upsert_location, location_out),
        _kind("calendars", Calendar, upsert_calendar, calendar_out),
        _kind("workstations", Workstation, upsert_workstation, workstation_out),
        _kind("people", Person, upsert_person, person_out),
        _kind("routes", Route, upsert_route, route_out),
        _kind("customers", Customer, upsert_customer),
        _kind("suppliers", Supplier, upsert_supplier, supplier_out),
    )
}


def kind_of(name: str) -> Kind:
    """The kind of master record called `name` (e.g. 'items'), or a 404 listing the kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise NotFound(
            f"no kind of master data called {name!r}", field="kind", expected=", ".join(KINDS)
        ) from None


def upsert(session: Session, kind: str, data: BaseModel) -> tuple[BaseModel, bool]:
    """Create or update a record of any kind by code; answers its view and whether it is new."""
    k = kind_of(kind)
    record, created = k.upsert(session, data)
    return k.view(session, record), created


def list_records(
    session: Session,
    kind: str,
    *,
    q: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[BaseModel], int]:
    """Records of a kind whose code or name contains `q`, by code, one page, and the total."""
    k = kind_of(kind)
    query = select(k.model)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(func.lower(k.model.code).like(pattern), func.lower(k.model.name).like(pattern))
        )
    if active is not None:
        query = query.where(k.model.active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(k.model.code).limit(limit).offset(offset)).all()
    return [k.view(session, r) for r in rows], total


def get_record(session: Session, kind: str, code: str) -> BaseModel:
    """One record of a kind by code, active or not."""
    k = kind_of(kind)
    found = find_by_code(session, k.model, code, field="code", what=k.label)
    _check_site(found, k.label, code)
    return k.view(session, found)


def _check_site(record: Any, label: str, code: str) -> None:
    """A location of a site the caller does not hold is not found (sites apart)."""
    if isinstance(record, Location):
        sites.check(record.site_id, label, code, field="code")


def deactivate(session: Session, kind: str, code: str) -> BaseModel:
    """Mark a record inactive: history still names it, new work may not use it."""
    k = kind_of(kind)
    found = find_by_code(session, k.model, code, field="code", what=k.label)
    _check_site(found, k.label, code)
    found.active = False
    session.flush()
    return k.view(session, found)
