"""Commands and views of the distribution centre, validated at every edge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from isom.ledger.schemas import Code, Command, NonNegative, Positive


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AdvisedCaseIn(_In):
    """One line of an announced pallet: a case and what it holds."""

    case: Code
    item: Code
    lot: Code | None = None
    expiry_date: dt.date | None = None
    quantity: Positive
    unit_cost: NonNegative | None = Field(
        default=None, description="Per base unit; defaults to the item's standard cost."
    )


class AdvisedPalletIn(_In):
    sscc: str = Field(pattern=r"^\d{18}$", description="The pallet's SSCC (18 digits).")
    cases: list[AdvisedCaseIn] = Field(min_length=1, max_length=500)


class AdviceIn(Command):
    """A supplier's despatch advice: the pallets (by SSCC) on their way, case by case."""

    number: Code
    supplier: Code | None = None
    source: Literal["api", "epcis", "csv"] = Field(default="api", description="How it came.")
    pallets: list[AdvisedPalletIn] = Field(min_length=1, max_length=200)


class CountedCase(_In):
    case: Code
    quantity: NonNegative


class ReceiveSscc(Command):
    """A pallet scanned at the dock: its SSCC (as scanned), where, and what the clerk saw
    differently from the advice (cases missing, cases counted to another quantity)."""

    scan: str = Field(min_length=1, max_length=200, description="The pallet label as scanned.")
    location: Code
    missing_cases: list[Code] = Field(default=[], max_length=500)
    counted: list[CountedCase] = Field(default=[], max_length=500)


class Difference(BaseModel):
    case: str
    item: str
    advised: Decimal
    received: Decimal
    kind: str  # missing | short | over


class PalletView(BaseModel):
    sscc: str
    advice: str
    supplier: str | None
    status: str
    cases: list[dict[str, str | None]]
    differences: list[dict[str, str]]
    received_at: dt.datetime | None = None
    received_by: str | None = None
