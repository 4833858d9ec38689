"""Production endpoints: work orders, step scans, machine states, the live WIP board."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from isom.auth.models import Role
from isom.production import cutting, queries
from isom.production import services as production
from isom.production.schemas import (
    ChangeWorkOrder,
    ConsumeScan,
    CreateWorkOrder,
    MachineStateCommand,
    ReleaseWorkOrder,
    ReturnScan,
    ScanResult,
    StepScan,
    StopScan,
    WorkOrderView,
)
from isom.toolkit.commands import PROBLEMS, command_routes
from isom.toolkit.deps import Db, Reader

router = APIRouter(tags=["production"])

R = Role
SCANNERS = (R.operator, R.supervisor, R.device)
WIP_POLL_SECONDS = 0.25  # how soon the live board sees a scan
PLANNERS = (R.planner, R.supervisor)


_endpoint = command_routes(router, ScanResult, prefix="/production", name="production")


_endpoint(
    "work-orders", production.create_work_order, CreateWorkOrder, PLANNERS, "Create a work order"
)
_endpoint(
    "work-orders/release",
    production.release_work_order,
    ReleaseWorkOrder,
    PLANNERS,
    "Release a work order",
)
_endpoint(
    "work-orders/close",
    production.close_work_order,
    ChangeWorkOrder,
    PLANNERS,
    "Close a complete work order (a supervisor: also one in progress)",
)
_endpoint(
    "work-orders/cancel",
    production.cancel_work_order,
    ChangeWorkOrder,
    PLANNERS,
    "Cancel a work order",
)
_endpoint("scan/start", production.start_step, StepScan, SCANNERS, "Start or join a step")
_endpoint("scan/pause", production.pause_step, StepScan, SCANNERS, "Pause a step")
_endpoint("scan/resume", production.resume_step, StepScan, SCANNERS, "Resume a paused step")
_endpoint(
    "scan/leave", production.leave_step, StepScan, SCANNERS, "Leave a step (break, shift end)"
)
_endpoint(
    "scan/consume",
    production.consume_scan,
    ConsumeScan,
    SCANNERS,
    "Consume a container into a step",
)
_endpoint("scan/stop", production.stop_step, StopScan, SCANNERS, "Stop a step with good and scrap")
_endpoint(
    "scan/return",
    production.return_material,
    ReturnScan,
    SCANNERS,
    "Return unused material (or WIP output) of a step to stock",
)
_endpoint(
    "machine-state",
    production.machine_state,
    MachineStateCommand,
    SCANNERS,
    "Record a machine state",
)


@router.get("/production/work-orders/{number}", response_model=WorkOrderView, responses=PROBLEMS)
def get_work_order(_: Reader, db: Db, number: str = Path(max_length=40)) -> WorkOrderView:
    """A job with its steps and step BOM as released."""
    return db.read(lambda s: queries.work_order(s, number))


@router.get(
    "/production/work-orders/{number}/steps/{sequence}/cut-plan",
    response_model=cutting.CutPlanView,
    responses=PROBLEMS,
)
def get_cut_plan(
    _: Reader, db: Db, number: str = Path(max_length=40), sequence: int = Path(ge=0, le=1_000_000)
) -> cutting.CutPlanView:
    """Which reel to cut each piece a step still needs from, wasting the least."""
    return db.read(lambda s: cutting.cut_plan(s, number, sequence))


@router.get("/production/learned-times", response_model=list[queries.LearnedTime])
def get_learned_times(_: Reader, db: Db) -> list[queries.LearnedTime]:
    """Actual step minutes per operation, item and workstation beside the standards."""
    return db.read(queries.learned_times)


@router.get("/production/wip", response_model=queries.WipBoard, responses=PROBLEMS)
def get_wip(
    _: Reader, db: Db, stuck_minutes: int = Query(default=30, ge=1, le=10_000)
) -> queries.WipBoard:
    """Live WIP: every open job's step, quantities at and between steps, people, late/stuck."""
    return db.read(lambda s: queries.wip(s, stuck_minutes=stuck_minutes))


@router.get(
    "/production/wip/stream",
    response_class=StreamingResponse,
    responses={
        **PROBLEMS,
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
    },
)
def stream_wip(
    request: Request,
    _: Reader,
    db: Db,
    refresh: float = Query(
        default=15, ge=1, le=600, description="Send the board at least this often (seconds)."
    ),
) -> StreamingResponse:
    """Server-sent events: the WIP board, sent again within a second of any scan.

    Every quarter second the stream reads the newest event ids (two index lookups); the board is
    rebuilt only when one changed, or every `refresh` seconds so elapsed times keep moving.
    """

    async def events() -> AsyncIterator[str]:
        last_text: str | None = None
        last_version: tuple[int | None, int | None] | None = None
        built_at = 0.0
        while True:
            version = await asyncio.to_thread(db.read, queries.wip_version)
            now = time.monotonic()
            if version != last_version or now - built_at >= refresh:
                last_version, built_at = version, now
                board = await asyncio.to_thread(db.read, lambda s: queries.wip(s))
                body = board.model_dump(mode="json")
                body.pop("at", None)
                text = json.dumps(body, sort_keys=True)
                if text != last_text:
                    last_text = text
                    yield f"event: wip\ndata: {text}\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(WIP_POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
