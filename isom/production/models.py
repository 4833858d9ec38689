"""Production tables: work orders with their route snapshot, scan events, labour, machine time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.production.enums import MachineState as MachineState  # re-exported: models use it
from isom.production.enums import MaterialRole as MaterialRole
from isom.production.enums import StepStatus as StepStatus
from isom.production.enums import WorkOrderStatus as WorkOrderStatus
from isom.types import ChangeStamp, Exact, JsonType, UtcDateTime, enum_column


class WorkOrder(ChangeStamp, Base):
    """A job: make a quantity of an item by a snapshot of its route, for a due date."""

    __tablename__ = "prod_work_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"), index=True)
    #: The site it belongs to (sites apart: `isom.auth.sites`).
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Exact)
    due_date: Mapped[dt.date] = mapped_column(Date)
    customer_line: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[WorkOrderStatus] = mapped_column(enum_column(WorkOrderStatus), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("prod_work_order.id"), index=True)
    parent_step_sequence: Mapped[int | None] = mapped_column(Integer)
    route_code: Mapped[str | None] = mapped_column(String(64))
    route_revision: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class WorkOrderStep(ChangeStamp, Base):
    """One step of a released job, copied from the route at release, with its actuals."""

    __tablename__ = "prod_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("prod_work_order.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    workstation_kind: Mapped[str | None] = mapped_column(String(64))
    skill: Mapped[str | None] = mapped_column(String(64))
    setup_minutes: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    run_minutes_per_unit: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    cleanup_minutes: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    standard_minutes: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    std_labour_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    std_machine_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    std_overhead_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    status: Mapped[StepStatus] = mapped_column(enum_column(StepStatus), index=True)
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("md_workstation.id"))
    actual_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    actual_end: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_event_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    quantity_in: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    quantity_good: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    quantity_scrap: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    quantity_rework: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    rework_pending: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))
    quantity_returned: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))

    __table_args__ = (UniqueConstraint("work_order_id", "sequence"),)


class StepMaterial(Base):
    """A line of a step's BOM at release, scaled to the order: an input or an output."""

    __tablename__ = "prod_step_material"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("prod_step.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("md_item.id"))
    role: Mapped[MaterialRole] = mapped_column(enum_column(MaterialRole))
    quantity_per: Mapped[Decimal] = mapped_column(Exact)
    quantity: Mapped[Decimal] = mapped_column(Exact)
    floor_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    std_unit_cost: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))


class ProductionEvent(Base):
    """A scan or job change and its answer (its key is kept once by the command frame)."""

    __tablename__ = "prod_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("prod_work_order.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("prod_step.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("md_person.id"))
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("md_workstation.id"))
    actor: Mapped[str] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    command: Mapped[dict[str, Any]] = mapped_column(JsonType)
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class LabourRecord(Base):
    """A person's time on a step: opened by start/join/resume, closed by pause/leave/stop."""

    __tablename__ = "prod_labour"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("prod_step.id"), index=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("prod_work_order.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("md_person.id"), index=True)
    workstation_id: Mapped[int] = mapped_column(ForeignKey("md_workstation.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    start_event_id: Mapped[int] = mapped_column(ForeignKey("prod_event.id"))
    end_event_id: Mapped[int | None] = mapped_column(ForeignKey("prod_event.id"))

    __table_args__ = (Index("ix_prod_labour_open", "person_id", "ended_at"),)


class MachineRecord(Base):
    """A workstation's state over a time span (setup, run, idle, down with reason, cleanup)."""

    __tablename__ = "prod_machine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workstation_id: Mapped[int] = mapped_column(ForeignKey("md_workstation.id"), index=True)
    state: Mapped[MachineState] = mapped_column(enum_column(MachineState))
    reason: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    event_id: Mapped[int] = mapped_column(ForeignKey("prod_event.id"))

    # At most one open state per workstation: two first events racing cannot both open one.
    __table_args__ = (
        Index(
            "uq_prod_machine_open",
            "workstation_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
