"""Planning endpoints: projected inventory per item, shortages, net requirements, schedule."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.planning import projection, scheduling, services, views
from isom.planning.scheduling import api as scheduling_api
from isom.planning.schemas import (
    NetView,
    PriceBreakIn,
    PriceBreaksIn,
    PriceBreaksView,
    ProjectionView,
    RefreshResult,
    ShortageRow,
)
from isom.toolkit.commands import PROBLEMS
from isom.toolkit.deps import Db, Reader, require_roles
from isom.types import utcnow

router = APIRouter(tags=["planning"])
router.include_router(scheduling_api.router)
PLANNERS = (Role.planner, Role.buyer, Role.supervisor)


def _today(value: dt.date | None) -> dt.date:
    return value or utcnow().date()


@router.get("/planning/items/{item}/projection", response_model=ProjectionView, responses=PROBLEMS)
def get_projection(
    _: Reader,
    db: Db,
    item: str = Path(max_length=64),
    today: dt.date | None = Query(default=None, description="Project from this day (UTC today)."),
) -> ProjectionView:
    """An item's time-phased projected inventory with pegging and its first shortage date."""
    return db.read(lambda s: views.projection_view(s, item, _today(today)))


@router.get("/planning/shortages", response_model=list[ShortageRow], responses=PROBLEMS)
def get_shortages(_: Reader, db: Db) -> list[ShortageRow]:
    """Items projected to go short, earliest shortage first (from the stored projections)."""
    return db.read(views.shortage_rows)


@router.post("/planning/refresh", response_model=RefreshResult, responses=PROBLEMS)
def post_refresh(
    db: Db,
    full: bool = Query(default=False, description="Rebuild every item, not only dirty ones."),
    _: Principal = Depends(require_roles(*PLANNERS)),
) -> RefreshResult:
    """Bring the stored projections up to date (only the items events touched, unless full)."""
    if full:
        return RefreshResult(full=True, items=db.write(projection.refresh_all))
    return RefreshResult(full=False, items=len(db.write(projection.refresh_dirty)))


@router.get("/planning/net-requirements", response_model=NetView, responses=PROBLEMS)
def get_net_requirements(_: Reader, db: Db, today: dt.date | None = Query(default=None)) -> NetView:
    """Multi-level netting: what to make and buy, for which demand, and supply arriving late."""
    return db.read(lambda s: views.net_view(s, _today(today)))


@router.get("/planning/schedule", response_model=scheduling.Schedule, responses=PROBLEMS)
def get_schedule(
    _: Reader,
    db: Db,
    learned: bool = Query(default=False, description="Use times learned from history."),
) -> scheduling.Schedule:
    """Backward schedule of open jobs: step start/end, load per workstation and day, overloads."""
    return db.read(lambda s: scheduling.backward_schedule(s, learned=learned))


def _breaks_view(session: Session, supplier: str, item: str) -> PriceBreaksView:
    offer = services.supplier_item(session, supplier, item)
    return PriceBreaksView(
        supplier=supplier,
        item=item,
        list_price=offer.price,
        breaks=[
            PriceBreakIn(min_quantity=b.min_quantity, price=b.price)
            for b in services.price_breaks(session, supplier, item)
        ],
    )


@router.put("/planning/price-breaks", response_model=PriceBreaksView, responses=PROBLEMS)
def put_price_breaks(
    body: PriceBreaksIn, db: Db, _: Principal = Depends(require_roles(Role.buyer, Role.planner))
) -> PriceBreaksView:
    """Set the price breaks purchasing uses for a supplier's item (replaces the old ones)."""

    def work(session: Session) -> PriceBreaksView:
        pairs = [(b.min_quantity, b.price) for b in body.breaks]
        services.put_price_breaks(session, body.supplier, body.item, pairs)
        return _breaks_view(session, body.supplier, body.item)

    return db.write(work)


@router.get("/planning/price-breaks", response_model=PriceBreaksView, responses=PROBLEMS)
def get_price_breaks(
    _: Reader, db: Db, supplier: str = Query(max_length=64), item: str = Query(max_length=64)
) -> PriceBreaksView:
    """A supplier's list price for an item and its price breaks."""
    return db.read(lambda s: _breaks_view(s, supplier, item))
