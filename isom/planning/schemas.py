"""What the planning API answers: projections with pegging, net requirements, refresh counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from isom.ledger.schemas import Code, NonNegative, Positive


class ProjectionEntry(BaseModel):
    date: dt.date
    kind: str
    ref: str
    quantity: Decimal
    balance: Decimal


class PegView(BaseModel):
    demand: str
    demand_date: dt.date
    quantity: Decimal
    supply: str | None
    supply_date: dt.date | None
    late: bool


class ProjectionView(BaseModel):
    """An item's time-phased projection: balance after each movement, pegging, first shortage."""

    item: str
    unit: str
    today: dt.date
    on_hand: Decimal
    end_quantity: Decimal
    first_shortage_date: dt.date | None
    shortage_quantity: Decimal
    entries: list[ProjectionEntry]
    pegging: list[PegView]
    piece_length: Decimal | None = Field(
        default=None, description="Cut length, for material cut from reels: counts in pieces."
    )
    shortage_pieces: int | None = Field(
        default=None, description="The shortage in whole pieces of the cut length."
    )


class ShortageRow(BaseModel):
    item: str
    first_shortage_date: dt.date
    shortage_quantity: Decimal
    on_hand: Decimal
    computed_at: dt.datetime
    piece_length: Decimal | None = None
    shortage_pieces: int | None = None


class PlannedOrderView(BaseModel):
    item: str
    action: str
    quantity: Decimal
    due_date: dt.date
    demand: str
    parent_item: str | None
    parent_step: int | None


class LateSupplyView(BaseModel):
    item: str
    demand: str
    supply: str
    needed: dt.date
    arrives: dt.date


class NetView(BaseModel):
    """Netting's answer: what to make and buy for which demand, and supply that comes late."""

    today: dt.date
    planned: list[PlannedOrderView]
    late: list[LateSupplyView]


class RefreshResult(BaseModel):
    full: bool
    items: int


class PriceBreakIn(BaseModel):
    """From `min_quantity` on, a unit costs `price`."""

    model_config = ConfigDict(extra="forbid")

    min_quantity: Positive
    price: NonNegative


class PriceBreaksIn(BaseModel):
    """The price breaks of what a supplier sells of an item (replacing the ones before)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    supplier: Code
    item: Code
    breaks: list[PriceBreakIn] = Field(max_length=50)


class PriceBreaksView(BaseModel):
    supplier: str
    item: str
    list_price: Decimal
    breaks: list[PriceBreakIn]
