"""Probes and metrics: `/healthz` and `/readyz` for the orchestrator, `/metrics` for Prometheus.

The probes need no sign-in and say nothing but ok or failing per check. `/metrics` answers only
the bearer token in `ISOM_METRICS_TOKEN`; without one configured it is off (404), so a fresh
install never publishes its figures.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from isom.db import Database
from isom.errors import IsomError, NotFound
from isom.ops import health, metrics
from isom.toolkit.deps import get_db

router = APIRouter(tags=["operations"])


class MetricsTokenRequired(IsomError):
    """A 401 that stays a 401: /metrics is for Prometheus, never a redirect to the sign-in page."""

    status_code = 401
    code = "metrics_token_required"
    title = "Metrics token required"


metrics.count_ledger_events()

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "The metrics token is missing or wrong"},
    404: {"description": "Metrics are off: no ISOM_METRICS_TOKEN is configured"},
}


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Liveness: answers as long as the process serves requests (restart it when not)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The process can serve: database, broker and feed lag",
    responses={503: {"description": "A check fails: problem+json naming which"}},
)
def readyz(db: Database = Depends(get_db)) -> Response:
    """Readiness: send traffic here only while every check is ok (503 problem+json otherwise)."""
    checks = health.readiness(db)
    failing = sorted(name for name, verdict in checks.items() if verdict == "failing")
    if not failing:
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        {
            "type": "https://isom.dev/problems/not-ready",
            "title": "Not ready",
            "status": 503,
            "code": "not-ready",
            "detail": f"failing: {', '.join(failing)}",
            "checks": checks,
            "instance": "/readyz",
        },
        status_code=503,
        media_type="application/problem+json",
    )


def metrics_caller(request: Request, db: Database = Depends(get_db)) -> None:
    """Let through only the bearer of the configured metrics token."""
    token = db.settings.metrics_token
    if not token:
        raise NotFound("metrics are off: set ISOM_METRICS_TOKEN to turn them on")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise MetricsTokenRequired(
            "metrics need 'Authorization: Bearer <ISOM_METRICS_TOKEN>'",
            field="Authorization",
            expected="Bearer and the metrics token",
        )


@router.get("/metrics", summary="Prometheus metrics", responses=PROBLEMS)
def prometheus_metrics(
    _: None = Depends(metrics_caller), db: Database = Depends(get_db)
) -> Response:
    """The Prometheus text exposition: latency, ledger events, feed lag, dead letters."""
    return Response(metrics.exposition(db), media_type=CONTENT_TYPE_LATEST)
