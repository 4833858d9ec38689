"""The FastAPI application: API under /api/v1, pages at the root, errors as problem+json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from isom.db import Database
from isom.errors import IsomError, NotAuthenticated, http_code
from isom.toolkit.responses import ProblemResponse


def _problem(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return ProblemResponse(body, status_code=status, headers=headers)


def _expected_for(error: dict[str, Any]) -> str:
    ctx: dict[str, Any] = error.get("ctx") or {}
    kind = str(error.get("type", ""))
    if "expected" in ctx:
        return str(ctx["expected"])  # pydantic says it best when it says it
    if kind == "missing":
        return "a value (the field is required)"
    if kind == "extra_forbidden":
        return "no such field (check the spelling)"
    if "pattern" in ctx:
        return f"text matching {ctx['pattern']}"
    for name, text in (
        ("gt", "greater than"),
        ("ge", "at least"),
        ("lt", "less than"),
        ("le", "at most"),
    ):
        if name in ctx:
            return f"a number {text} {ctx[name]}"
    if "decimal_places" in ctx:
        return f"at most {ctx['decimal_places']} decimals"
    if "min_length" in ctx or "max_length" in ctx:
        return f"length {ctx.get('min_length', 0)} to {ctx.get('max_length', 'any')}"
    return kind.replace("_", " ")


def _field_path(loc: Any) -> str:
    """The field as the services name it: `lines[0].quantity`, not `body.lines.0.quantity`."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path", "header", "cookie") and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as RFC 9457 problem+json naming the field and what was expected."""

    @app.exception_handler(IsomError)
    async def _isom_error(request: Request, exc: IsomError) -> Response:
        if isinstance(exc, NotAuthenticated) and not request.url.path.startswith("/api/"):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _problem(exc.status_code, exc.to_problem(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            loc = _field_path(err.get("loc", ()))
            errors.append(
                {
                    "field": loc or "body",
                    "in": str(err.get("loc", ("body",))[0]),
                    "message": err.get("msg", "invalid"),
                    "expected": _expected_for(dict(err)),
                }
            )
        first = errors[0] if errors else {"field": "body", "message": "invalid", "expected": ""}
        return _problem(
            422,
            {
                "type": "https://isom.dev/problems/invalid_input",
                "title": "Invalid input",
                "status": 422,
                "code": "invalid_input",
                "detail": f"{first['field']}: {first['message']}",
                "field": first["field"],
                "expected": first["expected"],
                "errors": errors,
                "instance": request.url.path,
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _problem(
            exc.status_code,
            {
                "type": "about:blank",
                "title": str(exc.detail),
                "status": exc.status_code,
                "code": http_code(exc.status_code),
                "detail": str(exc.detail),
                "instance": request.url.path,
            },
            headers=exc.headers,  # e.g. the Allow of a 405
        )


def create_app(db: Database | None = None) -> FastAPI:
    """Build the application around a database (the embedded SQLite store by default)."""
    from isom import composition
    from isom.toolkit import guards
    from isom.web import contract, routes

    composition.wire()
    app = FastAPI(
        title="ISOM",
        version="0.1.0",
        description=(
            "Intelligent System for Operations Management: the real-time container ledger, "
            "master data and the ERP feed. Every write takes an `Idempotency-Key` header; "
            "errors are RFC 9457 problem+json."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(guards.clean_text)],
    )
    app.state.db = db or Database()
    install_error_handlers(app)
    guards.install(app)
    contract.install(app)
    routes.include_all(app)
    install_middleware(app)
    return app


def create_worker_app() -> FastAPI:
    """The app as each process of `isom serve --workers N` builds it (uvicorn's factory): its
    logs configured, its store from `ISOM_DATABASE_URL`, already migrated by `isom serve`."""
    from isom import logs

    logs.configure()
    return create_app()


def install_middleware(app: FastAPI) -> None:
    """Each added one wraps the ones before: the proxy's scheme and client outermost, then the
    hardening headers (so they are on the last-resort 500 too), then the request id and 500s."""
    from isom.web.context import RequestContext
    from isom.web.headers import SecurityHeaders, TrustedProxies

    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedProxies)
