"""What every domain's pages share: the templates, their filters and menu, and the guards.

A page renders with `render`, lets only readers in with `guarded` (an ISOM error while building
it becomes a friendly page), and checks a form's csrf token with `check_csrf`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden, IsomError
from isom.toolkit.deps import READERS

TEMPLATES_DIR = Path(__file__).parent.parent / "web" / "templates"
READER_ROLES = frozenset(r.value for r in READERS)
PAGE_SIZE = 200


def fmt_qty(value: Decimal | int | None, unit: str | None = None) -> str:
    """A quantity in plain digits (never 1E+2), followed by its unit."""
    if value is None:
        return "-"
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


def fmt_money(value: Decimal | int | None) -> str:
    """A money amount with two places, always: 18.50, never 18.5 or 18.499999."""
    if value is None:
        return "-"
    return format(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_EVEN) + Decimal(0), "f")


def fmt_utc(value: dt.datetime | dt.date | None) -> str:
    """A timestamp in UTC as ISO 8601 with a Z (a date as ISO date)."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters["qty"] = fmt_qty
templates.env.filters["money"] = fmt_money
templates.env.filters["utc"] = fmt_utc
templates.env.filters["urlpath"] = lambda v: quote(str(v), safe="/")

#: The main menu: (path, label, roles that use it; admins see all). Each person sees the screens
#: of their roles; a page still checks the role itself.
_R = Role
NAV: tuple[tuple[str, str, frozenset[str]], ...] = tuple(
    (path, label, frozenset(r.value for r in roles))
    for path, label, roles in (
        ("/inventory", "Inventory", tuple(_R)),
        ("/trace", "Lot trace", tuple(_R)),
        ("/wip", "WIP", tuple(_R)),
        ("/learned-times", "Learned times", (_R.planner, _R.supervisor)),
        ("/terminal", "Terminal", (_R.operator, _R.supervisor)),
        ("/warehouse", "Warehouse", (_R.clerk, _R.supervisor)),
        ("/dc/dock", "DC dock", (_R.clerk, _R.supervisor)),
        ("/dc/waves", "Waves", (_R.clerk, _R.supervisor)),
        ("/dc/kits", "Kitting", (_R.operator, _R.supervisor)),
        ("/orders", "Orders", (_R.planner, _R.clerk, _R.supervisor)),
        ("/purchasing", "Purchasing", (_R.buyer, _R.planner, _R.supervisor)),
        ("/planning", "Planning", (_R.planner, _R.buyer, _R.supervisor)),
        ("/reconciliations", "Reconcile", (_R.integrator, _R.accountant, _R.supervisor)),
        ("/costing", "Job cost", (_R.accountant, _R.supervisor, _R.planner)),
        ("/reports", "Reports", (_R.supervisor, _R.planner, _R.accountant)),
        ("/masterdata", "Master data", tuple(_R)),
        ("/admin", "Admin", ()),
    )
)


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    """The menu entries this person's roles use."""
    if principal is None:
        return []
    return [(path, label) for path, label, roles in NAV if principal.has_any(roles)]


templates.env.globals["nav_for"] = nav_for


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page template with who is signed in."""
    return templates.TemplateResponse(
        request, name, {"principal": principal, **context}, status_code=status_code
    )


def error_page(request: Request, principal: Principal | None, exc: IsomError) -> HTMLResponse:
    """A friendly page for an error: what went wrong and what was expected, never a trace."""
    return render(request, "error.html", principal, status_code=exc.status_code, error=exc)


async def form_text(request: Request) -> dict[str, str]:
    """A posted form's text fields (uploaded files left out)."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def page_key() -> str:
    """The idempotency key a form carries from when it was drawn: a double click or a resent
    form applies once."""
    return f"page-{uuid.uuid4()}"


async def checked_form(
    request: Request, principal: Principal, roles: Iterable[Role], doing: str = "do this here"
) -> dict[str, str]:
    """A posted form's text fields, once its csrf token is this session's and the person holds
    one of `roles`."""
    form = await form_text(request)
    check_csrf(principal, form.get("csrf_token", ""))
    if not may(principal, roles):
        raise Forbidden(f"{principal.name} may not {doing}")
    return form


def check_csrf(principal: Principal, token: str) -> None:
    """Refuse a form that does not carry this session's csrf token (another site's post)."""
    if principal.csrf_token is None or not secrets.compare_digest(principal.csrf_token, token):
        raise Forbidden(
            "the form is stale; reload the page and try again",
            field="csrf_token",
            expected="the csrf token of your session",
        )


def may(principal: Principal, roles: Iterable[Role]) -> bool:
    """Whether this person holds one of `roles` (admins always do): what a page offers them."""
    return principal.has_any(frozenset(r.value for r in roles))


def read_page(
    request: Request,
    principal: Principal,
    db: Database,
    template: str,
    read: Callable[[Session], dict[str, Any]],
    **context: Any,
) -> Response:
    """A reader's page: `read` gives the template what it shows in one read transaction,
    `context` the rest; an ISOM error while reading becomes a friendly page."""
    return guarded(
        request, principal, lambda: render(request, template, principal, **context, **db.read(read))
    )


def guarded(request: Request, principal: Principal, build: Callable[[], Response]) -> Response:
    """Let readers in, and turn an ISOM error while building the page into a friendly page."""
    if not principal.has_any(READER_ROLES):
        return error_page(
            request, principal, Forbidden(f"{principal.name} may not read these pages")
        )
    try:
        return build()
    except IsomError as exc:
        return error_page(request, principal, exc)
