"""The supervisor's page of counts beyond tolerance: approve (applied once, through the ledger)
or reject with a reason. Clerks see what waits; only supervisors decide."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden, InvalidInput, IsomError
from isom.ledger import counts
from isom.ledger.models import CountProposalStatus
from isom.ledger.schemas import CountProposalView
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import current_principal, get_db
from isom.toolkit.render import check_csrf, error_page, guarded, render

router = APIRouter(include_in_schema=False)
DECIDERS = frozenset({"supervisor"})


@router.get("/counts")
def counts_page(
    request: Request,
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """Counts awaiting approval, and the last ones decided."""

    def build() -> Response:
        def read(s: Session) -> tuple[list[CountProposalView], ...]:
            pending = counts.proposals(s, status=CountProposalStatus.pending)
            decided = [p for p in counts.proposals(s) if p.status != "pending"][-20:]
            return pending, decided[::-1]

        pending, decided = db.read(read)
        return render(
            request,
            "counts.html",
            principal,
            pending=pending,
            decided=decided,
            may_decide=principal.has_any(DECIDERS),
        )

    return guarded(request, principal, build)


@router.post("/counts/{proposal_id}")
def decide_count(
    request: Request,
    proposal_id: int,
    action: str = Form(default=""),
    reason: str = Form(default="", max_length=500),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """Approve or reject a count from the page; back to the list."""
    try:
        check_csrf(principal, csrf_token)
        if not principal.has_any(DECIDERS):
            raise Forbidden(f"{principal.name} may not approve counts (supervisors)")
        if action == "approve":
            db.write(lambda s: counts.approve(s, actor_of(principal), proposal_id))
        elif action == "reject" and reason.strip():
            db.write(lambda s: counts.reject(s, actor_of(principal), proposal_id, reason.strip()))
        else:
            raise InvalidInput("say why the count is rejected", field="reason", expected="a reason")
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse("/counts", status_code=303)
