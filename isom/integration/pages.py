"""The reconciliation report page: load the ERP's inventory, see each difference and why."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from isom.auth.services import Principal
from isom.errors import Forbidden
from isom.integration import reconcile
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import error_page, guarded, render

router = APIRouter(include_in_schema=False)
ROLES = frozenset({"integrator", "accountant", "supervisor"})


def _allowed(principal: Principal) -> bool:
    return principal.has_any(ROLES)


@router.get("/reconciliations")
def reconciliations_page(request: Request, principal: Caller, db: Db) -> Response:
    """Recent runs, and a form to load the ERP's inventory file."""

    def build() -> Response:
        if not _allowed(principal):
            raise Forbidden(f"{principal.name} may not reconcile inventory")
        runs = db.read(lambda s: reconcile.recent(s))
        return render(request, "reconciliation.html", principal, runs=runs, run=None)

    return guarded(request, principal, build)


@router.post("/reconciliations")
async def reconciliations_upload(
    request: Request,
    principal: Caller,
    db: Db,
    file: UploadFile = File(...),
    csrf_token: str = Form(default=""),
) -> Response:
    """Load an uploaded CSV or JSON file and show its differences."""
    if not _allowed(principal):
        return error_page(request, principal, Forbidden(f"{principal.name} may not reconcile"))
    if principal.csrf_token is None or not secrets.compare_digest(principal.csrf_token, csrf_token):
        return error_page(
            request,
            principal,
            Forbidden(
                "the form is stale", field="csrf_token", expected="the csrf token of your session"
            ),
        )
    name = file.filename or "upload"
    text = (await file.read()).decode("utf-8", errors="replace")
    fmt = "json" if name.lower().endswith(".json") else "csv"

    def build() -> Response:
        view = db.write(lambda s: reconcile.load(s, text, fmt, source=name, actor=principal.name))
        return RedirectResponse(f"/reconciliations/{view.id}", status_code=303)

    return guarded(request, principal, build)


@router.get("/reconciliations/{run_id}")
def reconciliation_page(run_id: int, request: Request, principal: Caller, db: Db) -> Response:
    """One run: every difference with the containers and events behind it."""

    def build() -> Response:
        if not _allowed(principal):
            raise Forbidden(f"{principal.name} may not reconcile inventory")
        run = db.read(lambda s: reconcile.get(s, run_id))
        return render(request, "reconciliation.html", principal, runs=[], run=run)

    return guarded(request, principal, build)
