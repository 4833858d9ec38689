"""Master data looked up by code (active records only), quantities in base units, and the
directories the shop-floor screens list.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import InvalidInput, NotFound
from isom.masterdata.models import (
    Customer,
    Item,
    Location,
    Person,
    Supplier,
    Unit,
    UnitConversion,
    Workstation,
)

# Built once: the ledger looks these up on every event.
_ITEM_BY_CODE = select(Item).where(Item.code == bindparam("code"))
_LOCATION_BY_CODE = select(Location).where(Location.code == bindparam("code"))


def get_item(session: Session, code: str, *, field: str = "item") -> Item:
    """The active item with this code, or a 404 that names the field."""
    item = session.scalar(_ITEM_BY_CODE, {"code": code})
    if item is None:
        raise NotFound(f"no item with code {code!r}", field=field, expected="an existing item code")
    if not item.active:
        raise InvalidInput(f"item {code!r} is inactive", field=field, expected="an active item")
    return item


def get_location(session: Session, code: str, *, field: str = "location") -> Location:
    """The active location with this code, or a 404 that names the field."""
    loc = session.scalar(_LOCATION_BY_CODE, {"code": code})
    if loc is None:
        raise NotFound(
            f"no location with code {code!r}", field=field, expected="an existing location code"
        )
    sites.check(loc.site_id, "location with code", code, field=field)
    if not loc.active:
        raise InvalidInput(
            f"location {code!r} is inactive", field=field, expected="an active location"
        )
    return loc


def _named(session: Session, model: type[M], code: str, *, field: str, what: str) -> M:
    """The record with this code, or a 404 naming the field."""
    found = _by_code(session, model, code)
    if found is None:
        raise NotFound(f"no {what} with code {code!r}", field=field, expected=f"a {what} code")
    return found


def get_supplier(session: Session, code: str, *, field: str = "supplier") -> Supplier:
    """The supplier with this code."""
    return _named(session, Supplier, code, field=field, what="supplier")


def get_customer(session: Session, code: str, *, field: str = "customer") -> Customer:
    """The customer with this code."""
    return _named(session, Customer, code, field=field, what="customer")


def get_unit(session: Session, code: str, *, field: str = "unit") -> Unit:
    """The unit with this code."""
    return _named(session, Unit, code, field=field, what="unit")


def unit_decimals(session: Session, item: Item) -> int:
    """How many decimals a quantity of this item (in its base unit) may carry."""
    unit = session.get(Unit, item.base_unit_id)
    assert unit is not None
    return unit.decimals


def check_precision(quantity: Decimal, decimals: int, *, field: str, unit_code: str) -> None:
    """Refuse a quantity finer than its unit allows, instead of rounding it silently."""
    if quantity != quantity.quantize(Decimal(1).scaleb(-decimals)):
        raise InvalidInput(
            f"{quantity} {unit_code} has more decimals than the unit allows",
            field=field,
            expected=f"at most {decimals} decimals for unit {unit_code}",
        )


def to_base_quantity(
    session: Session, item: Item, quantity: Decimal, unit_code: str | None, *, field: str
) -> Decimal:
    """Convert a quantity given in `unit_code` to the item's base unit, exactly or not at all."""
    base = session.get(Unit, item.base_unit_id)
    assert base is not None
    if unit_code is None or unit_code == base.code:
        check_precision(quantity, base.decimals, field=field, unit_code=base.code)
        return quantity
    unit = get_unit(session, unit_code, field=f"{field}.unit")
    ratio = _ratio(session, item, unit.id, base.id)
    if ratio is None:
        raise InvalidInput(
            f"no conversion from {unit_code} to {base.code} for item {item.code}",
            field=f"{field}.unit",
            expected=f"{base.code} or a unit with a conversion to it",
        )
    check_precision(quantity, unit.decimals, field=field, unit_code=unit.code)
    exact = Fraction(quantity) * ratio
    converted = Decimal(exact.numerator) / Decimal(exact.denominator)
    if Fraction(converted) != exact:
        raise InvalidInput(
            f"{quantity} {unit_code} is not an exact quantity of {base.code}",
            field=field,
            expected=f"a quantity that converts exactly to {base.code}",
        )
    check_precision(converted, base.decimals, field=field, unit_code=base.code)
    return converted


def _ratio(session: Session, item: Item, from_id: int, to_id: int) -> Fraction | None:
    """The exact factor from one unit to another: item-specific first, then global, either way."""
    for item_id in (item.id, None):
        rows = session.scalars(
            select(UnitConversion).where(
                UnitConversion.item_id.is_(None)
                if item_id is None
                else UnitConversion.item_id == item_id
            )
        ).all()
        for conv in rows:
            if conv.from_unit_id == from_id and conv.to_unit_id == to_id:
                return Fraction(conv.numerator, conv.denominator)
            if conv.from_unit_id == to_id and conv.to_unit_id == from_id:
                return Fraction(conv.denominator, conv.numerator)
    return None


def location_subtree_prefix(location: Location) -> str:
    """The path prefix shared by a location and everything below it."""
    return location.path


M = TypeVar("M")


def _by_code(session: Session, model: type[M], code: str) -> M | None:
    column: Any = getattr(model, "code")  # noqa: B009 - every master table has a code column
    found: M | None = session.scalars(select(model).where(column == code)).first()
    return found


def find_by_code(session: Session, model: type[M], code: str, *, field: str, what: str) -> M:
    """The record a code refers to, or a 404 naming the field at fault."""
    found = _by_code(session, model, code)
    if found is None:
        raise NotFound(
            f"no {what} with code {code!r}", field=field, expected=f"an existing {what} code"
        )
    return found


# --- directories for the shop-floor screens ------------------------------------------------


def active_workstations(session: Session) -> list[Workstation]:
    """Every workstation in use, by code: what a terminal can be set up at."""
    return list(
        session.scalars(select(Workstation).where(Workstation.active).order_by(Workstation.code))
    )


def badge_holders(session: Session) -> list[Person]:
    """Every active person with a badge, by badge: whom a terminal can greet by name offline."""
    return list(
        session.scalars(
            select(Person)
            .where(Person.active, Person.badge_code.is_not(None))
            .order_by(Person.badge_code)
        )
    )
