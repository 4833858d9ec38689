"""Device endpoints: scan resolution, SSCCs, labels and printers, device registry, HTTP ingest."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.devices import dead_letters, labels
from isom.devices import services as devices
from isom.devices.ingest import ingest
from isom.devices.models import MachineCount
from isom.devices.printing import print_after, print_label
from isom.devices.scans import resolve
from isom.devices.schemas import (
    DeadLetterView,
    DeviceIn,
    DeviceOut,
    Gs1SiteIn,
    Gs1SiteOut,
    IngestAnswer,
    PrinterIn,
    PrinterOut,
    PrintOut,
    PrintRequest,
    ScanIn,
    ScanView,
    SsccOut,
    SsccReceive,
    SsccRequest,
)
from isom.errors import InvalidInput
from isom.ledger.schemas import EventResult
from isom.masterdata.models import Workstation
from isom.toolkit.commands import PROBLEMS, actor_of, apply_command
from isom.toolkit.deps import READERS, Db, Key, Reader, require_roles


@asynccontextmanager
async def _ingest_worker(app: FastAPI) -> AsyncIterator[None]:
    """Run the MQTT ingest worker with the app when `ISOM_MQTT_INGEST=1` (off by default)."""
    worker = None
    if os.environ.get("ISOM_MQTT_INGEST", "0") == "1":
        from isom.devices.mqtt import IngestWorker

        worker = IngestWorker(app.state.db).start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()


router = APIRouter(tags=["devices"], lifespan=_ingest_worker)

R = Role
ADMINS = (R.supervisor,)
WAREHOUSE = (R.clerk, R.supervisor, R.device)
PRINTING = (R.clerk, R.operator, R.supervisor, R.device)
LabelSize = Query(default=None, pattern=r"^(100x150|100x50|50x25)$")


def _replay(response: Response, replayed: bool) -> None:
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"


@router.post("/devices/scan/resolve", responses=PROBLEMS, summary="What a scanned code names")
def scan_resolve(
    scan: ScanIn, db: Db, _: Principal = Depends(require_roles(*READERS, R.device))
) -> ScanView:
    """Parse a scan (GS1-128, DataMatrix, QR, parenthesised, Digital Link, internal code) and
    say what it names: a container, an item with lot, quantity and expiry, a location, a person,
    a job."""
    return db.read(lambda s: resolve(s, scan.data))


@router.put("/devices/gs1-sites", responses=PROBLEMS, summary="Set a site's GS1 identity")
def put_gs1_site(
    data: Gs1SiteIn, db: Db, _: Principal = Depends(require_roles(*ADMINS))
) -> Gs1SiteOut:
    """Company prefix, SSCC extension digit and GLN of a site; the serial counter is kept."""
    return db.write(lambda s: devices.set_gs1_site(s, data))


@router.get("/devices/gs1-sites/{site}", responses=PROBLEMS, summary="A site's GS1 identity")
def get_gs1_site(_: Reader, db: Db, site: str = Path(max_length=64)) -> Gs1SiteOut:
    """A site's GS1 settings and how many serial references are left."""
    return db.read(lambda s: devices.gs1_site(s, site))


@router.post("/devices/sscc", status_code=201, responses=PROBLEMS, summary="Allocate an SSCC")
def post_sscc(
    request: SsccRequest,
    response: Response,
    db: Db,
    key: Key,
    principal: Principal = Depends(require_roles(*WAREHOUSE)),
) -> SsccOut:
    """A new SSCC from the site's counter (never reused); the same key answers the same SSCC."""
    out = db.write(lambda s: devices.allocate_sscc(s, actor_of(principal), key, request.site))
    _replay(response, out.replayed)
    return out


@router.post(
    "/devices/receive",
    status_code=201,
    responses=PROBLEMS,
    summary="Receive into an SSCC-labelled container",
)
def post_receive(
    command: SsccReceive,
    response: Response,
    db: Db,
    key: Key,
    principal: Principal = Depends(require_roles(*WAREHOUSE)),
) -> EventResult:
    """Receive through the ledger; a container without a code gets a new SSCC. With `printer`,
    its label is printed after the receive is committed."""
    result = db.write(lambda s: devices.receive_labelled(s, actor_of(principal), key, command))
    _replay(response, result.replayed)
    if command.printer is not None:
        container = result.containers[0]
        printed = print_label(
            db,
            PrintRequest(kind="container", code=container, printer=command.printer),
        )
        result.detail = {**result.detail, "label": printed.model_dump()}
    return result


@router.post("/devices/labels/print", responses=PROBLEMS, summary="Print a label")
def post_print_label(
    req: PrintRequest, db: Db, _: Principal = Depends(require_roles(*PRINTING))
) -> PrintOut:
    """Send a container, lot, location or badge label to a ZPL printer, or answer the PDF's
    download address for a PDF printer."""
    return print_label(db, req)


