"""Every request gets an id, a log line, a latency sample, and never a plain-text 500.

A pure ASGI middleware (not `BaseHTTPMiddleware`, which would buffer the server-sent event
streams): it takes a sane incoming `X-Request-ID` or makes one, echoes it in the response,
binds it to every log line of the request, times the request by route template, and turns an
error nobody handled into problem+json carrying the same id that the logged traceback carries.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isom import logs

log = logging.getLogger("isom.request")

HEADER = "X-Request-ID"
#: What we accept from a caller as its request id: short, printable, no spaces or quotes.
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
#: Probes and scrapes come every few seconds: their access lines are kept at DEBUG.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

REQUEST_SECONDS = Histogram(
    "isom_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def incoming_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is sane, else a new random one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/v1/containers/{code}`), never the raw path,
    so the metric's label set stays small whatever callers send."""
    route = scope.get("route")
    path, regex = getattr(route, "path", None), getattr(route, "path_regex", None)
    if isinstance(path, str) and regex is not None:
        # An included router's route knows its path without the router's prefix: the prefix
        # is what comes before the part of the request path the route's pattern matches.
        raw: str = scope["path"]
        for cut in (i for i, ch in enumerate(raw) if ch == "/"):
            if regex.fullmatch(raw[cut:]):
                return raw[:cut] + path
        return path
    mounted = scope.get("root_path") or ""
    return f"{mounted}/{{path}}" if mounted else "<unmatched>"


def internal_error_body(rid: str, path: str) -> bytes:
    """The problem+json of a failure we did not foresee: nothing of the cause, just the id to
    quote to an operator, who finds the traceback under it in the log."""
    return json.dumps(
        {
            "type": "https://isom.dev/problems/internal-error",
            "title": "Internal error",
            "status": 500,
            "code": "internal-error",
            "detail": f"the server failed to answer; quote request id {rid} to your operator",
            "instance": path,
            "request_id": rid,
        }
    ).encode()


class RequestContext:
    """Request id, access log, latency histogram and the last-resort 500 for one app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        logs.stamp_request_ids()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope)
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response_started:
                raise  # too late for a problem document: let the server drop the connection
            await _send_internal_error(send_with_id, rid, scope["path"])
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, status, elapsed)
            logs.request_id.reset(token)

    @staticmethod
    def _record(scope: Scope, status: int, elapsed: float) -> None:
        route = route_template(scope)
        REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(elapsed)
        level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
        log.log(
            level,
            "%s %s %s",
            scope["method"],
            scope["path"],
            status,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )


async def _send_internal_error(send: Any, rid: str, path: str) -> None:
    body = internal_error_body(rid, path)
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
