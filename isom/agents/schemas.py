"""What the agents API takes and answers: decisions, settings, runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from isom.agents.models import Decision, DecisionStatus, Mode
from isom.toolkit.views import view_of


class DecisionView(BaseModel):
    """One decision: which demand, which supply, which date, which rule, and why."""

    id: int
    key: str
    agent: str
    kind: str
    status: DecisionStatus
    priority: int
    item: str | None
    demand: str | None
    supply: str | None
    date: dt.date | None
    rule: str
    explanation: str
    command: dict[str, Any]
    result: dict[str, Any]
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    reason: str | None

    @classmethod
    def of(cls, d: Decision, item: str | None) -> DecisionView:
        return view_of(cls, d, item=item)


class RejectCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(
        min_length=1, max_length=500, description="Why the proposal is turned down."
    )


class SettingIn(BaseModel):
    """Apply an agent's decisions at once, or propose them for approval; per site or for all."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agent: str = Field(min_length=1, max_length=40)
    site: str | None = Field(default=None, max_length=64, description="A site code; all if absent.")
    mode: Mode
    enabled: bool = True


class SettingView(BaseModel):
    agent: str
    site: str | None
    mode: Mode
    enabled: bool
    updated_at: dt.datetime
    updated_by: str


class AgentRunView(BaseModel):
    agent: str
    decisions: int
    applied: int
    proposed: int
    failed: int
    noted: int


class AlertView(BaseModel):
    """A standing alert: one per item and condition, kept up to date while it holds."""

    condition: str
    subject: str
    item: str | None
    status: str
    date: dt.date | None
    text: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
