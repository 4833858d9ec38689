"""Scheduling endpoints: the plan in force, its history and changes, a re-plan now, what-if
plans and accepting one, a workstation's dispatch list, and capable-to-promise.

Plans are planning's read model of the floor: making one changes no material or job state,
so these writes take no idempotency key (a repeated re-plan only makes another plan).
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import NotFound
from isom.planning.scheduling import queries, services, whatif, worker
from isom.toolkit.commands import PROBLEMS
from isom.toolkit.deps import READERS, get_db, require_roles

router = APIRouter(tags=["scheduling"], lifespan=worker.lifespan)
PLANNERS = (Role.planner, Role.supervisor)
#: Who may ask for a promise date: those who take orders and plan.
PROMISERS = (Role.planner, Role.supervisor, Role.buyer, Role.clerk, Role.admin)


@router.get("/planning/plan", response_model=queries.PlanView, responses=PROBLEMS)
def get_plan(
    _: Principal = Depends(require_roles(*READERS)), db: Database = Depends(get_db)
) -> queries.PlanView:
    """The plan in force: every open step on its workstation, late jobs, what it moved."""
    view = db.read(queries.current_plan)
    if view is None:
        raise NotFound("no plan has been made yet", field="plan", expected="a re-plan first")
    return view


@router.get("/planning/plans", response_model=list[queries.RunRow], responses=PROBLEMS)
def list_plans(
    limit: int = Query(default=20, ge=1, le=200),
    _: Principal = Depends(require_roles(*READERS)),
    db: Database = Depends(get_db),
) -> list[queries.RunRow]:
    """The newest plans first: why each was made, how many operations it moved and how far."""
    return db.read(lambda s: queries.history(s, limit=limit))


@router.get("/planning/plans/{plan_id}", response_model=queries.PlanView, responses=PROBLEMS)
def get_one_plan(
    plan_id: int = Path(ge=1, le=2**31 - 1),
    _: Principal = Depends(require_roles(*READERS)),
    db: Database = Depends(get_db),
) -> queries.PlanView:
    """One plan (published, what-if or accepted) with its operations."""
    return db.read(lambda s: queries.plan(s, plan_id))


@router.get(
    "/planning/plans/{plan_id}/changes", response_model=list[queries.Change], responses=PROBLEMS
)
def get_changes(
    plan_id: int = Path(ge=1, le=2**31 - 1),
    _: Principal = Depends(require_roles(*READERS)),
    db: Database = Depends(get_db),
) -> list[queries.Change]:
    """What a plan changed against the plan it was made from."""
    return db.read(lambda s: queries.changes(s, plan_id))


@router.post("/planning/replan", response_model=queries.PlanView, responses=PROBLEMS)
def post_replan(
    principal: Principal = Depends(require_roles(*PLANNERS)), db: Database = Depends(get_db)
) -> queries.PlanView:
    """Repair the plan in force to the floor now and publish it (CP-SAT follows in the
    background when the scheduler runs)."""

    def work(session: Session) -> queries.PlanView:
        run = services.replan(session, reason=f"asked by {principal.name}", actor=principal.name)
        return queries.plan_view(session, run)

    return db.write(work)


@router.post("/planning/what-if", response_model=queries.PlanView, responses=PROBLEMS)
def post_what_if(
    body: whatif.WhatIf,
    principal: Principal = Depends(require_roles(*PLANNERS)),
    db: Database = Depends(get_db),
) -> queries.PlanView:
    """A what-if plan with the changes in it; nothing else changes until it is accepted."""

    def work(session: Session) -> queries.PlanView:
        run = whatif.what_if(session, body, actor=principal.name)
        return queries.plan_view(session, run)

    return db.write(work)


@router.post(
    "/planning/plans/{plan_id}/accept", response_model=queries.PlanView, responses=PROBLEMS
)
def post_accept(
    plan_id: int = Path(ge=1, le=2**31 - 1),
    principal: Principal = Depends(require_roles(*PLANNERS)),
    db: Database = Depends(get_db),
) -> queries.PlanView:
    """Publish a what-if plan made from the plan in force and apply what it tried."""

    def work(session: Session) -> queries.PlanView:
        return queries.plan_view(session, whatif.accept(session, plan_id, actor=principal.name))

    return db.write(work)


@router.get(
    "/planning/dispatch/{workstation}",
    response_model=list[queries.DispatchRow],
    responses=PROBLEMS,
)
def get_dispatch(
    workstation: str = Path(min_length=1, max_length=64),
    _: Principal = Depends(require_roles(*READERS)),
    db: Database = Depends(get_db),
) -> list[queries.DispatchRow]:
    """A workstation's dispatch list: what to run next, and why."""
    return db.read(lambda s: queries.dispatch_list(s, workstation))


@router.get("/planning/promise", response_model=whatif.Promise, responses=PROBLEMS)
def get_promise(
    item: str = Query(min_length=1, max_length=64),
    quantity: Decimal = Query(gt=0, max_digits=18, decimal_places=6),
    priority: whatif.PriorityName = Query(default="normal"),
    _: Principal = Depends(require_roles(*PROMISERS)),
    db: Database = Depends(get_db),
) -> whatif.Promise:
    """Capable to promise: the date a new order line for an item could be done."""
    return db.read(lambda s: whatif.promise(s, item, quantity, priority=priority))
