"""The planner's finite plan: Gantt per workstation and per job with late jobs in red, what
changed since the plan before, the plans' history, a re-plan, and what-if plans that are
shown beside the plan in force and applied only when accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden, InvalidInput, IsomError
from isom.planning.gantt import bar
from isom.planning.gantt import gantt as gantt_chart
from isom.planning.scheduling import queries, services, whatif
from isom.toolkit.deps import current_principal, get_db
from isom.toolkit.render import check_csrf, error_page, form_text, guarded, render

router = APIRouter(include_in_schema=False)
PLANNER_ROLES = frozenset({"planner", "supervisor"})


def gantt(plan: queries.PlanView, by: str) -> dict[str, Any]:
    """Every operation as a bar on its workstation's (or job's) row; late jobs in red."""
    bars = [
        bar(
            o,
            o.workstation if by == "workstation" else o.work_order,
            o.start,
            o.end,
            f" on {o.workstation}",
            f" UTC, due {o.due:%d %b}",
        )
        for o in plan.operations
    ]
    return gantt_chart(bars, title=f"Plan {plan.id} per {by}", row_height=30)


def _context(session: Session, what_if: int | None) -> dict[str, Any]:
    plan = queries.current_plan(session)
    trial = queries.plan(session, what_if) if what_if else None
    shown = trial or plan
    return {
        "plan": plan,
        "trial": trial,
        "changes": queries.changes(session, shown.id) if shown else [],
        "history": queries.history(session, limit=10),
        "by_station": gantt(shown, "workstation") if shown else None,
        "by_job": gantt(shown, "job") if shown else None,
    }


@router.get("/planning/plan")
def plan_page(
    request: Request,
    what_if: int | None = Query(default=None, ge=1, le=2**31 - 1),
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """The plan in force (or a what-if beside it), its changes and the history of plans."""

    def build() -> Response:
        context = db.read(lambda s: _context(s, what_if))
        return render(request, "plan.html", principal, **context)

    return guarded(request, principal, build)


async def _planner_form(request: Request, principal: Principal) -> dict[str, str]:
    form = await form_text(request)
    check_csrf(principal, form.get("csrf_token", ""))
    if not principal.has_any(PLANNER_ROLES):
        raise Forbidden(f"{principal.name} may not change plans (planners, supervisors)")
    return form


@router.post("/planning/plan/replan")
async def replan_form(
    request: Request,
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """Repair the plan in force to the floor now."""
    return await _planner_write(
        request,
        principal,
        lambda s: services.replan(s, reason=f"asked by {principal.name}", actor=principal.name),
        db,
    )


@router.post("/planning/plan/what-if")
async def what_if_form(
    request: Request,
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """Make a what-if plan from the form (one of: add an order, a workstation out, a job's
    priority) and show it beside the plan in force."""
    try:
        form = await _planner_form(request, principal)
        change = _change(form)
        run_id = db.write(lambda s: whatif.what_if(s, change, actor=principal.name).id)
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse(f"/planning/plan?what_if={run_id}", status_code=303)


def _change(form: dict[str, str]) -> whatif.WhatIf:
    data: dict[str, Any] = {"improve_seconds": 1}
    if form.get("item", "").strip():
        data["add_orders"] = [
            {
                "customer": form.get("customer", "").strip() or None,
                "item": form["item"].strip(),
                "quantity": form.get("quantity", "").strip() or "0",
                "due_date": form.get("due_date", "").strip(),
                "priority": form.get("priority", "normal"),
            }
        ]
    if form.get("workstation", "").strip():
        hours = form.get("hours", "").strip() or "8"
        data["machines_out"] = [{"workstation": form["workstation"].strip(), "hours": hours}]
    if form.get("work_order", "").strip():
        data["priorities"] = [
            {"work_order": form["work_order"].strip(), "priority": form.get("job_priority", "rush")}
        ]
    try:
        return whatif.WhatIf.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(f"{field}: {err['msg']}", field=field, expected=err["msg"]) from exc


@router.post("/planning/plan/{plan_id}/accept")
async def accept_form(
    request: Request,
    plan_id: int,
    principal: Principal = Depends(current_principal),
    db: Database = Depends(get_db),
) -> Response:
    """Accept a what-if: it becomes the plan in force."""
    return await _planner_write(
        request, principal, lambda s: whatif.accept(s, plan_id, actor=principal.name), db
    )


async def _planner_write(
    request: Request, principal: Principal, work: Callable[[Session], object], db: Database
) -> Response:
    """A planner's form that changes the plan in force, then the plan (or why it was refused)."""
    try:
        await _planner_form(request, principal)
        db.write(work)
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse("/planning/plan", status_code=303)
