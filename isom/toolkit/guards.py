"""Input guards in front of every route: body size caps and characters no store can keep.

`BodyCap`, an ASGI middleware, counts a body's bytes as they arrive and refuses it with 413
as soon as it passes its route's cap (at once when `Content-Length` already says so), before
anything parses it. (FastAPI's own `max_body_size` does the counting too, but answers its 413
as text/plain, and every error here is problem+json.)

`clean_text`, a dependency of every route, refuses NUL (U+0000) and lone UTF-16 surrogates
anywhere a client can put text - a path or query parameter, a header, a JSON, form or
multipart body - with 422 naming the field: PostgreSQL cannot store either, so they turned
into 500s there and not on SQLite. Routes that read a raw body themselves (imports, the ERP's
inventory, the shop webhook) call `refuse_bad_body` when they read it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isom.auth.throttle import TooManyAttempts
from isom.errors import InvalidInput, IsomError
from isom.toolkit.responses import ProblemResponse

MiB = 1024 * 1024
DEFAULT_CAP = 1 * MiB


#: Routes that take more than the default: file imports, the ERP's inventory, EPCIS documents,
#: the ledger's batch door.
ROUTE_CAPS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/api/v1/(masterdata|orders)/import/[^/]+$"), 21 * MiB),
    (re.compile(r"^/masterdata-import$"), 21 * MiB),
    (re.compile(r"^(/api/v1)?/reconciliations$"), 8 * MiB),
    (re.compile(r"^/api/v1/epcis/capture$"), 2 * MiB),
    (re.compile(r"^/api/v1/ledger/batch$"), 8 * MiB),  # a few thousand commands
)
_CHUNK = 64 * 1024

# A JSON escape that decodes to NUL or to half of a surrogate pair.
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
EXPECTED = "text without NUL (U+0000) or lone surrogate characters"


class BodyTooLarge(IsomError):
    status_code = 413
    code = "body_too_large"
    title = "Body too large"


class InvalidCharacter(InvalidInput):
    code = "invalid_character"
    title = "Invalid character"


class _Overflow(HTTPException):
    """Raised from `receive` when a body passes its cap: FastAPI lets an HTTPException through
    its body parsing (anything else it turns into a 400), and the app's handler answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"at most {limit} bytes")


def cap_for(path: str) -> int:
    """The body cap of the route at `path`."""
    for pattern, limit in ROUTE_CAPS:
        if pattern.match(path):
            return limit
    return DEFAULT_CAP


def problem(error: IsomError, path: str, headers: dict[str, str]) -> JSONResponse:
    """The error as problem+json, with the headers it needs."""
    return ProblemResponse(error.to_problem(path), status_code=error.status_code, headers=headers)


def _too_large(limit: int | str) -> BodyTooLarge:
    return BodyTooLarge(
        "the request body is larger than this route takes",
        field="body",
        expected=f"at most {limit} bytes",
    )


class BodyCap:
    """ASGI middleware: count the body as it streams in and stop it at its route's cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = cap_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = problem(_too_large(limit), scope["path"], {"Connection": "close"})
            await response(scope, receive, send)  # the body is never read
            return
        total = 0

        async def counted() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    raise _Overflow(limit)
            return message

        await self.app(scope, counted, send)


def _bad(text: str) -> bool:
    return _BAD_TEXT.search(text) is not None


def _json_path(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding a bad character, e.g. `lines[0].lot`."""
    if isinstance(value, str):
        return path or "body" if _bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _bad(key):
                return here
            found = _json_path(item, here)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _json_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _json_field(body: bytes) -> str | None:
    """The field of a JSON text whose escapes decode to a bad character, if any."""
    if not _BAD_ESCAPE.search(body):
        return None
    try:
        return _json_path(json.loads(body))
    except ValueError:
        return None  # not JSON: the route's own parsing answers for it


def _join(name: str, inner: str) -> str:
    """A form field and the JSON path inside it: `file[0].code`."""
    if inner == "body":
        return name
    return name + inner if inner.startswith("[") else f"{name}.{inner}"


async def _file_field(name: str, upload: UploadFile) -> str | None:
    """`name` when an uploaded file holds a NUL byte or a JSON escape of a bad character."""
    tail = b""
    try:
        while chunk := await upload.read(_CHUNK):
            window = tail + chunk
            if b"\x00" in chunk:
                return name
            if _BAD_ESCAPE.search(window):
                await upload.seek(0)
                inner = _json_field(await upload.read())
                return None if inner is None else _join(name, inner)
            tail = window[-8:]
        return None
    finally:
        await upload.seek(0)


async def _body_field(request: Request) -> str | None:
    """The field of the request's body holding a bad character, or None when it is clean."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.form()).multi_items():
            if isinstance(value, str):
                if _bad(name) or _bad(value):
                    return name
            elif found := await _file_field(name, value):
                return found
        return None
    body = await request.body()
    found = _json_field(body)
    if found:
        return "body" + found if found.startswith("[") else found
    return "body" if b"\x00" in body else None


async def clean_text(request: Request) -> None:
    """Refuse a NUL or lone surrogate in a path or query parameter, a header or the body."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and _bad(value):
            raise _invalid(str(name))
    for name, value in request.query_params.multi_items():
        if _bad(name) or _bad(value):
            raise _invalid(name)
    for header, raw in request.headers.raw:
        if b"\x00" in raw:
            raise _invalid(header.decode("latin-1"))
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and route.body_field is not None:
        await refuse_bad_body(request)  # FastAPI has read it already, before any dependency


async def refuse_bad_body(request: Request) -> None:
    """Refuse a body holding a NUL or lone surrogate, naming the field. Routes that read their
    body themselves call it once they know who is calling, so nobody unknown makes the server
    read a large upload."""
    field = await _body_field(request)
    if field:
        raise _invalid(field)


def _invalid(field: str) -> InvalidCharacter:
    return InvalidCharacter(
        f"{field}: contains a character that cannot be stored", field=field, expected=EXPECTED
    )


def install(app: FastAPI) -> None:
    """Cap bodies, and answer an overflow and the login throttle as problem+json."""

    app.add_middleware(BodyCap)

    @app.exception_handler(_Overflow)
    async def _overflow(request: Request, exc: _Overflow) -> Response:
        # The rest of the body is never read: the connection cannot serve another request.
        error = _too_large(cap_for(request.url.path))
        return problem(error, request.url.path, {"Connection": "close"})

    @app.exception_handler(TooManyAttempts)
    async def _too_many_attempts(request: Request, exc: TooManyAttempts) -> Response:
        return problem(exc, request.url.path, {"Retry-After": str(exc.retry_after)})
