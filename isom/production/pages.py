"""The supervisor's live WIP board: rendered once, then kept current by server-sent events."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from isom.auth.services import Principal
from isom.db import Database
from isom.production import queries
from isom.web.deps import current_principal, get_db
from isom.web.pages import guarded, render

router = APIRouter(include_in_schema=False)


@router.get("/wip")
def wip_page(
    request: Request,
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """Every open job, its step, what is where and who is on it; updates itself."""

    def build() -> Response:
        board = db.read(lambda s: queries.wip(s))
        return render(request, "wip.html", principal, board=board)

    return guarded(request, principal, build)
