"""Upserts by code: each `upsert_<kind>` takes a validated schema, resolves the codes it names,
creates or updates the record and answers `(record, created)`. On an update, fields the input
left out keep their value; a nested list that is given replaces the stored one.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from isom.auth import sites
from isom.errors import Conflict, InvalidInput
from isom.masterdata import schemas
from isom.masterdata.models import (
    Calendar,
    Customer,
    Holiday,
    Item,
    Location,
    LocationKind,
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
from isom.masterdata.services.lookups import M, _by_code, find_by_code


def _assign(obj: object, data: BaseModel, created: bool, names: tuple[str, ...]) -> None:
    """Copy the plain fields an input gives (all of them on a create) onto the record."""
    for name in names:
        if created or name in data.model_fields_set:
            setattr(obj, name, getattr(data, name))


def _given(data: BaseModel, created: bool, name: str) -> bool:
    return created or name in data.model_fields_set


def _fetch_or_add(session: Session, model: type[M], code: str, **new: Any) -> tuple[M, bool]:
    """The record with `code`, or a new one added to the session, and whether it is new."""
    found = _by_code(session, model, code)
    if found is not None:
        return found, False
    record = model(code=code, **new)  # type: ignore[call-arg]  # every master model has a code
    session.add(record)
    return record, True


def _upsert_plain(
    session: Session, model: type[M], code: str, data: BaseModel, names: tuple[str, ...]
) -> tuple[M, bool]:
    """Create or update the record with `code` from the plain fields `names` of `data`."""
    record, created = _fetch_or_add(session, model, code)
    _assign(record, data, created, names)
    session.flush()
    return record, created


def _calendar_id(session: Session, code: str | None) -> int | None:
    """The calendar a code names (404 when none), or None for no calendar."""
    if not code:
        return None
    return find_by_code(session, Calendar, code, field="calendar", what="calendar").id


def upsert_unit(session: Session, data: schemas.UnitIn) -> tuple[Unit, bool]:
    """Create or update a unit of measure by code."""
    return _upsert_plain(session, Unit, data.code, data, ("name", "decimals", "active"))


def upsert_global_conversion(
    session: Session, data: schemas.GlobalConversionIn
) -> tuple[UnitConversion, bool]:
    """Create or update a conversion between two units that holds for every item."""
    src = find_by_code(session, Unit, data.from_unit, field="from_unit", what="unit")
    dst = find_by_code(session, Unit, data.to_unit, field="to_unit", what="unit")
    ratio = (
        Fraction(data.factor)
        if data.factor is not None
        else Fraction(data.numerator or 1, data.denominator)
    )
    row = session.scalar(
        select(UnitConversion).where(
            UnitConversion.item_id.is_(None),
            UnitConversion.from_unit_id == src.id,
            UnitConversion.to_unit_id == dst.id,
        )
    )
    created = row is None
    if row is None:
        row = UnitConversion(item_id=None, from_unit_id=src.id, to_unit_id=dst.id)
        session.add(row)
    row.numerator, row.denominator = ratio.numerator, ratio.denominator
    session.flush()
    return row, created


def upsert_item(session: Session, data: schemas.ItemIn) -> tuple[Item, bool]:
    """Create or update an item by code; its base unit, GTIN and conversions are checked."""
    base = find_by_code(session, Unit, data.base_unit, field="base_unit", what="unit")
    item, created = _fetch_or_add(session, Item, data.code, base_unit_id=base.id)
    if item.base_unit_id != base.id:
        raise Conflict(
            f"item {data.code!r} is counted in another unit; changing it would misread its stock",
            field="base_unit",
            expected="the item's current base unit",
        )
    if data.gtin is not None and _given(data, created, "gtin"):
        other = session.scalar(
            select(Item.code).where(Item.gtin == data.gtin, Item.code != data.code)
        )
        if other is not None:
            raise Conflict(
                f"GTIN {data.gtin} already belongs to item {other!r}",
                field="gtin",
                expected="a GTIN no other item has",
            )
    _assign(
        item,
        data,
        created,
        (
            "name",
            "type",
            "tracking",
            "shelf_life_days",
            "standard_cost",
            "gtin",
            "attributes",
            "description",
            "active",
            "measure",
            "min_usable",
        ),
    )
    session.flush()
    if data.conversions is not None:
        seen: set[str] = set()
        rows = []
        for i, conv in enumerate(data.conversions):
            field = f"conversions.{i}.unit"
            unit = find_by_code(session, Unit, conv.unit, field=field, what="unit")
            if unit.id == base.id or conv.unit in seen:
                raise InvalidInput(
                    f"unit {conv.unit!r} is the base unit or appears twice",
                    field=field,
                    expected="another unit than the base unit, once",
                )
            seen.add(conv.unit)
            ratio = Fraction(conv.factor)
            rows.append(
                UnitConversion(
                    item_id=item.id,
                    from_unit_id=unit.id,
                    to_unit_id=base.id,
                    numerator=ratio.numerator,
                    denominator=ratio.denominator,
                )
            )
        _replace(session, UnitConversion.item_id, item.id, rows)
        session.flush()
    return item, created


def upsert_location(session: Session, data: schemas.LocationIn) -> tuple[Location, bool]:
    """Create or update a location by code, keeping `site_id` and the path of it and below."""
    parent: Location | None = None
    if data.parent is not None:
        parent = find_by_code(session, Location, data.parent, field="parent", what="location")
        sites.check(parent.site_id, "location", data.parent, field="parent")
    if data.kind is LocationKind.site and parent is not None:
        raise InvalidInput("a site has no parent", field="parent", expected="no parent for a site")
    if data.kind is not LocationKind.site and parent is None:
        raise InvalidInput(
            f"a {data.kind.value} needs a parent", field="parent", expected="a parent location code"
        )
    if parent is not None and parent.kind is LocationKind.bin:
        raise InvalidInput(
            f"{parent.code!r} is a bin and holds no other location",
            field="parent",
            expected="a site, area, zone, workstation or dock",
        )
    loc, created = _fetch_or_add(session, Location, data.code, path="")
    if not created:
        sites.check(loc.site_id, "location", data.code, field="code")
        if parent is not None and (parent.id == loc.id or parent.path.startswith(loc.path)):
            raise InvalidInput(
                f"{parent.code!r} is {data.code!r} or below it: that would make a cycle",
                field="parent",
                expected="a location that is not below this one",
            )
        if data.kind is LocationKind.bin and session.scalar(
            select(Location.id).where(Location.parent_id == loc.id).limit(1)
        ):
            raise InvalidInput(
                f"{data.code!r} holds other locations and cannot be a bin",
                field="kind",
                expected="a kind that may hold locations",
            )
    loc.kind = data.kind
    _assign(loc, data, created, ("name", "timezone", "active"))
    loc.parent_id = parent.id if parent else None
    session.flush()
    old_path = loc.path
    new_path = (parent.path if parent else "/") + f"{loc.id}/"
    new_site = parent.site_id if parent else loc.id
    loc.path, loc.site_id = new_path, new_site
    if not created and old_path and old_path != new_path:
        below = session.scalars(
            select(Location).where(Location.path.startswith(old_path), Location.id != loc.id)
        ).all()
        for child in below:
            child.path = new_path + child.path[len(old_path) :]
            child.site_id = new_site
    session.flush()
    return loc, created


def _once(keys: list[Any], message: str, *, field: str, expected: str) -> None:
    """Refuse a nested list that names the same thing twice."""
    if len(keys) != len(set(keys)):
        raise InvalidInput(message, field=field, expected=expected)


def _replace(
    session: Session, parent: InstrumentedAttribute[Any], ident: int, rows: list[Any]
) -> None:
    """A nested list that is given replaces the stored one: the old rows go, the new come."""
    session.execute(delete(parent.class_).where(parent == ident))
    session.add_all(rows)


def upsert_calendar(session: Session, data: schemas.CalendarIn) -> tuple[Calendar, bool]:
    """Create or update a work calendar by code; given shifts or holidays replace the old ones."""
    cal, created = _upsert_plain(session, Calendar, data.code, data, ("name", "timezone", "active"))
    if data.shifts is not None:
        _once(
            [(s.weekday, s.name) for s in data.shifts],
            "a shift name appears twice on one weekday",
            field="shifts",
            expected="one shift of each name per weekday",
        )
        shifts = []
        for s in data.shifts:
            shifts.append(
                Shift(
                    calendar_id=cal.id,
                    name=s.name,
                    weekday=s.weekday,
                    start_time=s.start,
                    end_time=s.end,
                )
            )
        _replace(session, Shift.calendar_id, cal.id, shifts)
    if data.holidays is not None:
        _once(
            [h.date for h in data.holidays],
            "a holiday date appears twice",
            field="holidays",
            expected="each date once",
        )
        holidays = [Holiday(calendar_id=cal.id, date=h.date, name=h.name) for h in data.holidays]
        _replace(session, Holiday.calendar_id, cal.id, holidays)
    session.flush()
    session.expire(cal, ["shifts", "holidays"])
    return cal, created


def upsert_workstation(session: Session, data: schemas.WorkstationIn) -> tuple[Workstation, bool]:
    """Create or update a workstation or machine by code."""
    ws, created = _fetch_or_add(session, Workstation, data.code)
    if _given(data, created, "location"):
        loc_id = None
        if data.location is not None:
            loc = find_by_code(session, Location, data.location, field="location", what="location")
            if loc.kind is not LocationKind.workstation:
                raise InvalidInput(
                    f"location {data.location!r} is a {loc.kind.value}",
                    field="location",
                    expected="a location of kind workstation",
                )
            loc_id = loc.id
        ws.location_id = loc_id
    if _given(data, created, "calendar"):
        ws.calendar_id = _calendar_id(session, data.calendar)
    _assign(ws, data, created, ("name", "kind", "operations", "capacity", "hourly_rate", "active"))
    session.flush()
    return ws, created


def upsert_person(session: Session, data: schemas.PersonIn) -> tuple[Person, bool]:
    """Create or update a person by code; the badge code must be theirs alone."""
    person, created = _fetch_or_add(session, Person, data.code)
    if data.badge_code is not None and _given(data, created, "badge_code"):
        other = session.scalar(
            select(Person.code).where(
                Person.badge_code == data.badge_code, Person.code != data.code
            )
        )
        if other is not None:
            raise Conflict(
                f"badge {data.badge_code!r} already belongs to {other!r}",
                field="badge_code",
                expected="a badge code no one else has",
            )
    if _given(data, created, "calendar"):
        person.calendar_id = _calendar_id(session, data.calendar)
    _assign(
        person,
        data,
        created,
        ("name", "badge_code", "skills", "hourly_rate", "shift", "user_id", "active"),
    )
    session.flush()
    return person, created


def upsert_route(session: Session, data: schemas.RouteIn) -> tuple[Route, bool]:
    """Create or update a route by code; its steps and their BOMs are replaced as a whole."""
    item = find_by_code(session, Item, data.item, field="item", what="item")
    route, created = _fetch_or_add(session, Route, data.code, item_id=item.id)
    route.item_id = item.id
    _assign(route, data, created, ("name", "revision", "batch_size", "active"))
    session.flush()
    old_steps = select(RouteStep.id).where(RouteStep.route_id == route.id)
    session.execute(delete(StepInput).where(StepInput.step_id.in_(old_steps)))
    session.execute(delete(StepOutput).where(StepOutput.step_id.in_(old_steps)))
    session.execute(delete(RouteStep).where(RouteStep.route_id == route.id))
    for i, st in enumerate(data.steps):
        step = RouteStep(
            route_id=route.id,
            sequence=st.sequence,
            operation=st.operation,
            name=st.name,
            workstation_kind=st.workstation_kind,
            skill=st.skill,
            setup_minutes=st.setup_minutes,
            run_minutes=st.run_minutes,
            run_basis=st.run_basis,
            cleanup_minutes=st.cleanup_minutes,
        )
        session.add(step)
        session.flush()
        for j, inp in enumerate(st.inputs):
            used = find_by_code(
                session, Item, inp.item, field=f"steps.{i}.inputs.{j}.item", what="item"
            )
            session.add(
                StepInput(
                    step_id=step.id,
                    item_id=used.id,
                    quantity_per=inp.quantity_per,
                    floor_stock=inp.floor_stock,
                    cut_length=inp.cut_length,
                )
            )
        for j, out in enumerate(st.outputs):
            made = find_by_code(
                session, Item, out.item, field=f"steps.{i}.outputs.{j}.item", what="item"
            )
            session.add(
                StepOutput(
                    step_id=step.id, item_id=made.id, kind=out.kind, quantity_per=out.quantity_per
                )
            )
    session.flush()
    session.expire(route, ["steps"])
    return route, created


def upsert_customer(session: Session, data: schemas.CustomerIn) -> tuple[Customer, bool]:
    """Create or update a customer by code."""
    return _upsert_plain(
        session, Customer, data.code, data, ("name", "email", "phone", "ship_to", "active")
    )


def _put_supplier_item(
    session: Session,
    supplier: Supplier,
    data: schemas.SupplierItemIn | schemas.SupplierItemNested,
    *,
    field: str,
) -> tuple[SupplierItem, bool]:
    item = find_by_code(session, Item, data.item, field=field, what="item")
    row = session.scalar(
        select(SupplierItem).where(
            SupplierItem.supplier_id == supplier.id, SupplierItem.item_id == item.id
        )
    )
    created = row is None
    if row is None:
        row = SupplierItem(supplier_id=supplier.id, item_id=item.id)
        session.add(row)
    _assign(
        row,
        data,
        created,
        (
            "supplier_item_code",
            "lead_time_days",
            "min_order_qty",
            "order_multiple",
            "price",
            "currency",
            "preferred",
            "valid_from",
        ),
    )
    session.flush()
    return row, created


def upsert_supplier(session: Session, data: schemas.SupplierIn) -> tuple[Supplier, bool]:
    """Create or update a supplier by code; given items replace what it sells."""
    sup, created = _upsert_plain(
        session, Supplier, data.code, data, ("name", "email", "phone", "currency", "active")
    )
    if data.items is not None:
        session.execute(delete(SupplierItem).where(SupplierItem.supplier_id == sup.id))
        for i, line in enumerate(data.items):
            _put_supplier_item(session, sup, line, field=f"items.{i}.item")
    return sup, created


def upsert_supplier_item(
    session: Session, data: schemas.SupplierItemIn
) -> tuple[SupplierItem, bool]:
    """Create or update what a supplier sells of an item: lead time, minimum, multiple, price."""
    sup = find_by_code(session, Supplier, data.supplier, field="supplier", what="supplier")
    return _put_supplier_item(session, sup, data, field="item")
