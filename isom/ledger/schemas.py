"""Commands the ledger accepts and its answers, validated at every edge (API, CLI, devices)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from isom.ledger.models import ContentStatus
from isom.types import PlainDecimal

Code = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$",
        description="A printable code: letters, digits, '.', '_', '-', '/'.",
    ),
]
StepRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=90,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$",
        description="The work-order step, e.g. 'WO-1001/20'.",
    ),
]
#: The largest id the stores keep (a signed 64-bit integer); a larger one names nothing.
MAX_ID = 2**63 - 1
Positive = Annotated[PlainDecimal, Field(gt=0, max_digits=18, decimal_places=6)]
NonNegative = Annotated[PlainDecimal, Field(ge=0, max_digits=18, decimal_places=6)]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """Refuse a time without a zone: which instant it means would be a guess."""
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-11-27T10:00:00Z")
    return value


#: When something happened, as a command or a device event says it: a time with a zone.
OccurredAt = Annotated[dt.datetime | None, AfterValidator(_aware)]


class AdjustReason(enum.StrEnum):
    damaged = "damaged"
    found = "found"
    lost = "lost"
    correction = "correction"
    sample = "sample"
    expired = "expired"
    remnant = "remnant"  # what a cut leaves on a reel, too short to use
    other = "other"


class Command(BaseModel):
    """What every command carries: when it happened, in UTC (a time without a zone is refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    occurred_at: OccurredAt = Field(
        default=None,
        description="When it happened on the device (UTC); defaults to when it is recorded.",
    )


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    supplier_lot: str | None = Field(default=None, max_length=64)
    expiry_date: dt.date | None = None


class ReceiveLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item: Code
    lot: LotIn | None = None
    quantity: Positive
    unit: str | None = Field(
        default=None, max_length=20, description="Defaults to the item's base unit."
    )
    unit_cost: NonNegative = Field(default=Decimal(0), description="Cost per unit given in `unit`.")


class ReceiveCommand(Command):
    """A new labelled container arrives with lines of item, lot, quantity and cost."""

    container: Code | None = Field(default=None, description="Label code; generated when absent.")
    container_kind: str = Field(default="box", min_length=1, max_length=30)
    location: Code
    supplier: Code | None = None
    reference: str | None = Field(default=None, max_length=100, description="e.g. the PO number")
    lines: list[ReceiveLine] = Field(min_length=1, max_length=200)


class CreateContainerCommand(Command):
    """Register an empty container (a tote, a pallet) with its label code at a location."""

    container: Code | None = Field(default=None, description="Label code; generated when absent.")
    container_kind: str = Field(default="pallet", min_length=1, max_length=30)
    location: Code


class MoveCommand(Command):
    """Put away or move a container (and everything nested in it) to a location."""

    container: Code
    to_location: Code


class NestCommand(Command):
    """Put a container into or onto another (box onto pallet); it takes the parent's location."""

    container: Code
    parent: Code


class UnnestCommand(Command):
    """Take a container off its parent, leaving it where the parent is or at `to_location`."""

    container: Code
    to_location: Code | None = None


class LineRef(BaseModel):
    """Which line of a container: item, and lot/status/WIP step where needed to tell lines apart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: Code
    lot: Code | None = None
    status: ContentStatus | None = None
    wip_step: StepRef | None = None


class QuantityLine(LineRef):
    quantity: Positive


class SplitCommand(Command):
    """Take part of a container's contents into a new (or an existing) container."""

    container: Code
    into: Code | None = Field(default=None, description="An existing container to split into.")
    new_container: Code | None = Field(default=None, description="Code for the new container.")
    container_kind: str = Field(default="box", min_length=1, max_length=30)
    lines: list[QuantityLine] = Field(min_length=1, max_length=200)


class MergeCommand(Command):
    """Empty a container into another; like lines combine at their weighted average cost."""

    container: Code
    into: Code


class AdjustCommand(Command, LineRef):
    """Correct a quantity up or down, with a reason code."""

    container: Code
    quantity_delta: Annotated[PlainDecimal, Field(max_digits=18, decimal_places=6)]
    reason_code: AdjustReason
    reason: str | None = Field(default=None, max_length=500)

    @field_validator("quantity_delta")
    @classmethod
    def _non_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("must not be zero")
        return value


class CountCommand(Command, LineRef):
    """Record a physical count; the difference to the book quantity is posted as an adjustment."""

    container: Code
    counted_quantity: NonNegative


class HoldCommand(Command):
    """Quarantine everything in a container (and what is nested in it)."""

    container: Code
    reason: str = Field(min_length=1, max_length=500)


class ReleaseCommand(Command):
    """Lift a hold."""

    container: Code
    reason: str | None = Field(default=None, max_length=500)


class ConsumeCommand(Command, LineRef):
    """Material leaves a container into a work-order step."""

    container: Code
    quantity: Positive
    step: StepRef


class ProduceCommand(Command):
    """Material comes out of a work-order step into a container (new or existing)."""

    step: StepRef
    item: Code
    lot: LotIn | None = None
    quantity: Positive
    unit_cost: NonNegative | None = Field(default=None, description="Defaults to standard cost.")
    wip: bool = Field(default=False, description="Output stays WIP of this step (not yet stock).")
    container: Code | None = Field(default=None, description="An existing container to fill.")
    new_container: Code | None = None
    container_kind: str = Field(default="box", min_length=1, max_length=30)
    location: Code | None = Field(default=None, description="Where a new container is made.")


class ScrapCommand(Command, LineRef):
    """Material leaves a container as scrap."""

    container: Code
    quantity: Positive
    reason_code: AdjustReason = AdjustReason.damaged
    reason: str | None = Field(default=None, max_length=500)


class ReturnCommand(Command):
    """Unused material of a work-order step back to plain stock.

    From the step's place (material consumed and not used) when `container` is not given, or
    from a line of `container` tagged with the step (its WIP output). It lands in `into`, in a
    new container at `location`, or, for a tagged line with no target, stays in its container
    as plain stock.
    """

    step: StepRef
    item: Code
    lot: Code | None = None
    quantity: Positive
    container: Code | None = Field(default=None, description="A container holding WIP of step.")
    into: Code | None = Field(default=None, description="An existing container to return into.")
    new_container: Code | None = Field(default=None, description="Code for a new container.")
    container_kind: str = Field(default="box", min_length=1, max_length=30)
    location: Code | None = Field(default=None, description="Where a new container is made.")
    reason: str | None = Field(default=None, max_length=500)


class ShipCommand(Command):
    """A container (with everything nested in it) leaves to a customer."""

    container: Code
    customer: Code
    reference: str | None = Field(default=None, max_length=100)


class ReverseCommand(Command):
    """Correct a wrong event by applying its opposite; history is never edited."""

    event_id: int = Field(gt=0, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=500)


class EventResult(BaseModel):
    """What an applied event answers; a replay of the same key answers exactly this again."""

    event_id: int
    key: str
    kind: str
    replayed: bool = False
    containers: list[str] = []
    lines: list[dict[str, Any]] = []
    balances: list[dict[str, Any]] = []
    detail: dict[str, Any] = {}


class ApproveCountCommand(BaseModel):
    """Apply a count that waited for approval (the ledger event's command, for its replay)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    proposal: int = Field(gt=0, le=MAX_ID)


class RejectCount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1, max_length=500)


class CountRuleIn(BaseModel):
    """A site's count tolerance: a count moving the book by at most `tolerance_quantity`, or
    by at most `tolerance_percent` of it, applies at once; a larger one awaits approval unless
    the person counting holds one of `exceed_roles`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tolerance_quantity: NonNegative = Decimal(0)
    tolerance_percent: Annotated[PlainDecimal, Field(ge=0, le=100, decimal_places=6)] = Decimal(5)
    exceed_roles: list[Code] = Field(default=["supervisor"], max_length=20)


class CountRuleView(CountRuleIn):
    site: str
    default: bool = False


class CountProposalView(BaseModel):
    id: int
    status: str
    container: str
    location: str | None
    item: str
    lot: str | None
    book: Decimal
    counted: Decimal
    delta: Decimal
    requested_by: str
    requested_at: dt.datetime
    count_event_id: int
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None
    applied_event_id: int | None
