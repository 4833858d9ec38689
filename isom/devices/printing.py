"""Printing labels: a side effect that runs only after the change it labels has committed."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from isom.db import Database
from isom.devices import labels
from isom.devices import services as devices
from isom.devices.schemas import IngestAnswer, PrinterOut, PrintOut, PrintRequest
from isom.errors import IsomError

log = logging.getLogger(__name__)


def print_label(db: Database, req: PrintRequest) -> PrintOut:
    """Send a label to a ZPL printer, or answer where a PDF printer's label is downloaded."""

    def render(s: Session) -> tuple[PrinterOut, bytes]:
        printer = devices.printer_out(devices.get_printer(s, req.printer))
        label = labels.describe(s, req.kind, req.code, req.lot)
        size = req.size or printer.label_size
        if printer.kind == "zpl":
            return printer, labels.to_zpl(label, size, printer.dpi, req.copies).encode()
        return printer, labels.to_pdf(label, size, req.copies)

    printer, data = db.read(render)
    download = None
    if printer.kind == "zpl":
        labels.send_raw(printer.host or "", printer.port, data)
    else:
        lot = f"&lot={req.lot}" if req.lot else ""
        download = (
            f"/api/v1/devices/labels/{req.kind}/{req.code}.pdf?size="
            f"{req.size or printer.label_size}&copies={req.copies}{lot}"
        )
    return PrintOut(
        printer=printer.code,
        kind=req.kind,
        code=req.code,
        copies=req.copies,
        bytes=len(data),
        download=download,
    )


def print_after(db: Database, answer: IngestAnswer) -> None:
    """Print the label a committed device event asked for (`printer` on receive or stop).

    The event stands whether or not the printer takes the label; the outcome is added to the
    answer the device gets, so an operator knows to reprint.
    """
    wanted = answer.result.get("label")
    if not wanted or not wanted.get("container"):
        return
    try:
        printed = print_label(
            db, PrintRequest(kind="container", code=wanted["container"], printer=wanted["printer"])
        )
        answer.result["label"] = {**wanted, "printed": True, "bytes": printed.bytes}
    except IsomError as exc:
        log.warning("label for %s not printed: %s", wanted["container"], exc.detail)
        answer.result["label"] = {**wanted, "printed": False, "error": exc.detail}
