"""Master data at the edges (API, import, CLI): records name each other by code, never by id.

Inputs are strict (unknown fields refused, codes and decimals checked). On an update, the
fields an input leaves out keep their stored value; a nested list that is given (a route's
steps, a calendar's shifts, an item's conversions) replaces the stored one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from isom import bounds
from isom.masterdata.models import (
    ItemType,
    LocationKind,
    Measure,
    OutputKind,
    RunBasis,
    Tracking,
)
from isom.types import PlainDecimal

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$"

Code = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=CODE_PATTERN,
        description="A printable code: letters, digits, '.', '_', '-', '/'.",
    ),
]
UnitCode = Annotated[str, Field(min_length=1, max_length=20, pattern=CODE_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]
NonNegative = Annotated[PlainDecimal, Field(ge=0, max_digits=18, decimal_places=6)]
Positive = Annotated[PlainDecimal, Field(gt=0, max_digits=18, decimal_places=6)]
Minutes = Annotated[PlainDecimal, Field(ge=0, max_digits=18, decimal_places=6)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- units and items ---------------------------------------------------------------------


class UnitConversionIn(_In):
    """1 `unit` = `factor` of the target unit (the item's base unit, or `to_unit` for a unit)."""

    unit: UnitCode
    factor: Positive


class GlobalConversionIn(_In):
    """A conversion for all items: 1 `from_unit` = `factor` (or numerator/denominator) `to_unit`."""

    from_unit: UnitCode
    to_unit: UnitCode
    factor: Positive | None = None
    numerator: int | None = Field(default=None, ge=1)
    denominator: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_ratio(self) -> GlobalConversionIn:
        if (self.factor is None) == (self.numerator is None):
            raise ValueError("give either factor or numerator (with an optional denominator)")
        if self.from_unit == self.to_unit:
            raise ValueError("a unit converts to another unit")
        return self


class UnitIn(_In):
    code: UnitCode
    name: Name
    decimals: int = Field(default=0, ge=0, le=6, description="Decimals a quantity may carry.")
    active: bool = True


class UnitOut(_Out):
    code: str
    name: str
    decimals: int
    active: bool


class ItemIn(_In):
    code: Code
    name: Name
    type: ItemType
    base_unit: UnitCode
    tracking: Tracking = Tracking.none
    shelf_life_days: int | None = Field(default=None, ge=0, le=36500)
    standard_cost: NonNegative = Decimal(0)
    gtin: str | None = Field(
        default=None, pattern=r"^(\d{8}|\d{12}|\d{13}|\d{14})$", description="GTIN-8/12/13/14"
    )
    attributes: dict[str, str | int | bool | Decimal] = Field(
        default_factory=dict,
        description="Attributes such as size and colour, instead of variant part numbers.",
    )
    description: str = Field(default="", max_length=1000)
    conversions: list[UnitConversionIn] | None = Field(
        default=None, description="Item-specific units: 1 `unit` = `factor` base units."
    )
    active: bool = True
    measure: Measure = Field(
        default=Measure.count, description="count, or continuous material by length or weight."
    )
    min_usable: Positive | None = Field(
        default=None, description="Shortest length (or weight) left on a reel that is still stock."
    )

    @field_validator("gtin")
    @classmethod
    def _gtin_check_digit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = [int(c) for c in value.zfill(14)]
        total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:13]))
        if (10 - total % 10) % 10 != digits[13]:
            raise ValueError("the GTIN check digit is wrong")
        return value

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not key or len(key) > 64:
                raise ValueError("attribute names are 1 to 64 characters")
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in value.items()}


class ConversionOut(_Out):
    unit: str
    factor: Decimal


class ItemOut(_Out):
    code: str
    name: str
    type: ItemType
    base_unit: str
    tracking: Tracking
    shelf_life_days: int | None
    standard_cost: Decimal
    gtin: str | None
    attributes: dict[str, Any]
    description: str
    conversions: list[ConversionOut]
    active: bool
    measure: Measure
    min_usable: Decimal | None


# --- locations ---------------------------------------------------------------------------


