"""Reads of the agents' decisions and settings for the API, pages and CLI."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents.models import AgentSetting, Alert, AlertStatus, Decision, DecisionStatus
from isom.agents.schemas import AlertView, DecisionView, SettingView
from isom.agents.services import get_decision
from isom.masterdata.models import Item, Location
from isom.toolkit.views import view_of


def decisions(
    session: Session,
    *,
    status: DecisionStatus | None = None,
    agent: str | None = None,
    kind: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[DecisionView]:
    """Decisions, newest first, filtered by status, agent and kind."""
    query = select(Decision, Item.code).outerjoin(Item, Item.id == Decision.item_id)
    if status is not None:
        query = query.where(Decision.status == status)
    if agent is not None:
        query = query.where(Decision.agent == agent)
    if kind is not None:
        query = query.where(Decision.kind == kind)
    rows = session.execute(query.order_by(Decision.id.desc()).limit(limit).offset(offset)).all()
    return [DecisionView.of(d, code) for d, code in rows]


def decision(session: Session, decision_id: int) -> DecisionView:
    """One decision, or 404."""
    d = get_decision(session, decision_id)
    item = session.get(Item, d.item_id) if d.item_id else None
    return DecisionView.of(d, item.code if item else None)


def settings(session: Session) -> list[SettingView]:
    """Every agent setting, per site."""
    rows = session.execute(
        select(AgentSetting, Location.code)
        .outerjoin(Location, Location.id == AgentSetting.site_id)
        .order_by(AgentSetting.agent, AgentSetting.id)
    ).all()
    return [view_of(SettingView, s, site=code) for s, code in rows]


def alerts(session: Session, *, status: AlertStatus = AlertStatus.open) -> list[AlertView]:
    """Standing alerts (the open ones by default), by condition and subject."""
    rows = session.execute(
        select(Alert, Item.code)
        .outerjoin(Item, Item.id == Alert.item_id)
        .where(Alert.status == status)
        .order_by(Alert.condition, Alert.subject)
    ).all()
    return [view_of(AlertView, a, item=code, status=a.status.value) for a, code in rows]
