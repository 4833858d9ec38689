"""Tables of the distribution centre: announced pallets, customers' shipping terms and waves.

Material itself stays in the ledger; these rows only say what a supplier announced (to compare
with what arrives) and how ship orders are grouped for picking.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import Exact, JsonType, UtcDateTime, enum_column


class PalletStatus(enum.StrEnum):
    advised = "advised"
    received = "received"


class WaveStatus(enum.StrEnum):
    released = "released"
    picking = "picking"
    shipped = "shipped"


class CustomerTerms(Base):
    """How a customer wants its goods: the carrier that collects, the daily cut-off (site
    time, HH:MM) and whether packs carry GS1 labels (SSCC for packages)."""

    __tablename__ = "dc_customer_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("md_customer.id"), unique=True)
    carrier: Mapped[str] = mapped_column(String(40))
    cutoff: Mapped[str] = mapped_column(String(5))
    gs1_labels: Mapped[bool] = mapped_column(Boolean, default=False)


class DespatchAdvice(Base):
    """A supplier's despatch advice (advance shipping notice): the pallets on their way."""

    __tablename__ = "dc_advice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("md_supplier.id"))
    source: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class AdvisedPallet(Base):
    """One announced pallet (by its SSCC) and, once scanned at the dock, how it was received."""

    __tablename__ = "dc_advised_pallet"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advice_id: Mapped[int] = mapped_column(ForeignKey("dc_advice.id"), index=True)
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    status: Mapped[PalletStatus] = mapped_column(enum_column(PalletStatus), index=True)
    received_event_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_event.id"))
    received_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    received_by: Mapped[str | None] = mapped_column(String(100))
    differences: Mapped[list[dict[str, str]]] = mapped_column(JsonType, default=list)


class AdvisedCase(Base):
    """A line of an announced pallet: a case (by its code) holding item, lot and quantity."""

    __tablename__ = "dc_advised_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pallet_id: Mapped[int] = mapped_column(ForeignKey("dc_advised_pallet.id"), index=True)
    case_code: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    lot: Mapped[str | None] = mapped_column(String(64))
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(Exact)
    unit_cost: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))


class Wave(Base):
    """Released ship orders of one carrier and cut-off, picked together zone by zone."""

    __tablename__ = "dc_wave"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    carrier: Mapped[str] = mapped_column(String(40))
    cutoff: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[WaveStatus] = mapped_column(enum_column(WaveStatus), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class WaveOrder(Base):
    """A ship order in a wave (a ship order is in at most one wave)."""

    __tablename__ = "dc_wave_order"
    __table_args__ = (UniqueConstraint("ship_order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("dc_wave.id"), index=True)
    ship_order_id: Mapped[int] = mapped_column(ForeignKey("ord_ship_order.id"))
    tote: Mapped[str | None] = mapped_column(String(64))
    package: Mapped[str | None] = mapped_column(String(64))
