"""Where every domain's API router and pages are mounted: one list a newcomer can read."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def include_all(app: FastAPI) -> None:
    """Mount the API routers under /api/v1 and the pages at the root."""
    from isom.agents import api as agents_api
    from isom.agents import pages as agents_pages
    from isom.auth import api as auth_api
    from isom.costing import api as costing_api
    from isom.costing import pages as costing_pages
    from isom.dc import api as dc_api
    from isom.dc import pages as dc_pages
    from isom.devices import api as devices_api
    from isom.integration import api as integration_api
    from isom.integration import pages as integration_pages
    from isom.ledger import api as ledger_api
    from isom.ledger import pages as ledger_pages
    from isom.masterdata import api as masterdata_api
    from isom.masterdata import pages as masterdata_pages
    from isom.ops import api as ops_api
    from isom.orders import api as orders_api
    from isom.orders import pages as orders_pages
    from isom.planning import api as planning_api
    from isom.planning import pages as planning_pages
    from isom.production import api as production_api
    from isom.production import pages as production_pages
    from isom.toolkit import charts
    from isom.web import admin, pages, reports, scanning

    app.include_router(auth_api.router, prefix="/api/v1")
    app.include_router(ledger_api.router, prefix="/api/v1")
    app.include_router(masterdata_api.router, prefix="/api/v1")
    app.include_router(integration_api.router, prefix="/api/v1")
    app.include_router(production_api.router, prefix="/api/v1")
    app.include_router(costing_api.router, prefix="/api/v1")
    app.include_router(orders_api.router, prefix="/api/v1")
    app.include_router(devices_api.router, prefix="/api/v1")
    app.include_router(planning_api.router, prefix="/api/v1")
    app.include_router(agents_api.router, prefix="/api/v1")
    app.include_router(dc_api.router, prefix="/api/v1")
    app.include_router(pages.router)
    app.include_router(scanning.router)
    app.include_router(masterdata_pages.router)
    app.include_router(admin.router)
    app.include_router(ledger_pages.router)
    app.include_router(costing_pages.router)
    app.include_router(orders_pages.router)
    app.include_router(reports.router)
    app.include_router(charts.router)
    app.include_router(production_pages.router)
    app.include_router(integration_pages.router)
    app.include_router(planning_pages.router)
    app.include_router(agents_pages.router)
    app.include_router(dc_pages.router)
    app.include_router(ops_api.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
