"""Order commands (API, imports, webhook, agents) and what the order domain answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from isom.ledger.schemas import Code, Command, NonNegative, Positive
from isom.orders.models import Priority

OrderNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
        description="An order number: letters, digits, '.', '_', '-'.",
    ),
]
LineNo = Annotated[int, Field(gt=0, le=100_000)]
Source = Annotated[
    str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
]
ExternalRef = Annotated[str, Field(min_length=1, max_length=100)]


class _Command(Command):
    """An order command: the ledger's, with surrounding blanks taken off its text."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _unique_line_numbers(lines: list[Any]) -> None:
    numbers = [line.line_no for line in lines if line.line_no is not None]
    if len(numbers) != len(set(numbers)):
        raise ValueError("line numbers must be unique within an order")


# --- customer orders ---------------------------------------------------------------------


class CustomerLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    line_no: LineNo | None = Field(default=None, description="Defaults to the next number.")
    item: Code
    quantity: Positive
    due_date: dt.date


class CreateCustomerOrder(_Command):
    """A customer order with its lines; upserts by `number`, or by `source` + `external_ref`."""

    number: OrderNumber | None = Field(default=None, description="Generated (SO-...) if absent.")
    customer: Code
    source: Source = Field(default="manual", description="Where the order came from.")
    external_ref: ExternalRef | None = Field(
        default=None, description="The ERP's or shop's id of the order, unique per source."
    )
    priority: Priority = Priority.normal
    allow_partial: bool = Field(default=True, description="May ship in several shipments.")
    ship_to: str | None = Field(
        default=None, max_length=500, description="Defaults to the customer's address."
    )
    note: str = Field(default="", max_length=1000)
    site: Code | None = Field(
        default=None,
        description="The site that serves the order (its code); defaults to the caller's only "
        "site, else the first site. A caller spanning sites (the ERP) names it here.",
    )
    lines: list[CustomerLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _lines_unique(self) -> CreateCustomerOrder:
        _unique_line_numbers(self.lines)
        return self


class ChangeLine(_Command):
    """Change the quantity or due date of one line of an order (either kind)."""

    order: OrderNumber
    line_no: LineNo
    quantity: Positive | None = None
    due_date: dt.date | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.quantity is None and self.due_date is None:
            raise ValueError("give a new quantity or a new due_date")
        return self


class ChangeCustomerLine(ChangeLine):
    """Change the quantity or due date of an open customer line."""


class CancelCustomerOrder(_Command):
    """Cancel a whole customer order, or one line of it when `line_no` is given."""

    order: OrderNumber
    line_no: LineNo | None = None
    reason: str = Field(min_length=1, max_length=500)


# --- purchase orders ---------------------------------------------------------------------


class PurchaseLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    line_no: LineNo | None = Field(default=None, description="Defaults to the next number.")
    item: Code
    quantity: Positive
    due_date: dt.date | None = Field(
        default=None, description="Defaults to today plus the supplier's lead time."
    )
    unit_price: NonNegative | None = Field(
        default=None, description="Defaults to the supplier's price list."
    )


class CreatePurchaseOrder(_Command):
    """A purchase order to one supplier; it starts as proposed until a buyer approves it."""

    number: OrderNumber | None = Field(default=None, description="Generated (PO-...) if absent.")
    supplier: Code
    source: Source = "manual"
    external_ref: ExternalRef | None = None
    note: str = Field(default="", max_length=1000)
    approve: bool = Field(default=False, description="Approve at once.")
    lines: list[PurchaseLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _lines_unique(self) -> CreatePurchaseOrder:
        _unique_line_numbers(self.lines)
        return self


class PurchaseOrderAction(_Command):
    """Approve, send, cancel or close a purchase order."""

    order: OrderNumber
    reason: str | None = Field(default=None, max_length=500)


class ChangePurchaseLine(ChangeLine):
    """Change the quantity or due date of a purchase line not yet fully received."""


class ReceivePurchaseLine(_Command):
    """A labelled container arrives against a PO line, with the supplier's lot and expiry."""

    order: OrderNumber
    line_no: LineNo
    quantity: Positive
    location: Code = Field(description="Where the container is put down (the receiving dock).")
    container: Code | None = Field(
        default=None, description="The scanned label; generated if absent."
    )
    container_kind: str = Field(default="box", min_length=1, max_length=30)
    lot: Code | None = Field(
        default=None, description="Our lot code; defaults to the supplier lot."
    )
    supplier_lot: str | None = Field(default=None, max_length=64)
    expiry_date: dt.date | None = None


class SetReceiptTolerance(_Command):
    """How far a receipt may go over, and how far under still closes the line, in percent."""

    over_percent: Annotated[Decimal, Field(ge=0, le=1000, max_digits=9, decimal_places=4)]
    under_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=9, decimal_places=4)]


