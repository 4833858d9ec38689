"""The planner's and buyer's order pages: customer orders (list, enter, cancel a line) and
purchase orders (list, approve, send, with the PDF and CSV the supplier gets).

Forms call the same order services as the API, with an idempotency key made when the form was
drawn, so a double click or a resent form applies once. A refused form is drawn again with what
is wrong, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden, IsomError
from isom.masterdata import records
from isom.orders import services as orders
from isom.orders.api import APPROVERS, BUYERS, SALES
from isom.orders.customer import list_customer_orders
from isom.orders.models import Priority
from isom.orders.purchasing import list_purchase_orders
from isom.orders.schemas import CancelCustomerOrder, CreateCustomerOrder, PurchaseOrderAction
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import (
    check_csrf,
    checked_form,
    error_page,
    form_text,
    guarded,
    may,
    page_key,
    read_page,
    render,
)

router = APIRouter(include_in_schema=False)
FORM_LINES = 5
PO_ACTIONS = {
    "approve": orders.approve_purchase_order,
    "send": orders.send_purchase_order,
    "cancel": orders.cancel_purchase_order,
}


def _problems(exc: ValidationError) -> list[str]:
    """Pydantic's complaints as sentences naming the form field (lines[0].quantity)."""
    out = []
    for err in exc.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        out.append(f"{where or 'form'}: {err['msg']}")
    return out


def _orders_page(
    request: Request,
    principal: Principal,
    db: Database,
    *,
    form: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    def read(s: Any) -> dict[str, Any]:
        customers, _total = records.list_records(s, "customers", active=True, limit=500)
        return {
            "orders": list_customer_orders(s, limit=100),
            "customers": [c.model_dump()["code"] for c in customers],
        }

    return render(
        request,
        "customer_orders.html",
        principal,
        status_code=status_code,
        form=form or {},
        errors=errors or [],
        key=(form or {}).get("key") or page_key(),
        lines=range(FORM_LINES),
        priorities=[p.value for p in Priority],
        may_enter=may(principal, SALES),
        **db.read(read),
    )


@router.get("/orders")
def customer_orders_page(request: Request, principal: Caller, db: Db) -> Response:
    """Customer orders, newest first, and a form to enter one."""
    return guarded(request, principal, lambda: _orders_page(request, principal, db))


@router.post("/orders")
async def enter_customer_order(request: Request, principal: Caller, db: Db) -> Response:
    """Enter a customer order from the form; blank line rows are left out."""
    try:
        form = await checked_form(request, principal, SALES, "enter customer orders")
    except IsomError as exc:
        return error_page(request, principal, exc)
    lines = [
        {
            "item": form.get(f"item_{n}", "").strip(),
            "quantity": form.get(f"quantity_{n}", "").strip(),
            "due_date": form.get(f"due_{n}", "").strip(),
        }
        for n in range(FORM_LINES)
    ]
    data = {
        "customer": form.get("customer", ""),
        "priority": form.get("priority", "normal"),
        "allow_partial": form.get("allow_partial") == "on",
        "external_ref": form.get("external_ref", "").strip() or None,
        "lines": [line for line in lines if any(line.values())],
    }
    try:
        cmd = CreateCustomerOrder.model_validate(data)
        result = db.write(
            lambda s: orders.create_customer_order(s, actor_of(principal), form["key"], cmd)
        )
    except ValidationError as exc:
        return _orders_page(
            request, principal, db, form=form, errors=_problems(exc), status_code=422
        )
    except IsomError as exc:
        if exc.status_code in (401, 403):
            return error_page(request, principal, exc)
        where = f"{exc.field}: " if exc.field else ""
        return _orders_page(
            request,
            principal,
            db,
            form=form,
            errors=[where + exc.detail],
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/orders/{result.number}", status_code=303)


@router.get("/orders/{number}")
def customer_order_page(request: Request, number: str, principal: Caller, db: Db) -> Response:
    """One customer order: its lines, what is reserved and shipped, and the job behind each."""
    return read_page(
        request,
        principal,
        db,
        "customer_order.html",
        lambda s: {"order": orders.customer_order_view(s, number)},
        key=page_key(),
        may_change=may(principal, SALES),
    )


@router.post("/orders/{number}/cancel")
async def cancel_customer_line(
    request: Request, number: str, principal: Caller, db: Db
) -> Response:
    """Cancel one line (or the whole order when no line is given), with the reason."""
    try:
        form = await checked_form(request, principal, SALES, "cancel customer orders")
        line = form.get("line_no", "")
        cmd = CancelCustomerOrder.model_validate(
            {
                "order": number,
                "line_no": int(line) if line.isdigit() else None,
                "reason": form.get("reason", "").strip() or None,
            }
        )
        db.write(lambda s: orders.cancel_customer_order(s, actor_of(principal), form["key"], cmd))
    except ValidationError as exc:
        return error_page(request, principal, IsomError("; ".join(_problems(exc))))
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse(f"/orders/{number}", status_code=303)


@router.get("/purchasing")
def purchase_orders_page(request: Request, principal: Caller, db: Db) -> Response:
    """Purchase orders, newest first, with approve and send for the buyer."""
    return read_page(
        request,
        principal,
        db,
        "purchase_orders.html",
        lambda s: {"orders": list_purchase_orders(s, limit=100)},
        key=page_key(),
        may_approve=may(principal, APPROVERS),
        may_buy=may(principal, BUYERS),
    )


@router.post("/purchasing/{number}/{action}")
async def purchase_order_action(
    request: Request, number: str, action: str, principal: Caller, db: Db
) -> Response:
    """Approve, send or cancel a purchase order from its row."""
    form = await form_text(request)
    try:
        check_csrf(principal, form.get("csrf_token", ""))
        operation = PO_ACTIONS.get(action)
        if operation is None:
            raise IsomError(f"no purchase order action {action!r}", expected=", ".join(PO_ACTIONS))
        if not may(principal, APPROVERS):
            raise Forbidden(f"{principal.name} may not {action} purchase orders")
        cmd = PurchaseOrderAction(order=number, reason=form.get("reason") or None)
        db.write(lambda s: operation(s, actor_of(principal), f"{form['key']}-{action}", cmd))
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse("/purchasing", status_code=303)
