"""Planning tables: the stored projection per item, the dirty marks and cursors that keep it fresh.

The projection is a read model: it is rebuilt from orders, jobs and the ledger, never typed in.
Events mark the items they touch dirty (read from the ledger, production and order event logs
after a cursor); a refresh recomputes only the dirty items.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import Exact, JsonType, UtcDateTime


class ItemProjection(Base):
    """The time-phased projection of one item, its pegging and its first shortage."""

    __tablename__ = "plan_item_projection"

    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), primary_key=True)
    on_hand: Mapped[Decimal] = mapped_column(Exact)
    end_quantity: Mapped[Decimal] = mapped_column(Exact)
    first_shortage_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    shortage_quantity: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    pegging: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class DirtyItem(Base):
    """An item whose projection is stale: an event touched its supply, demand or stock."""

    __tablename__ = "plan_dirty_item"

    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), primary_key=True)
    marked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class PlanCursor(Base):
    """How far the planner has read an event log (ledger, production, orders)."""

    __tablename__ = "plan_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)


class PriceBreak(Base):
    """A lower unit price from a quantity on, for what a supplier sells of an item."""

    __tablename__ = "plan_price_break"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_item_id: Mapped[int] = mapped_column(
        ForeignKey("md_supplier_item.id", ondelete="CASCADE"), index=True
    )
    min_quantity: Mapped[Decimal] = mapped_column(Exact)
    price: Mapped[Decimal] = mapped_column(Exact)

    __table_args__ = (CheckConstraint("min_quantity > 0 AND price >= 0", name="non_negative"),)
