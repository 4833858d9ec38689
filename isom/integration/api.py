"""Integration endpoints: the pull feed, webhook subscribers, EPCIS 2.0, B2MML and CSV exports.

Reading the feed and the exports needs the integrator role (admin always may); managing
webhook subscribers is for administrators only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from isom import bounds
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.errors import Conflict, problem_responses
from isom.integration import (
    b2mml,
    capture,
    csv_export,
    delivery,
    epcis,
    feed,
    job_cost_feed,
    reconcile,
)
from isom.toolkit import guards
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import Db, require_roles

router = APIRouter(tags=["integration"], lifespan=job_cost_feed.lifespan)

PROBLEMS = problem_responses("A name in the request names nothing", "Conflicts with existing data")

INTEGRATOR = require_roles(Role.integrator)
CAPTURER = require_roles(Role.integrator, Role.device)
RECONCILER = require_roles(Role.integrator, Role.accountant, Role.supervisor)
ADMIN = require_roles()
Integrator = Annotated[Principal, Depends(INTEGRATOR)]
Capturer = Annotated[Principal, Depends(CAPTURER)]
Reconciler = Annotated[Principal, Depends(RECONCILER)]
Admin = Annotated[Principal, Depends(ADMIN)]
XML = "application/xml"
CSV = "text/csv"


def _text(media_type: str, what: str) -> dict[str, Any]:
    """Route options for an export that answers `media_type` text, so the OpenAPI says so."""
    content = {media_type: {"schema": {"type": "string"}}}
    return {
        "response_class": Response,
        "responses": {**PROBLEMS, 200: {"description": what, "content": content}},
    }


RunId = Annotated[int, Path(ge=1, le=bounds.MAX_ID, description="The reconciliation's id")]


@router.get("/feed", responses=PROBLEMS, summary="The feed, after a cursor")
def get_feed(
    db: Db,
    _: Integrator,
    after: int = Query(
        0, ge=0, le=bounds.MAX_BIG, description="The `next_cursor` of the previous page; 0 = start"
    ),
    limit: int = Query(100, ge=1, le=10_000),
    topic: list[str] | None = Query(None, description="Glob patterns, e.g. inventory.*"),
) -> feed.FeedPage:
    feed.sync(db)
    return db.read(lambda s: feed.page(s, after, limit, topic))


class ReplayIn(BaseModel):
    after: int = Field(0, ge=0, le=bounds.MAX_BIG)


@router.get("/feed/subscribers", responses=PROBLEMS, summary="Webhook subscribers")
def list_subscribers(db: Db, _: Admin) -> list[delivery.SubscriberView]:
    return db.read(delivery.list_subscribers)


@router.post(
    "/feed/subscribers", status_code=201, responses=PROBLEMS, summary="Add a webhook subscriber"
)
def create_subscriber(db: Db, _: Admin, body: delivery.SubscriberIn) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.create_subscriber(s, body))


@router.get("/feed/subscribers/{name}", responses=PROBLEMS, summary="One subscriber")
def get_subscriber(db: Db, _: Admin, name: str) -> delivery.SubscriberView:
    return db.read(lambda s: delivery.get_subscriber(s, name))


@router.delete("/feed/subscribers/{name}", status_code=204, responses=PROBLEMS, summary="Remove")
def delete_subscriber(db: Db, _: Admin, name: str) -> Response:
    db.write(lambda s: delivery.delete_subscriber(s, name))
    return Response(status_code=204)


@router.post("/feed/subscribers/{name}/pause", responses=PROBLEMS, summary="Pause delivery")
def pause(db: Db, _: Admin, name: str) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.set_paused(s, name, True))


@router.post("/feed/subscribers/{name}/resume", responses=PROBLEMS, summary="Resume delivery")
def resume(db: Db, _: Admin, name: str) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.set_paused(s, name, False))


@router.post("/feed/subscribers/{name}/replay", responses=PROBLEMS, summary="Replay from a cursor")
def replay(db: Db, _: Admin, name: str, body: ReplayIn) -> delivery.SubscriberView:
    return db.write(lambda s: delivery.replay(s, name, body.after))


@router.get(
    "/feed/subscribers/{name}/dead-letters", responses=PROBLEMS, summary="Dead-lettered messages"
)
def dead_letters(db: Db, _: Admin, name: str) -> list[delivery.DeadLetterView]:
    """The messages the subscriber refused, not yet taken by a re-send."""
    return db.read(lambda s: delivery.dead_letters(s, name))


@router.post(
    "/feed/subscribers/{name}/dead-letters/{letter_id}/resend",
    responses={**PROBLEMS, 502: {"description": "The receiver did not take it; it stays"}},
    summary="Send one dead letter again",
)
def resend_dead_letter(
    _: Admin, name: str, db: Db, letter_id: int = Path(ge=1, le=2**31 - 1)
) -> delivery.DeadLetterView:
    """Send that one message again, alone; once the receiver takes it, the letter is cleared."""
    return delivery.resend_dead_letter(db, name, letter_id)


# --- EPCIS 2.0 ----------------------------------------------------------------------------


@router.get("/epcis/events", responses=PROBLEMS, summary="EPCIS 2.0 query (JSON-LD)")
def epcis_events(
    _: Integrator,
    response: Response,
    db: Db,
    event_type: str | None = Query(None, alias="eventType"),
    ge_event_time: dt.datetime | None = Query(None, alias="GE_eventTime"),
    lt_event_time: dt.datetime | None = Query(None, alias="LT_eventTime"),
    eq_biz_step: str | None = Query(None, alias="EQ_bizStep"),
    eq_biz_location: str | None = Query(None, alias="EQ_bizLocation"),
    match_epc: str | None = Query(None, alias="MATCH_epc"),
    match_any_epc: str | None = Query(None, alias="MATCH_anyEPC"),
    per_page: int = Query(100, alias="perPage", ge=1, le=1000),
    next_page_token: str | None = Query(None, alias="nextPageToken"),
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


@router.post(
    "/epcis/capture",
    responses={
        200: {"description": "Every event was captured before: nothing applied"},
        **PROBLEMS,
    },
    status_code=201,
    summary="Capture an EPCIS 2.0 document (all or nothing, idempotent on eventID)",
)
def epcis_capture(
    principal: Capturer,
    response: Response,
    db: Db,
    document: dict[str, Any] = Body(..., description="An EPCISDocument (JSON-LD)"),
) -> capture.CaptureResult:
    result = db.write(lambda s: capture.capture(s, actor_of(principal), document))
    response.status_code = 201 if result.applied else 200
    response.headers["GS1-EPCIS-Version"] = "2.0.0"
    return result


@router.post(
    "/epcis/events",
    responses=PROBLEMS,
    status_code=201,
    summary="Capture one EPCIS 2.0 event (201; 409 when its eventID exists)",
)
def epcis_capture_event(
    db: Db,
    principal: Capturer,
    event: dict[str, Any] = Body(..., description="One EPCIS event with its eventID"),
) -> capture.EventOutcome:
    def run(s: Session) -> capture.EventOutcome:
        doc = epcis.document([event])
        doc["@context"] = event.pop("@context", epcis.CONTEXT)
        outcome = capture.capture(s, actor_of(principal), doc).events[0]
        if outcome.status == "replayed":
            raise Conflict(
                f"event {outcome.eventID!r} exists",
                field="eventID",
                expected="a new eventID (a retry of a stored event is answered 409)",
            )
        return outcome

    return db.write(run)


# --- B2MML and CSV ------------------------------------------------------------------------


@router.get(
    "/b2mml/material-lots",
    summary="B2MML V0700 SyncMaterialLot",
    **_text(XML, "A SyncMaterialLot document"),
)
def b2mml_material_lots(db: Db, _: Integrator, item: str | None = None) -> Response:
    xml = db.read(lambda s: b2mml.sync_material_lot(s, item=item))
    return Response(content=xml, media_type=XML)


@router.get(
    "/b2mml/operations-performance",
    summary="B2MML V0700 SyncOperationsPerformance (production results)",
    **_text(XML, "A SyncOperationsPerformance document"),
)
def b2mml_operations_performance(
    db: Db,
    _: Integrator,
    work_order: str | None = Query(None, description="One job; default every started job"),
) -> Response:
    xml = db.read(lambda s: b2mml.sync_operations_performance(s, work_order=work_order))
    return Response(content=xml, media_type=XML)


@router.get(
    "/export/inventory.csv",
    summary="Inventory as CSV",
    **_text(CSV, "One row per item, location, lot and status"),
)
def inventory_csv(db: Db, _: Integrator) -> Response:
    text = db.read(csv_export.inventory_csv)
    return Response(content=text, media_type="text/csv; charset=utf-8")


@router.get("/export/feed.csv", summary="The feed as CSV", **_text(CSV, "One row per feed message"))
def feed_csv(
    db: Db,
    _: Integrator,
    after: int = Query(0, ge=0, le=bounds.MAX_BIG),
    limit: int = Query(10_000, ge=1, le=10_000),
) -> Response:
    feed.sync(db)
    text = db.read(lambda s: csv_export.feed_csv(s, after, limit))
    return Response(content=text, media_type="text/csv; charset=utf-8")


# --- reconciliation -----------------------------------------------------------------------


@router.post(
    "/reconciliations",
    status_code=201,
    responses=PROBLEMS,
    summary="Load the ERP's inventory (CSV or JSON) and list the differences",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            }
        }
    },
)
async def create_reconciliation(
    principal: Reconciler,
    request: Request,
    db: Db,
    source: str = Query("api", max_length=200, description="Where the file came from"),
) -> reconcile.ReconciliationView:
    await guards.refuse_bad_body(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    fmt = "json" if "json" in request.headers.get("content-type", "") else "csv"
    return await run_in_threadpool(
        db.write,
        lambda s: reconcile.load(s, body, fmt, source=source, actor=principal.name),
    )


@router.get("/reconciliations", responses=PROBLEMS, summary="Recent reconciliations")
def list_reconciliations(db: Db, _: Reconciler) -> list[reconcile.ReconciliationView]:
    return db.read(reconcile.recent)


@router.get("/reconciliations/{run_id}", responses=PROBLEMS, summary="One reconciliation")
def get_reconciliation(db: Db, _: Reconciler, run_id: RunId) -> reconcile.ReconciliationView:
    return db.read(lambda s: reconcile.get(s, run_id))


@router.get(
    "/reconciliations/{run_id}/differences.csv",
    summary="Differences as CSV",
    **_text(CSV, "One row per difference"),
)
def reconciliation_csv(db: Db, _: Reconciler, run_id: RunId) -> Response:
    view = db.read(lambda s: reconcile.get(s, run_id))
    return Response(
        content=reconcile.differences_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="reconciliation-{run_id}.csv"'},
    )
