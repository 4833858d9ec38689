"""The container ledger: immutable events and their lines, then the projections kept beside them.

`ledger_event`, `ledger_event_line` and `ledger_event_move` are the truth and are never updated
or deleted. `ledger_container` (location, parent, status), `ledger_content`, `ledger_balance`
and `ledger_genealogy` are projections written in the same transaction, and
`isom ledger verify` rebuilds them from the events.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.ledger.enums import ContainerStatus as ContainerStatus
from isom.ledger.enums import ContentStatus as ContentStatus
from isom.ledger.enums import CountProposalStatus as CountProposalStatus
from isom.ledger.enums import EventKind as EventKind
from isom.outbox import Outbox as Outbox  # the platform's outbox, re-exported for readers
from isom.types import Exact, JsonType, UtcDateTime, enum_column, utcnow


class Event(Base):
    """One applied change of material: who, when, where, which device, why, and its key."""

    __tablename__ = "ledger_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    actor: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id"))
    device: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(100))
    reverses_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_event.id"), unique=True
    )
    command: Mapped[dict[str, Any]] = mapped_column(JsonType)
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Container(Base):
    """A tracked unit (tote, box, pallet, reel, drum, virtual bulk). Its location is effective:
    a nested container carries its outermost parent's location, so inventory by location is one
    indexed query."""

    __tablename__ = "ledger_container"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="box")
    status: Mapped[ContainerStatus] = mapped_column(
        enum_column(ContainerStatus), default=ContainerStatus.active
    )
    location_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    created_event_id: Mapped[int] = mapped_column(ForeignKey("ledger_event.id"))
    updated_event_id: Mapped[int] = mapped_column(ForeignKey("ledger_event.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Lot(Base):
    """A lot (or serial number) of an item, with where it came from and when it expires."""

    __tablename__ = "ledger_lot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    code: Mapped[str] = mapped_column(String(64))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("md_supplier.id"))
    supplier_lot: Mapped[str | None] = mapped_column(String(64))
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    created_event_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_event.id"))

    __table_args__ = (UniqueConstraint("item_id", "code"),)


class _Held:
    """Material by its key (item, lot, status, WIP step) at a quantity and unit cost: what an
    event line moves and a content row holds. The columns follow each table's own."""

    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"))
    status: Mapped[ContentStatus] = mapped_column(enum_column(ContentStatus))
    wip_step: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Exact)
    unit_cost: Mapped[Decimal] = mapped_column(Exact)


class EventLine(_Held, Base):
    """A signed quantity at a place. Every event's lines sum to zero per item.

    The place is a container, or a virtual place naming the outside world: `supplier:<code>`,
    `customer:<code>`, `scrap`, `adjustment`, `step:<work order step>`.
    """

    __tablename__ = "ledger_event_line"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ledger_event.id"), index=True)
    container_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    place: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("(container_id IS NULL) <> (place IS NULL)", name="container_xor_place"),
        Index("ix_ledger_event_line_container", "container_id", "event_id"),
        Index("ix_ledger_event_line_lot", "lot_id", "event_id"),
        Index("ix_ledger_event_line_place", "place"),
    )


class EventMove(Base):
    """Where an event put a container: its new location, parent and status."""

    __tablename__ = "ledger_event_move"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ledger_event.id"), index=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("ledger_container.id"))
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    from_parent_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    to_parent_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    from_status: Mapped[ContainerStatus | None] = mapped_column(enum_column(ContainerStatus))
    to_status: Mapped[ContainerStatus | None] = mapped_column(enum_column(ContainerStatus))

    __table_args__ = (Index("ix_ledger_event_move_container", "container_id", "event_id"),)


class Content(_Held, Base):
    """What a container holds now: item, lot, status and WIP step -> quantity at a unit cost."""

    __tablename__ = "ledger_content"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("ledger_container.id"))

    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_non_negative"),)


Index(
    "uq_ledger_content_key",
    Content.container_id,
    Content.item_id,
    func.coalesce(Content.lot_id, 0),
    Content.status,
    func.coalesce(Content.wip_step, ""),
    unique=True,
)


class Balance(Base):
    """Inventory: quantity of an item per location, lot and status (projected from contents)."""

    __tablename__ = "ledger_balance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("md_location.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"), index=True)
    status: Mapped[ContentStatus] = mapped_column(enum_column(ContentStatus))
    quantity: Mapped[Decimal] = mapped_column(Exact)

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        Index(
            "uq_ledger_balance_key",
            "location_id",
            "item_id",
            func.coalesce(lot_id, 0),
            "status",
            unique=True,
        ),
    )


class Genealogy(Base):
    """An edge of traceability: material of one lot/container went into another, by an event."""

    __tablename__ = "ledger_genealogy"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ledger_event.id"), index=True)
    from_lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"), index=True)
    from_container_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    to_lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"), index=True)
    to_container_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_container.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    quantity: Mapped[Decimal] = mapped_column(Exact)


class Counter(Base):
    """Named sequences (container codes), taken under the write lock so they are never reused."""

    __tablename__ = "ledger_counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class CountRule(Base):
    """A site's count tolerance, and who may post a count beyond it without approval.

    A count is within tolerance when the difference to the book is at most
    `tolerance_quantity`, or at most `tolerance_percent` of the book.
    """

    __tablename__ = "ledger_count_rule"

    site_id: Mapped[int] = mapped_column(ForeignKey("md_location.id"), primary_key=True)
    tolerance_quantity: Mapped[Decimal] = mapped_column(Exact)
    tolerance_percent: Mapped[Decimal] = mapped_column(Exact)
    exceed_roles: Mapped[list[str]] = mapped_column(JsonType)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class CountProposal(Base):
    """A count beyond tolerance: recorded (its count event has no lines) until a supervisor
    approves it (a second count event applies the difference) or rejects it."""

    __tablename__ = "ledger_count_proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count_event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("ledger_event.id"), unique=True
    )
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    container_id: Mapped[int] = mapped_column(ForeignKey("ledger_container.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"))
    book: Mapped[Decimal] = mapped_column(Exact)
    counted: Mapped[Decimal] = mapped_column(Exact)
    delta: Mapped[Decimal] = mapped_column(Exact)
    status: Mapped[CountProposalStatus] = mapped_column(
        enum_column(CountProposalStatus), index=True
    )
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    applied_event_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("ledger_event.id")
    )
