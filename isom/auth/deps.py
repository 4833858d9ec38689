"""Who is calling, and whether their role allows it: the request dependencies auth owns, so
its own routes use them without reaching up into the toolkit (which re-exports them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from isom.auth import cache, sites
from isom.auth import services as auth_service
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "isom_session"


async def get_db(request: Request) -> Database:
    """The application's database, set once at start-up."""
    db: Database = request.app.state.db
    return db


async def current_principal(request: Request) -> Principal:
    """Whoever the bearer token or session cookie names; 401 when nobody does.

    On the event loop: a caller this process remembers costs no thread and no query; only a
    miss (and the once-a-minute `last_used_at`) goes to the database, in the thread pool.
    Found once per request (a role check and the route may both ask), and it takes only the
    request: each dependency FastAPI solves costs as much as the look-up on a hit."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        found = await _identify(request, request.app.state.db)
        request.state.principal = found
    sites.enter(found.sites)
    return found


async def _identify(request: Request, db: Database) -> Principal:
    """The caller named by the request's bearer token or session cookie; 401 when nobody."""
    authz = request.headers.get("authorization")
    if authz:
        scheme, _, secret = authz.partition(" ")
        if scheme.lower() != "bearer" or not secret:
            raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
        secret = secret.strip()
        found = cache.known(db, "token", secret) or await run_in_threadpool(
            auth_service.principal_for_token, db, secret
        )
        if found is None:
            raise NotAuthenticated("the API token is unknown or revoked")
        claimed = request.headers.get("x-device-id")
        if claimed is not None and claimed != found.device:
            # A device is named by its own token, never by a header anyone can set.
            raise Forbidden(
                f"{found.name} may not speak for device {claimed!r}",
                field="X-Device-Id",
                expected=f"no X-Device-Id, or {found.device!r}"
                if found.device
                else "no X-Device-Id: only a device's own token records a device",
            )
        if found.token_id is not None and cache.touches.due(secret):
            token_id = found.token_id
            await run_in_threadpool(db.write, lambda s: auth_service.touch_token(s, token_id))
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = cache.known(db, "cookie", cookie) or await run_in_threadpool(
            auth_service.principal_for_cookie, db, cookie
        )
        if found is not None:
            unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
            if unsafe and request.url.path.startswith("/api/"):
                # Pages check the token in their forms; API calls from a page send it as a header.
                if request.headers.get("x-csrf-token") != found.csrf_token:
                    raise Forbidden(
                        "a cookie-authenticated API call needs the X-CSRF-Token header",
                        field="X-CSRF-Token",
                        expected="the csrf token of your session",
                    )
            return found
    raise NotAuthenticated("sign in or send 'Authorization: Bearer <token>'")


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through only callers holding one of `roles` (admin always may)."""
    wanted = frozenset(r.value for r in roles)

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.has_any(wanted):
            raise Forbidden(
                f"{principal.name} may not do this",
                expected=f"one of the roles: {', '.join(sorted(wanted | {'admin'}))}",
            )
        return principal

    return dependency
