"""Integration endpoints: the pull feed, webhook subscribers, EPCIS 2.0, B2MML and CSV exports.

Reading the feed and the exports needs the integrator role (admin always may); managing
webhook subscribers is for administrators only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.integration import b2mml, csv_export, delivery, epcis, feed
from isom.web.deps import get_db, require_roles

router = APIRouter(tags=["integration"])

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in, or the token is unknown or revoked"},
    403: {"description": "The caller's role does not allow this"},
    404: {"description": "A name in the request names nothing"},
    409: {"description": "Conflicts with existing data"},
    422: {"description": "Invalid input: the field and what was expected"},
}

INTEGRATOR = require_roles(Role.integrator)
ADMIN = require_roles()


@router.get("/feed", responses=PROBLEMS, summary="The feed, after a cursor")
def get_feed(
    after: int = Query(0, ge=0, description="The `next_cursor` of the previous page; 0 = start"),
    limit: int = Query(100, ge=1, le=10_000),
    topic: list[str] | None = Query(None, description="Glob patterns, e.g. inventory.*"),
    _: Principal = Depends(INTEGRATOR),
    db: Database = Depends(get_db),
) -> feed.FeedPage:
    feed.sync(db)
    return db.read(lambda s: feed.page(s, after, limit, topic))


class ReplayIn(BaseModel):
    after: int = 0


@router.get("/feed/subscribers", responses=PROBLEMS, summary="Webhook subscribers")
def list_subscribers(
    _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> list[delivery.SubscriberView]:
    return db.read(delivery.list_subscribers)


@router.post(
    "/feed/subscribers", status_code=201, responses=PROBLEMS, summary="Add a webhook subscriber"
)
def create_subscriber(
    body: delivery.SubscriberIn, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.create_subscriber(s, body))


@router.get("/feed/subscribers/{name}", responses=PROBLEMS, summary="One subscriber")
def get_subscriber(
    name: str, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> delivery.SubscriberView:
    return db.read(lambda s: delivery.get_subscriber(s, name))


@router.delete("/feed/subscribers/{name}", status_code=204, responses=PROBLEMS, summary="Remove")
def delete_subscriber(
    name: str, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> Response:
    db.write(lambda s: delivery.delete_subscriber(s, name))
    return Response(status_code=204)


@router.post("/feed/subscribers/{name}/pause", responses=PROBLEMS, summary="Pause delivery")
def pause(
    name: str, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.set_paused(s, name, True))


@router.post("/feed/subscribers/{name}/resume", responses=PROBLEMS, summary="Resume delivery")
def resume(
    name: str, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.set_paused(s, name, False))


@router.post("/feed/subscribers/{name}/replay", responses=PROBLEMS, summary="Replay from a cursor")
def replay(
    name: str, body: ReplayIn, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.replay(s, name, body.after))


@router.get(
    "/feed/subscribers/{name}/dead-letters", responses=PROBLEMS, summary="Dead-lettered messages"
)
def dead_letters(
    name: str, _: Principal = Depends(ADMIN), db: Database = Depends(get_db)
) -> list[delivery.DeadLetterView]:
    return db.read(lambda s: delivery.dead_letters(s, name))


# --- EPCIS 2.0 ----------------------------------------------------------------------------


@router.get("/epcis/events", responses=PROBLEMS, summary="EPCIS 2.0 query (JSON-LD)")
def epcis_events(
    response: Response,
    event_type: str | None = Query(None, alias="eventType"),
    ge_event_time: dt.datetime | None = Query(None, alias="GE_eventTime"),
    lt_event_time: dt.datetime | None = Query(None, alias="LT_eventTime"),
    eq_biz_step: str | None = Query(None, alias="EQ_bizStep"),
    eq_biz_location: str | None = Query(None, alias="EQ_bizLocation"),
    match_epc: str | None = Query(None, alias="MATCH_epc"),
    match_any_epc: str | None = Query(None, alias="MATCH_anyEPC"),
    per_page: int = Query(100, alias="perPage", ge=1, le=1000),
    next_page_token: str | None = Query(None, alias="nextPageToken"),
    _: Principal = Depends(INTEGRATOR),
    db: Database = Depends(get_db),
) -> dict[str, Any]:
    query = epcis.EpcisQuery(
        event_type=event_type,
        ge_event_time=ge_event_time,
        lt_event_time=lt_event_time,
        biz_step=eq_biz_step,
        biz_location=eq_biz_location,
        match_epc=match_epc,
        match_any_epc=match_any_epc,
        per_page=per_page,
        page_token=next_page_token,
    )
    doc, token = db.read(lambda s: epcis.query(s, query))
    if token:
        response.headers["Link"] = f'<?nextPageToken={token}>; rel="next"'
    response.headers["GS1-EPCIS-Version"] = "2.0.0"
    return doc


# --- B2MML and CSV ------------------------------------------------------------------------


@router.get("/b2mml/material-lots", responses=PROBLEMS, summary="B2MML V0700 SyncMaterialLot")
def b2mml_material_lots(
    item: str | None = None,
    _: Principal = Depends(INTEGRATOR),
    db: Database = Depends(get_db),
) -> Response:
    xml = db.read(lambda s: b2mml.sync_material_lot(s, item=item))
    return Response(content=xml, media_type="application/xml")


@router.get("/export/inventory.csv", responses=PROBLEMS, summary="Inventory as CSV")
def inventory_csv(_: Principal = Depends(INTEGRATOR), db: Database = Depends(get_db)) -> Response:
    text = db.read(csv_export.inventory_csv)
    return Response(content=text, media_type="text/csv; charset=utf-8")


@router.get("/export/feed.csv", responses=PROBLEMS, summary="The feed as CSV")
def feed_csv(
    after: int = Query(0, ge=0),
    limit: int = Query(10_000, ge=1, le=10_000),
    _: Principal = Depends(INTEGRATOR),
    db: Database = Depends(get_db),
) -> Response:
    feed.sync(db)
    text = db.read(lambda s: csv_export.feed_csv(s, after, limit))
    return Response(content=text, media_type="text/csv; charset=utf-8")
