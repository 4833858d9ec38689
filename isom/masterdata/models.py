"""Master data tables: units, items, locations, partners; resources and routes live beside them."""

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
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from isom.db import Base
from isom.types import Exact, JsonType, enum_column


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


class Measure(enum.StrEnum):
    """How an item is counted: in units, or as continuous material by length or weight."""

    count = "count"  # type: ignore[assignment]  # shadows str.count, harmlessly
    length = "length"
    weight = "weight"


class LocationKind(enum.StrEnum):
    site = "site"
    area = "area"
    zone = "zone"
    bin = "bin"
    workstation = "workstation"
    dock = "dock"


class RunBasis(enum.StrEnum):
    unit = "unit"
    batch = "batch"


class OutputKind(enum.StrEnum):
    main = "main"
    intermediate = "intermediate"
    byproduct = "byproduct"
    scrap = "scrap"


class Unit(Base):
    """A unit of measure with the number of decimals a quantity in it may carry."""

    __tablename__ = "md_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    decimals: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("decimals >= 0 AND decimals <= 6", name="decimals_range"),)


class Item(Base):
    """The item master: what a thing is, how it is counted and tracked, what it should cost."""

    __tablename__ = "md_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[ItemType] = mapped_column(enum_column(ItemType))
    base_unit_id: Mapped[int] = mapped_column(ForeignKey("md_unit.id"))
    tracking: Mapped[Tracking] = mapped_column(enum_column(Tracking), default=Tracking.none)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    standard_cost: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    description: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Continuous material (cable on reels, strip on coils) is measured by length or weight;
    #: what is left on a reel below `min_usable` is a remnant, not stock to plan with.
    measure: Mapped[Measure] = mapped_column(enum_column(Measure), default=Measure.count)
    min_usable: Mapped[Decimal | None] = mapped_column(Exact)

    __table_args__ = (
        CheckConstraint("standard_cost >= 0", name="standard_cost_positive"),
        CheckConstraint("min_usable IS NULL OR min_usable > 0", name="min_usable_positive"),
    )


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
    kind: Mapped[LocationKind] = mapped_column(enum_column(LocationKind))
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
    phone: Mapped[str | None] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Customer(Base):
    """A customer who orders and receives shipments."""

    __tablename__ = "md_customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    ship_to: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str | None] = mapped_column(String(50))
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


class Calendar(Base):
    """A work calendar: the weekly shifts and the holidays of a workstation or a person."""

    __tablename__ = "md_calendar"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    shifts: Mapped[list[Shift]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Shift.weekday, Shift.start_time"
    )
    holidays: Mapped[list[Holiday]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Holiday.date"
    )


class Shift(Base):
    """One weekly working window (local time of the calendar); it may run past midnight."""

    __tablename__ = "md_shift"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("md_calendar.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)

    __table_args__ = (
        UniqueConstraint("calendar_id", "weekday", "name"),
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
    )


class Holiday(Base):
    """A day on which a calendar does not work."""

    __tablename__ = "md_holiday"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("md_calendar.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (UniqueConstraint("calendar_id", "date"),)


class Workstation(Base):
    """A workstation or machine: its kind, the operations it can do, its rate and calendar."""

    __tablename__ = "md_workstation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    operations: Mapped[list[str]] = mapped_column(JsonType, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    hourly_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("md_calendar.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("hourly_rate >= 0 AND capacity >= 1", name="non_negative"),)


class OverheadRate(Base):
    """Overhead charged per hour a job spends on a workstation (0 when a station has none).

    Set through costing (`costing.services.set_overhead_rate`); kept beside the workstation so
    production snapshots and charges it at release and stop without calling up into costing.
    """

    __tablename__ = "cost_overhead_rate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workstation_id: Mapped[int] = mapped_column(ForeignKey("md_workstation.id"), unique=True)
    hourly_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))

    __table_args__ = (CheckConstraint("hourly_rate >= 0", name="non_negative"),)


class Person(Base):
    """A person on the floor: badge, skills, labour rate and shift."""

    __tablename__ = "md_person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    badge_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    skills: Mapped[list[str]] = mapped_column(JsonType, default=list)
    hourly_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    shift: Mapped[str | None] = mapped_column(String(64))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("md_calendar.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("hourly_rate >= 0", name="non_negative"),)


class Route(Base):
    """How an item is made: ordered steps, each with its own BOM."""

    __tablename__ = "md_route"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), index=True)
    revision: Mapped[str] = mapped_column(String(20), default="1")
    batch_size: Mapped[Decimal] = mapped_column(Exact, default=Decimal(1))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    steps: Mapped[list[RouteStep]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="RouteStep.sequence"
    )

    __table_args__ = (CheckConstraint("batch_size > 0", name="batch_size_positive"),)


class RouteStep(Base):
    """One operation of a route: what it needs (workstation kind, skill) and its standard times."""

    __tablename__ = "md_route_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("md_route.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    workstation_kind: Mapped[str | None] = mapped_column(String(64))
    skill: Mapped[str | None] = mapped_column(String(64))
    setup_minutes: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    run_minutes: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    run_basis: Mapped[RunBasis] = mapped_column(enum_column(RunBasis), default=RunBasis.unit)
    cleanup_minutes: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))

    inputs: Mapped[list[StepInput]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="StepInput.id"
    )
    outputs: Mapped[list[StepOutput]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="StepOutput.id"
    )

    __table_args__ = (
        UniqueConstraint("route_id", "sequence"),
        CheckConstraint(
            "setup_minutes >= 0 AND run_minutes >= 0 AND cleanup_minutes >= 0",
            name="non_negative",
        ),
    )


class StepInput(Base):
    """A material a step consumes, per unit of the step's output; floor stock is not picked."""

    __tablename__ = "md_step_input"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(
        ForeignKey("md_route_step.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    quantity_per: Mapped[Decimal] = mapped_column(Exact)
    floor_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The length (or weight) of one piece cut from a reel or coil: planning counts the whole
    #: pieces each reel yields, not its total length.
    cut_length: Mapped[Decimal | None] = mapped_column(Exact)

    __table_args__ = (
        CheckConstraint("quantity_per > 0", name="quantity_positive"),
        CheckConstraint("cut_length IS NULL OR cut_length > 0", name="cut_length_positive"),
    )


class StepOutput(Base):
    """A material a step produces: its main output, an intermediate, a by-product or scrap."""

    __tablename__ = "md_step_output"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(
        ForeignKey("md_route_step.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    kind: Mapped[OutputKind] = mapped_column(enum_column(OutputKind), default=OutputKind.main)
    quantity_per: Mapped[Decimal] = mapped_column(Exact, default=Decimal(1))

    __table_args__ = (CheckConstraint("quantity_per > 0", name="quantity_positive"),)