@router.get(
    "/devices/labels/{kind}/{code}.{fmt}",
    responses={200: {"content": {"application/pdf": {}, "text/plain": {}}}, **PROBLEMS},
    summary="A label as PDF or ZPL",
)
def get_label(
    kind: labels.LabelKind,
    db: Db,
    code: str = Path(max_length=64),
    fmt: str = Path(pattern=r"^(pdf|zpl)$"),
    lot: str | None = Query(default=None, max_length=64),
    size: str | None = LabelSize,
    dpi: int = Query(default=203, ge=203, le=300),
    copies: int = Query(default=1, ge=1, le=50),
    _: Principal = Depends(require_roles(*READERS, R.device)),
) -> Response:
    """The label of a container, lot (`code` = item, `lot`), location or badge."""
    label = db.read(lambda s: labels.describe(s, kind, code, lot))
    chosen = size or ("100x150" if kind == "container" else "100x50")
    if fmt == "pdf":
        return Response(
            labels.to_pdf(label, chosen, copies),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{kind}-{code}.pdf"'},
        )
    return Response(labels.to_zpl(label, chosen, dpi, copies), media_type="text/plain")


@router.get("/devices/printers", responses=PROBLEMS, summary="Label printers")
def get_printers(_: Reader, db: Db) -> list[PrinterOut]:
    """The configured label printers."""
    from isom.devices.models import Printer

    return db.read(
        lambda s: [
            devices.printer_out(p) for p in s.scalars(select(Printer).order_by(Printer.code))
        ]
    )


@router.put("/devices/printers", responses=PROBLEMS, summary="Add or change a printer")
def put_printer(
    data: PrinterIn, db: Db, _: Principal = Depends(require_roles(*ADMINS))
) -> PrinterOut:
    """A PDF printer (download) or a Zebra taking raw ZPL on host:port."""
    return db.write(lambda s: devices.set_printer(s, data))


@router.post("/devices", status_code=201, responses=PROBLEMS, summary="Register a device")
def post_device(
    data: DeviceIn, db: Db, _: Principal = Depends(require_roles(*ADMINS))
) -> DeviceOut:
    """Register a scanner, RFID portal, scale or controller; its API token is shown once."""
    return db.write(lambda s: devices.register_device(s, data))


@router.get("/devices", responses=PROBLEMS, summary="Devices, with silent controllers flagged")
def get_devices(
    _: Reader,
    db: Db,
    silent: bool = Query(default=False, description="Only controllers that went silent"),
) -> list[DeviceOut]:
    """Every device with its last message; a controller silent past its limit is flagged."""
    return db.read(lambda s: devices.list_devices(s, silent_only=silent))


@router.get(
    "/devices/dead-letters", responses=PROBLEMS, summary="Device messages that were not applied"
)
def get_dead_letters(
    db: Db,
    device: str | None = Query(default=None, max_length=64),
    after: int = Query(default=0, ge=0, le=2**62, description="Only letters after this id"),
    limit: int = Query(default=100, ge=1, le=1000),
    _: Principal = Depends(require_roles()),
) -> list[DeadLetterView]:
    """For an administrator: each payload as received (token blanked) and why it was refused."""
    return db.read(lambda s: dead_letters.list_letters(s, device=device, after=after, limit=limit))


@router.get("/devices/machine-counts", responses=PROBLEMS, summary="Pieces counted per step")
def get_machine_counts(
    _: Reader, db: Db, workstation: str | None = Query(default=None, max_length=64)
) -> list[dict[str, Any]]:
    """Pieces controllers counted, per workstation and job step (None: no job was running)."""

    def totals(s: Session) -> list[dict[str, Any]]:
        query = (
            select(Workstation.code, MachineCount.step, func.sum(MachineCount.pieces))
            .join(Workstation, Workstation.id == MachineCount.workstation_id)
            .group_by(Workstation.code, MachineCount.step)
            .order_by(Workstation.code, MachineCount.step)
        )
        if workstation:
            query = query.where(Workstation.code == workstation)
        return [
            {"workstation": ws, "step": step, "pieces": str(total)}
            for ws, step, total in s.execute(query)
        ]

    return db.read(totals)


@router.post(
    "/devices/events",
    status_code=201,
    responses={200: {"description": "A replay of an earlier eventID"}, **PROBLEMS},
    summary="HTTP ingest of a device event",
)
async def post_event(
    response: Response,
    db: Db,
    payload: dict[str, Any] = Body(
        description="The same JSON a device publishes over MQTT, plus `kind` "
        "(scan, rfid, weight, machine) and `device` (the device code)."
    ),
    principal: Principal = Depends(require_roles(R.device, R.supervisor)),
) -> IngestAnswer:
    """For devices without MQTT: one event, applied once per (device, eventID)."""
    device = payload.get("device") or principal.device
    kind = payload.get("kind")
    if not device or not isinstance(device, str):
        raise InvalidInput("which device sent this?", field="device", expected="a device code")
    if not isinstance(kind, str):
        raise InvalidInput(
            "the event kind is missing", field="kind", expected="scan, rfid, weight or machine"
        )

    def work(session: Session) -> IngestAnswer:
        return ingest(session, device=device, kind=kind, payload=payload, principal=principal)

    answer = await apply_command(db, work, grouped=True)  # committed with its peers' events
    _replay(response, answer.status == "replayed")
    if answer.status == "accepted":
        await run_in_threadpool(print_after, db, answer)  # a printer is slow I/O
    return answer
