"""Where every domain's API router and pages are mounted: one list a newcomer can read."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    """Mount the API routers under /api/v1 and the pages at the root."""
    from isom.ledger import api as ledger_api

    app.include_router(ledger_api.router, prefix="/api/v1")
