"""Published plans: every plan the scheduler made, why, and how much it moved.

A plan is a read model of the floor (it changes no material or job state); a new one is
written on every re-plan, so the history of plans says what changed and why. The current plan
is the newest `published` one; a `what_if` plan waits for a planner to accept it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import JsonType, UtcDateTime


class PlanRun(Base):
    """One plan: how it was made (repair, optimise, what-if), why, and what it moved."""

    __tablename__ = "plan_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # published | what_if | accepted
    method: Mapped[str] = mapped_column(String(20))  # dispatch | repair | cp-sat
    reason: Mapped[str] = mapped_column(String(500))
    base_id: Mapped[int | None] = mapped_column(ForeignKey("plan_schedule.id"))
    made_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    made_by: Mapped[str] = mapped_column(String(100))
    moved: Mapped[int] = mapped_column(Integer, default=0)
    moved_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    weighted_tardiness: Mapped[int] = mapped_column(BigInteger, default=0)
    late_jobs: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    seen: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class PlannedOperation(Base):
    """Where and when one open job step runs in a plan, and whether the plan may move it."""

    __tablename__ = "plan_schedule_op"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("plan_schedule.id", ondelete="CASCADE"))
    work_order: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    workstation: Mapped[str] = mapped_column(String(64))
    start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    end: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    due: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    priority: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))  # started | frozen | planned
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    moved: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("schedule_id", "work_order", "sequence"),
        Index("ix_plan_schedule_op_station", "schedule_id", "workstation", "start"),
    )
