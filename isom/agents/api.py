"""Agent endpoints: decisions with their explanations, approve and reject, settings, a run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Path, Query
from sqlalchemy.orm import Session

from isom import bounds
from isom.actors import Actor
from isom.agents import queries, runner
from isom.agents import services as agents
from isom.agents.models import AlertStatus, DecisionStatus
from isom.agents.schemas import (
    AgentRunView,
    AlertView,
    DecisionView,
    RejectCommand,
    SettingIn,
    SettingView,
)
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden
from isom.toolkit.commands import PROBLEMS, actor_of
from isom.toolkit.deps import Db, Reader, require_roles


@asynccontextmanager
async def scheduler_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the agents inside the app when `ISOM_AGENTS=on` (every `ISOM_AGENTS_INTERVAL`
    seconds, default 60, and about a second after events quiet down); off otherwise, as in tests."""
    scheduler = None
    if os.environ.get("ISOM_AGENTS", "off").lower() in ("1", "on", "true", "yes"):
        interval = float(os.environ.get("ISOM_AGENTS_INTERVAL", "60"))
        scheduler = runner.Scheduler(app.state.db, interval=interval)
        scheduler.start()
    app.state.agents = scheduler
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.stop()


router = APIRouter(tags=["agents"], lifespan=scheduler_lifespan)
DECIDERS = (Role.planner, Role.buyer, Role.supervisor)
#: A buyer decides purchase orders; planners and supervisors decide everything.
BUYER_KINDS = ("purchase_order", "purchase_cancel")


def may_decide(principal: Principal, kind: str) -> None:
    """Planners and supervisors decide everything; a buyer only purchase orders."""
    if principal.has_any(frozenset({"planner", "supervisor"})):
        return
    if kind not in BUYER_KINDS:
        raise Forbidden(
            f"{principal.name} may decide purchase orders only",
            expected="the planner or supervisor role for this decision",
        )


@router.get("/agents/decisions", response_model=list[DecisionView], responses=PROBLEMS)
def list_decisions(
    _: Reader,
    db: Db,
    status: DecisionStatus | None = Query(default=None),
    agent: str | None = Query(default=None, max_length=40),
    kind: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=200, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=bounds.MAX_OFFSET),
) -> list[DecisionView]:
    """The agents' decisions, newest first, each with its explanation."""
    return db.read(
        lambda s: queries.decisions(
            s, status=status, agent=agent, kind=kind, limit=limit, offset=offset
        )
    )


@router.get("/agents/alerts", response_model=list[AlertView], responses=PROBLEMS)
def list_alerts(
    _: Reader, db: Db, status: AlertStatus = Query(default=AlertStatus.open)
) -> list[AlertView]:
    """Standing alerts (shortage, job at risk, surplus): one per item and condition."""
    return db.read(lambda s: queries.alerts(s, status=status))


@router.get("/agents/decisions/{decision_id}", response_model=DecisionView, responses=PROBLEMS)
def get_decision(
    _: Reader, db: Db, decision_id: int = Path(ge=1, le=bounds.MAX_ID)
) -> DecisionView:
    """One decision with its explanation, command and result."""
    return db.read(lambda s: queries.decision(s, decision_id))


def _decide(
    db: Database,
    principal: Principal,
    decision_id: int,
    act: Callable[[Session, Actor, int], object],
) -> DecisionView:
    """Approve or reject a decision its kind lets this person decide, and show it after."""

    def work(session: Session) -> DecisionView:
        may_decide(principal, agents.get_decision(session, decision_id).kind)
        act(session, actor_of(principal), decision_id)
        return queries.decision(session, decision_id)

    return db.write(work)


@router.post(
    "/agents/decisions/{decision_id}/approve", response_model=DecisionView, responses=PROBLEMS
)
def approve_decision(
    db: Db,
    decision_id: int = Path(ge=1, le=bounds.MAX_ID),
    principal: Principal = Depends(require_roles(*DECIDERS)),
) -> DecisionView:
    """Approve a proposal: it is applied now (the decision's key makes a retry harmless)."""
    return _decide(db, principal, decision_id, agents.approve)


@router.post(
    "/agents/decisions/{decision_id}/reject", response_model=DecisionView, responses=PROBLEMS
)
def reject_decision(
    body: RejectCommand,
    db: Db,
    decision_id: int = Path(ge=1, le=bounds.MAX_ID),
    principal: Principal = Depends(require_roles(*DECIDERS)),
) -> DecisionView:
    """Reject a proposal with a reason: nothing is made."""
    return _decide(db, principal, decision_id, lambda s, a, d: agents.reject(s, a, d, body.reason))


@router.get("/agents/settings", response_model=list[SettingView], responses=PROBLEMS)
def list_settings(_: Reader, db: Db) -> list[SettingView]:
    """Which agents apply at once and which propose, per site."""
    return db.read(queries.settings)


@router.put("/agents/settings", response_model=list[SettingView], responses=PROBLEMS)
def put_setting(
    body: SettingIn,
    db: Db,
    principal: Principal = Depends(require_roles(Role.planner, Role.supervisor)),
) -> list[SettingView]:
    """Set an agent to apply or propose (and on or off), for one site or all."""

    def work(session: Session) -> list[SettingView]:
        agents.put_setting(
            session,
            actor_of(principal),
            body.agent,
            site=body.site,
            mode=body.mode,
            on=body.enabled,
        )
        return queries.settings(session)

    return db.write(work)


@router.post("/agents/run", response_model=list[AgentRunView], responses=PROBLEMS)
def run_agents(
    db: Db, principal: Principal = Depends(require_roles(Role.planner, Role.supervisor))
) -> list[AgentRunView]:
    """Run every agent once now; the same situation never makes anything twice."""
    return [AgentRunView(**vars(r)) for r in runner.run_all(db, actor=actor_of(principal))]
