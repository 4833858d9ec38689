"""Agent tables: each decision with its explanation and state, and the apply-or-propose settings."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import ChangeStamp, JsonType, UtcDateTime, enum_column


class Mode(enum.StrEnum):
    apply = "apply"
    propose = "propose"


class DecisionStatus(enum.StrEnum):
    proposed = "proposed"
    applied = "applied"
    rejected = "rejected"
    failed = "failed"
    noted = "noted"


class AgentSetting(ChangeStamp, Base):
    """Whether an agent applies its decisions at once or proposes them, for one site or all."""

    __tablename__ = "agent_setting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    mode: Mapped[Mode] = mapped_column(enum_column(Mode))
    enabled: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        Index("uq_agent_setting_key", "agent", func.coalesce(site_id, 0), unique=True),
    )


class AlertStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class Alert(Base):
    """One alert per item and condition (a shortage, a job at risk, a surplus), updated in
    place while the condition lasts and closed when it ends, instead of a new note per run."""

    __tablename__ = "agent_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    condition: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("md_item.id"))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[AlertStatus] = mapped_column(enum_column(AlertStatus), index=True)
    date: Mapped[dt.date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(2000))
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Decision(Base):
    """One decision of an agent: what, for which demand, from which supply, by which rule, why.

    `key` is derived from the situation, so deciding the same situation again finds this row
    instead of making a second one. `command` is what applying it runs; `result` what it made.
    """

    __tablename__ = "agent_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    #: What the decision changes (a customer line's job, a job's child, a supplier's window):
    #: the plan's stable identity for it, so a new plan supersedes what it still proposes.
    scope: Mapped[str | None] = mapped_column(String(200), index=True)
    agent: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("md_item.id"))
    demand: Mapped[str | None] = mapped_column(String(200))
    supply: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[dt.date | None] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(80))
    explanation: Mapped[str] = mapped_column(String(2000))
    command: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
