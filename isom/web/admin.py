"""The administration page: users and their roles, and API tokens (admins only).

Every form posts back with the session's csrf token and goes through `auth.services`, so a
page can do nothing the API would refuse.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from isom.auth import grants
from isom.auth import services as auth_service
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden, InvalidInput, IsomError
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import check_csrf, error_page, render

router = APIRouter(include_in_schema=False)

ADMINS = frozenset({Role.admin.value})
ALL_ROLES = [r.value for r in Role]


# --- users and API tokens --------------------------------------------------------------------


def _admin_guard(principal: Principal) -> None:
    if not principal.has_any(ADMINS):
        raise Forbidden(f"{principal.name} may not manage users and tokens (admins only)")


def _users_page(
    request: Request,
    principal: Principal,
    db: Database,
    *,
    error: IsomError | None = None,
    secret: str | None = None,
    status_code: int = 200,
) -> Response:
    def read(s: Session) -> dict[str, Any]:
        return {
            "users": [
                {
                    "username": u.username,
                    "full_name": u.full_name,
                    "roles": sorted(u.roles),
                    "sites": grants.sites_of_user(s, u.id),
                    "active": u.active,
                }
                for u in auth_service.list_users(s)
            ],
            "tokens": [
                {
                    "id": t.id,
                    "name": t.name,
                    "prefix": t.prefix,
                    "roles": sorted(t.roles),
                    "sites": grants.sites_of_token(s, t.id),
                    "revoked": t.revoked_at is not None,
                }
                for t in auth_service.list_api_tokens(s)
            ],
        }

    return render(
        request,
        "admin.html",
        principal,
        status_code=status_code,
        roles=ALL_ROLES,
        error=error,
        secret=secret,
        **db.read(read),
    )


@router.get("/admin")
def admin_page(request: Request, principal: Caller, db: Db) -> Response:
    """Users with their roles, and the API tokens of devices and the ERP."""
    try:
        _admin_guard(principal)
    except IsomError as exc:
        return error_page(request, principal, exc)
    return _users_page(request, principal, db)


async def _admin_form(request: Request, principal: Principal) -> dict[str, Any]:
    form = await request.form()
    _admin_guard(principal)
    check_csrf(principal, str(form.get("csrf_token", "")))
    return {
        "roles": [str(r) for r in form.getlist("roles")],
        **{k: str(v) for k, v in form.items() if k != "roles" and isinstance(v, str)},
    }


@router.post("/admin/users")
async def admin_save_user(request: Request, principal: Caller, db: Db) -> Response:
    """Create a user, or change one's roles, active flag or password."""
    try:
        form = await _admin_form(request, principal)
        username = form.get("username", "").strip()
        password = form.get("password") or None
        if form.get("action") == "create":
            if not username:
                raise InvalidInput(
                    "a new user needs a user name", field="username", expected="1-100 characters"
                )
            db.write(
                lambda s: auth_service.create_user(
                    s,
                    username=username,
                    password=password or "",
                    roles=form["roles"],
                    full_name=str(form.get("full_name", "")),
                )
            )
        else:
            db.write(
                lambda s: auth_service.update_user(
                    s,
                    username,
                    roles=form["roles"],
                    active=form.get("active") == "on",
                    password=password,
                )
            )
    except IsomError as exc:
        if exc.status_code == 403:
            return error_page(request, principal, exc)
        return _users_page(request, principal, db, error=exc, status_code=exc.status_code)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/tokens")
async def admin_tokens(request: Request, principal: Caller, db: Db) -> Response:
    """Issue a token (its secret is shown once, on this answer) or revoke one."""
    try:
        form = await _admin_form(request, principal)
        if form.get("action") == "revoke":
            token_id = int(form["token_id"]) if form.get("token_id", "").isdigit() else 0
            db.write(lambda s: auth_service.revoke_api_token(s, token_id))
            return RedirectResponse("/admin", status_code=303)
        secret, _token = db.write(
            lambda s: auth_service.create_api_token(
                s, name=form.get("name", "").strip(), roles=form["roles"]
            )
        )
    except IsomError as exc:
        if exc.status_code == 403:
            return error_page(request, principal, exc)
        return _users_page(request, principal, db, error=exc, status_code=exc.status_code)
    return _users_page(request, principal, db, secret=secret)
