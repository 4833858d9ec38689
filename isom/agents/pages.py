"""The planner's and buyer's proposals page: every decision with its explanation; approve or
reject (with a reason) the ones waiting."""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from isom.agents import queries
from isom.agents import services as agents
from isom.agents.api import may_decide
from isom.agents.models import DecisionStatus
from isom.errors import Forbidden, IsomError
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import check_csrf, error_page, read_page

router = APIRouter(include_in_schema=False)
DECIDER_ROLES = frozenset({"planner", "buyer", "supervisor"})


@router.get("/agents")
def decisions_page(
    request: Request,
    principal: Caller,
    db: Db,
    status: DecisionStatus | None = Query(default=DecisionStatus.proposed),
) -> Response:
    """Decisions of the agents (the proposals by default), newest first."""

    return read_page(
        request,
        principal,
        db,
        "agents.html",
        lambda s: {
            "rows": queries.decisions(s, status=status, limit=200),
            "alerts": queries.alerts(s),
        },
        status=status.value if status else "",
        statuses=[s.value for s in DecisionStatus],
        may_decide=principal.has_any(DECIDER_ROLES),
    )


@router.post("/agents/decisions/{decision_id}")
def decide_form(
    request: Request,
    decision_id: int,
    principal: Caller,
    db: Db,
    action: str = Form(default=""),
    reason: str = Form(default=""),
    csrf_token: str = Form(default=""),
) -> Response:
    """Approve or reject a proposal from the page; back to the list."""
    try:
        check_csrf(principal, csrf_token)
        if not principal.has_any(DECIDER_ROLES):
            raise Forbidden(f"{principal.name} may not decide proposals")

        def work(session: Session) -> None:
            may_decide(principal, agents.get_decision(session, decision_id).kind)
            if action == "approve":
                agents.approve(session, actor_of(principal), decision_id)
            else:
                agents.reject(session, actor_of(principal), decision_id, reason)

        db.write(work)
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse("/agents", status_code=303)