class LocationIn(_In):
    code: Code
    name: Name
    kind: LocationKind
    parent: Code | None = Field(default=None, description="The parent's code; none for a site.")
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    active: bool = True

    @model_validator(mode="after")
    def _site_has_no_parent(self) -> LocationIn:
        if self.kind is LocationKind.site and self.parent is not None:
            raise ValueError("a site has no parent")
        if self.kind is not LocationKind.site and self.parent is None:
            raise ValueError(f"a {self.kind.value} needs a parent location")
        return self


class LocationOut(_Out):
    code: str
    name: str
    kind: LocationKind
    parent: str | None
    site: str | None
    path: str
    timezone: str
    active: bool


# --- calendars, workstations, people -----------------------------------------------------


class ShiftIn(_In):
    name: Tag
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: dt.time = Field(validation_alias=AliasChoices("start", "start_time"))
    end: dt.time = Field(
        validation_alias=AliasChoices("end", "end_time"),
        description="Before `start` means the shift runs past midnight.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> ShiftIn:
        if self.start == self.end:
            raise ValueError("a shift must not start and end at the same time")
        return self


class HolidayIn(_In):
    date: dt.date
    name: str = Field(default="", max_length=200)


class CalendarIn(_In):
    code: Code
    name: Name
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    shifts: list[ShiftIn] | None = None
    holidays: list[HolidayIn] | None = None
    active: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone such as 'Europe/Paris'") from exc
        return value


class ShiftOut(_Out):
    name: str
    weekday: int
    start: dt.time
    end: dt.time


class HolidayOut(_Out):
    date: dt.date
    name: str


class CalendarOut(_Out):
    code: str
    name: str
    timezone: str
    shifts: list[ShiftOut]
    holidays: list[HolidayOut]
    active: bool


class WorkstationIn(_In):
    code: Code
    name: Name
    kind: Tag = Field(description="The kind of workstation a route step asks for, e.g. 'cutter'.")
    location: Code | None = Field(default=None, description="A location of kind workstation.")
    operations: list[Tag] = Field(default_factory=list)
    capacity: int = Field(default=1, ge=1, le=1000)
    hourly_rate: NonNegative = Decimal(0)
    calendar: Code | None = None
    active: bool = True


class WorkstationOut(_Out):
    code: str
    name: str
    kind: str
    location: str | None
    operations: list[str]
    capacity: int
    hourly_rate: Decimal
    calendar: str | None
    active: bool


class PersonIn(_In):
    code: Code
    name: Name
    badge_code: Code | None = None
    skills: list[Tag] = Field(default_factory=list)
    hourly_rate: NonNegative = Decimal(0)
    shift: Tag | None = None
    calendar: Code | None = None
    user_id: int | None = Field(
        default=None, ge=1, le=bounds.MAX_ID, description="The person's sign-in user."
    )
    active: bool = True


class PersonOut(_Out):
    code: str
    name: str
    badge_code: str | None
    skills: list[str]
    hourly_rate: Decimal
    shift: str | None
    calendar: str | None
    user_id: int | None
    active: bool


# --- routes ------------------------------------------------------------------------------


class StepInputIn(_In):
    item: Code
    quantity_per: Positive = Field(description="Per unit of the step's output, in base units.")
    floor_stock: bool = False
    cut_length: Positive | None = Field(
        default=None, description="Length of one piece cut from a reel, for continuous material."
    )


class StepOutputIn(_In):
    item: Code
    kind: OutputKind = OutputKind.main
    quantity_per: Positive = Decimal(1)


class RouteStepIn(_In):
    sequence: int = Field(ge=0, le=1_000_000)
    operation: Tag
    name: str = Field(default="", max_length=200)
    workstation_kind: Tag | None = None
    skill: Tag | None = None
    setup_minutes: Minutes = Decimal(0)
    run_minutes: Minutes = Decimal(0)
    run_basis: RunBasis = RunBasis.unit
    cleanup_minutes: Minutes = Decimal(0)
    inputs: list[StepInputIn] = Field(default_factory=list)
    outputs: list[StepOutputIn] = Field(default_factory=list)

    @field_validator("outputs")
    @classmethod
    def _one_main_output(cls, outputs: list[StepOutputIn]) -> list[StepOutputIn]:
        # A step without a main output could be started but never stopped (nothing to make).
        if sum(1 for o in outputs if o.kind is OutputKind.main) != 1:
            raise PydanticCustomError(
                "main_output",
                "a step needs exactly one main output, else it can never be stopped",
                {"expected": "exactly one output of kind 'main'"},
            )
        return outputs


class RouteIn(_In):
    code: Code
    name: str = Field(default="", max_length=200)
    item: Code = Field(description="The item this route makes.")
    revision: str = Field(default="1", min_length=1, max_length=20)
    batch_size: Positive = Decimal(1)
    steps: list[RouteStepIn] = Field(min_length=1)
    active: bool = True

    @model_validator(mode="after")
    def _unique_sequences(self) -> RouteIn:
        seen = [s.sequence for s in self.steps]
        if len(seen) != len(set(seen)):
            raise ValueError("step sequences must be unique")
        self.steps.sort(key=lambda s: s.sequence)
        last_main = [o for o in self.steps[-1].outputs if o.kind is OutputKind.main]
        if last_main and last_main[0].item != self.item:
            raise ValueError(f"the last step's main output must be the route's item {self.item}")
        return self


class StepInputOut(_Out):
    item: str
    quantity_per: Decimal
    floor_stock: bool
    cut_length: Decimal | None = None


class StepOutputOut(_Out):
    item: str
    kind: OutputKind
    quantity_per: Decimal


class RouteStepOut(_Out):
    sequence: int
    operation: str
    name: str
    workstation_kind: str | None
    skill: str | None
    setup_minutes: Decimal
    run_minutes: Decimal
    run_basis: RunBasis
    cleanup_minutes: Decimal
    inputs: list[StepInputOut]
    outputs: list[StepOutputOut]


class RouteOut(_Out):
    code: str
    name: str
    item: str
    revision: str
    batch_size: Decimal
    steps: list[RouteStepOut]
    active: bool


# --- partners ----------------------------------------------------------------------------


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR")]


class CustomerIn(_In):
    code: Code
    name: Name
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    ship_to: str = Field(default="", max_length=500)
    active: bool = True


class CustomerOut(_Out):
    code: str
    name: str
    email: str | None
    phone: str | None
    ship_to: str
    active: bool


class SupplierItemNested(_In):
    """A supplier item given inside its supplier."""

    item: Code
    supplier_item_code: str | None = Field(default=None, max_length=64)
    lead_time_days: int = Field(default=0, ge=0, le=3650)
    min_order_qty: NonNegative = Decimal(0)
    order_multiple: NonNegative = Decimal(0)
    price: NonNegative = Decimal(0)
    currency: Currency = "EUR"
    preferred: bool = False
    valid_from: dt.date | None = None


class _OfSupplier(_In):
    supplier: Code


class SupplierItemIn(SupplierItemNested, _OfSupplier):
    """What one supplier sells of one item."""

    # The bases in this order keep `supplier` the first field (pydantic takes the MRO's last
    # base first), as on the import sheet and in the order of validation errors.


class SupplierIn(_In):
    code: Code
    name: Name
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    currency: Currency = "EUR"
    items: list[SupplierItemNested] | None = Field(
        default=None, description="Given: replaces what the supplier sells; left out: unchanged."
    )
    active: bool = True

    @model_validator(mode="after")
    def _unique_items(self) -> SupplierIn:
        codes = [i.item for i in self.items or []]
        if len(codes) != len(set(codes)):
            raise ValueError("an item appears twice in the supplier's items")
        return self


class SupplierItemOut(_Out):
    supplier: str
    item: str
    supplier_item_code: str | None
    lead_time_days: int
    min_order_qty: Decimal
    order_multiple: Decimal
    price: Decimal
    currency: str
    preferred: bool
    valid_from: dt.date | None


class SupplierOut(_Out):
    code: str
    name: str
    email: str | None
    phone: str | None
    currency: str
    items: list[SupplierItemOut]
    active: bool


# --- import ------------------------------------------------------------------------------


class RowError(BaseModel):
    """One thing wrong with one row of an import."""

    row: int = Field(description="1 = the first record (the first data line after a CSV header).")
    field: str
    message: str
    expected: str


class ImportResult(BaseModel):
    """What an import did: it is all or nothing, so either this or a list of row errors."""

    kind: str
    rows: int
    created: int
    updated: int