# --- reservations, ship orders, picking, packing, shipping -------------------------------


class ReserveCommand(_Command):
    """Set stock aside for a customer line: from one container, or first-expiry-first-out."""

    order: OrderNumber
    line_no: LineNo
    container: Code | None = Field(default=None, description="Reserve from this container.")
    lot: Code | None = None
    quantity: Positive | None = Field(
        default=None, description="Defaults to what the line still needs."
    )


class UnreserveCommand(_Command):
    """Give back what a line reserved (from one container, or all of it)."""

    order: OrderNumber
    line_no: LineNo
    container: Code | None = None


class ShipLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line_no: LineNo
    quantity: Positive | None = Field(default=None, description="Defaults to the open quantity.")


class CreateShipOrder(_Command):
    """Release (part of) a customer order for shipping; its pick list is made at once."""

    order: OrderNumber
    number: OrderNumber | None = Field(default=None, description="Generated (SH-...) if absent.")
    lines: list[ShipLineIn] | None = Field(
        default=None, description="Defaults to every open line with its open quantity."
    )


class PickScan(_Command):
    """A picker scans a container of the pick list (and the tote the goods go into)."""

    ship_order: OrderNumber
    container: Code
    quantity: Positive | None = Field(
        default=None, description="Defaults to the pick list's quantity for this container."
    )
    into: Code | None = Field(
        default=None,
        description="The tote (existing, or a new label) part of the container goes into.",
    )


class PackCommand(_Command):
    """Put a picked container into a shipping container (carton, pallet)."""

    ship_order: OrderNumber
    container: Code
    package: Code | None = Field(default=None, description="An existing shipping container.")
    package_kind: str = Field(default="carton", min_length=1, max_length=30)


class ShipShipOrder(_Command):
    """Ship the packed shipping containers of a ship order; what ships leaves inventory."""

    ship_order: OrderNumber
    reference: str | None = Field(default=None, max_length=100)


class CancelShipOrder(_Command):
    """Cancel a ship order that has not shipped; nothing picked stays bound to it."""

    ship_order: OrderNumber
    reason: str = Field(min_length=1, max_length=500)


# --- answers -----------------------------------------------------------------------------


class OrderResult(BaseModel):
    """What an order command answers; a replay of the same key answers exactly this again."""

    event_id: int = 0
    key: str = ""
    kind: str = ""
    replayed: bool = False
    number: str = ""
    status: str = ""
    detail: dict[str, Any] = {}


class CustomerLineView(BaseModel):
    line_no: int
    reference: str
    item: str
    quantity: Decimal
    due_date: dt.date
    status: str
    quantity_reserved: Decimal
    quantity_shipped: Decimal
    quantity_open: Decimal


class CustomerOrderView(BaseModel):
    number: str
    customer: str
    source: str
    external_ref: str | None
    priority: str
    allow_partial: bool
    ship_to: str
    status: str
    note: str
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: list[CustomerLineView]


class PurchaseLineView(BaseModel):
    line_no: int
    reference: str
    item: str
    quantity: Decimal
    due_date: dt.date
    unit_price: Decimal
    amount: Decimal
    status: str
    quantity_received: Decimal
    quantity_open: Decimal


class PurchaseOrderView(BaseModel):
    number: str
    supplier: str
    source: str
    external_ref: str | None
    currency: str
    status: str
    note: str
    created_at: dt.datetime
    approved_at: dt.datetime | None
    approved_by: str | None
    sent_at: dt.datetime | None
    total: Decimal
    lines: list[PurchaseLineView]


class PickView(BaseModel):
    sequence: int
    line_no: int
    item: str
    lot: str | None
    expiry_date: dt.date | None
    container: str
    location: str | None
    quantity: Decimal
    whole_container: bool
    status: str
    picked_quantity: Decimal
    picked_container: str | None
    package: str | None


class ShipLineView(BaseModel):
    line_no: int
    item: str
    quantity: Decimal
    quantity_picked: Decimal
    quantity_shipped: Decimal


class ShipOrderView(BaseModel):
    number: str
    customer_order: str
    customer: str
    status: str
    ship_to: str
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    lines: list[ShipLineView]
    picks: list[PickView]
    packages: list[str]


class WebhookResult(BaseModel):
    """The webhook's answer: the order it made or found."""

    number: str
    external_ref: str
    status: str
    replayed: bool


class WebhookSourceIn(BaseModel):
    """Register a shop that may post orders, with its signing secret."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Source
    secret: str = Field(min_length=16, max_length=200)
    default_customer: Code | None = None


class CancelPurchaseLine(_Command):
    """Cancel one purchase line on which nothing has been received (a plan no longer needs it)."""

    order: OrderNumber
    line_no: LineNo
    reason: str | None = Field(default=None, max_length=500)
