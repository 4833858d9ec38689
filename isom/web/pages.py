"""Signing in and out, and the home page (each domain's own pages live in the domain).

Every page needs a signed-in user holding a reader role; an unauthenticated request is turned
into a redirect to /login by the app's error handler. Page forms that change anything carry
the session's csrf token; the sign-in form, the one page open to all, uses a double-submit
cookie instead so another site cannot sign a browser in behind its user's back.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from isom.auth import api as auth_api
from isom.auth import services as auth_service
from isom.auth.services import Principal
from isom.auth.throttle import TooManyAttempts
from isom.errors import Forbidden, NotAuthenticated
from isom.toolkit.deps import SESSION_COOKIE, Caller, Db, current_principal
from isom.toolkit.render import check_csrf, error_page, render

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "isom_login_csrf"
HOME = "/inventory"


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything pointing off-site becomes the home page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    if target.startswith("/login") or target.startswith("/logout"):
        return HOME
    return target


# --- sign in and out ----------------------------------------------------------------------------


def _login_form(
    request: Request,
    next_url: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        next=next_url,
        csrf_token=token,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/login")
def login_form(db: Db, request: Request, next: str | None = Query(default=None)) -> Response:
    """The sign-in form (the one page that needs no session)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and db.read(lambda s: auth_service.principal_from_cookie(s, cookie)):
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    db: Db,
    username: str = Form(default=""),
    password: str = Form(default=""),
    next: str = Form(default=HOME),
    csrf_token: str = Form(default=""),
) -> Response:
    """Check the password; on success set the session cookie and go to `next`."""
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_form(
            request,
            target,
            status_code=403,
            username=username,
            error="This sign-in form has expired. Please sign in again.",
        )
    if not username or not password:
        return _login_form(
            request,
            target,
            status_code=422,
            username=username,
            error="Enter your user name and password.",
        )
    try:
        secret, _ = auth_api.sign_in(db, username, password, auth_api.client_address(request))
    except TooManyAttempts as exc:
        refused = _login_form(
            request,
            target,
            status_code=429,
            username=username,
            error=f"Too many wrong passwords. Try again in {exc.retry_after} seconds.",
        )
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except NotAuthenticated:
        return _login_form(
            request,
            target,
            status_code=401,
            username=username,
            error="Wrong user name or password.",
        )
    response = RedirectResponse(target, status_code=303)
    auth_api.set_session_cookie(response, secret, db)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request, principal: Caller, db: Db, csrf_token: str = Form(default="")
) -> Response:
    """Sign out: needs the session's csrf token, so no other site can sign a user out."""
    try:
        check_csrf(principal, csrf_token)
    except Forbidden as exc:
        return error_page(request, principal, exc)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        db.write(lambda s: auth_service.close_web_session(s, cookie))
    response = RedirectResponse("/login", status_code=303)
    auth_api.clear_session_cookie(response, db)
    return response


# --- pages --------------------------------------------------------------------------------------


@router.get("/")
def home(_: Principal = Depends(current_principal)) -> Response:
    """The home page is the inventory."""
    return RedirectResponse(HOME, status_code=303)
