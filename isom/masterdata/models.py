"""Master data tables: units, items, locations, partners (and, beside them, resources and routes)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import Exact, JsonType


class ItemType(enum.StrEnum):
    raw = "raw"
    intermediate = "intermediate"
    finished = "finished"
    packaging = "packaging"
    consumable = "consumable"


class Tracking(enum.StrEnum):
    none = "none"
    lot = "lot"
    serial = "serial"


class LocationKind(enum.StrEnum):
    site = "site"
    area = "area"
    zone = "zone"
    bin = "bin"
    workstation = "workstation"
    dock = "dock"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, validate_strings=True)


class Unit(Base):
    """A unit of measure with the number of decimals a quantity in it may carry."""

    __tablename__ = "md_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    decimals: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("decimals >= 0 AND decimals <= 6", name="decimals_range"),)


class Item(Base):
    """The item master: what a thing is, how it is counted and tracked, what it should cost."""

    __tablename__ = "md_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[ItemType] = mapped_column(_enum(ItemType))
    base_unit_id: Mapped[int] = mapped_column(ForeignKey("md_unit.id"))
    tracking: Mapped[Tracking] = mapped_column(_enum(Tracking), default=Tracking.none)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    standard_cost: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    description: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("standard_cost >= 0", name="standard_cost_positive"),)


class UnitConversion(Base):
    """An exact conversion: 1 `from_unit` = numerator/denominator `to_unit`, for one item or all."""

    __tablename__ = "md_unit_conversion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("md_item.id", ondelete="CASCADE"))
    from_unit_id: Mapped[int] = mapped_column(ForeignKey("md_unit.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("md_unit.id"))
    numerator: Mapped[int] = mapped_column(BigInteger)
    denominator: Mapped[int] = mapped_column(BigInteger, default=1)

    __table_args__ = (
        UniqueConstraint("item_id", "from_unit_id", "to_unit_id"),
        CheckConstraint("numerator > 0 AND denominator > 0", name="positive_ratio"),
    )


class Location(Base):
    """A place material can be: site > area > zone > bin, plus workstations and docks.

    `path` is the chain of ids from the site down ("/1/4/9/") so that "this location and
    everything below it" is one indexed prefix query.
    """

    __tablename__ = "md_location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LocationKind] = mapped_column(_enum(LocationKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Supplier(Base):
    """A supplier of material."""

    __tablename__ = "md_supplier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Customer(Base):
    """A customer who orders and receives shipments."""

    __tablename__ = "md_customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    ship_to: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SupplierItem(Base):
    """What a supplier sells of an item: lead time, minimum, multiple and price."""

    __tablename__ = "md_supplier_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("md_supplier.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id", ondelete="CASCADE"))
    supplier_item_code: Mapped[str | None] = mapped_column(String(64))
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)
    min_order_qty: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    order_multiple: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    price: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("supplier_id", "item_id"),
        CheckConstraint(
            "lead_time_days >= 0 AND min_order_qty >= 0 AND order_multiple >= 0 AND price >= 0",
            name="non_negative",
        ),
    )
