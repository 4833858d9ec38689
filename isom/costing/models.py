"""Costing settings: the overhead rate per workstation hour (default 0 when a station has none)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import Exact


class OverheadRate(Base):
    """Overhead charged per hour a job spends on a workstation."""

    __tablename__ = "cost_overhead_rate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workstation_id: Mapped[int] = mapped_column(ForeignKey("md_workstation.id"), unique=True)
    hourly_rate: Mapped[Decimal] = mapped_column(Exact, default=Decimal(0))

    __table_args__ = (CheckConstraint("hourly_rate >= 0", name="non_negative"),)
