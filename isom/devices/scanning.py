"""Scans: resolve each code a scanner read, then act on what they name.

A scan's codes (container, job step, badge, workstation, location labels) are resolved once
(`isom.devices.scans`); the action then becomes a ledger move or receive, or a production start,
pause, resume, leave, consume or stop, each under a key derived from the scan's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from isom.devices import scans
from isom.devices.models import Device, DeviceMessage
from isom.devices.schemas import ScanEvent, ScanView
from isom.errors import InvalidInput, NotFound
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, MoveCommand, ReceiveCommand, ReceiveLine
from isom.masterdata.models import Location, Workstation
from isom.production import services as production
from isom.production.schemas import ConsumeScan, ScanResult, StepScan, StopScan

_Coded = TypeVar("_Coded", Location, Workstation)


@dataclass(frozen=True)
class _Scan:
    """A scan being acted on: where it came from, who acts, its key, what its codes name."""

    session: Session
    dev: Device
    actor: ledger.Actor
    key: str
    ev: ScanEvent
    views: list[ScanView]


def _scanned_or_own(
    session: Session,
    views: list[ScanView],
    kind: str,
    given: str | None,
    model: type[_Coded],
    own_id: int | None,
) -> str | None:
    """The code of the `kind` scanned, else the one given, else the device's own (its row of
    `model`), else None."""
    for v in views:
        if v.kind == kind and v.code:
            return v.code
    if given:
        return given
    row = session.get(model, own_id) if own_id else None
    return row.code if row is not None else None


def where(session: Session, dev: Device, given: str | None, views: list[ScanView]) -> str:
    found = _scanned_or_own(session, views, "location", given, Location, dev.location_id)
    if found is not None:
        return found
    raise InvalidInput(
        "scan a location (or give one): the device has no place of its own",
        field="codes",
        expected="a location label among the codes",
    )


def _one(views: list[ScanView], kind: str, action: str) -> ScanView:
    found = [v for v in views if v.kind == kind]
    if len(found) != 1:
        raise InvalidInput(
            f"{action} needs exactly one {kind} code, got {len(found)}",
            field="codes",
            expected=f"one {kind} label among the codes",
        )
    return found[0]


def workstation(session: Session, dev: Device, given: str | None, views: list[ScanView]) -> str:
    own_id = dev.workstation_id
    found = _scanned_or_own(session, views, "workstation", given, Workstation, own_id)
    if found is not None:
        return found
    raise InvalidInput(
        "scan the workstation (or give one)", field="workstation", expected="a workstation code"
    )


def _job_ref(views: list[ScanView], action: str) -> tuple[str, int]:
    job = _one(views, "job", action).job
    assert job is not None
    if job.get("step") is None:
        raise InvalidInput(
            f"{action} needs a job step, e.g. WO-000001/10",
            field="codes",
            expected="a job step label (<work order>/<step>)",
        )
    return str(job["work_order"]), int(job["step"])


def scan(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: ScanEvent,
    message: DeviceMessage,
) -> dict[str, Any]:
    """A scan's effect: what its codes name, and what the action did with them."""
    full = ev.action in ("identify", "consume", "receive")
    known = scans.known_containers(session, (c.strip("\r\n") for c in ev.codes))
    views = [scans.resolve(session, code, brief=not full, known=known) for code in ev.codes]
    unknown = [v.data for v in views if v.kind == "unknown"]
    if unknown and ev.action != "identify":
        raise NotFound(
            f"nothing is labelled {unknown[0]!r}",
            field="codes",
            expected="the label of a container, job step, badge, workstation or location",
        )
    out: dict[str, Any] = {
        "action": ev.action,
        "scans": [
            v.model_dump(mode="json", exclude_none=True)
            if full
            else {"data": v.data, "kind": v.kind, "code": v.code}
            for v in views
        ],
    }
    if ev.action == "identify":
        return out
    here = _Scan(session, dev, actor, key, ev, views)
    if ev.action == "move":
        return {**out, **_move(here)}
    if ev.action == "receive":
        received = _receive(here)
        return {**out, **received, **_label(ev, received["container"])}
    res = _production(here)
    made = res.detail.get("container") if ev.action == "stop" else None
    return {**out, "production": res.model_dump(mode="json"), **_label(ev, made)}


def _move(s: _Scan) -> dict[str, Any]:
    """Move every container scanned to the location scanned (or the device's own)."""
    to = where(s.session, s.dev, s.ev.location, s.views)
    moved = []
    for n, v in enumerate(x for x in s.views if x.kind == "container"):
        moved_by = ledger.move(
            s.session,
            s.actor,
            f"{s.key}:move:{n}",
            MoveCommand(container=str(v.code), to_location=to, occurred_at=s.ev.occurred_at),
        )
        moved.append(moved_by.event_id)
    if not moved:
        raise InvalidInput("move needs a container code", field="codes", expected="a container")
    return {"location": to, "ledger_events": moved}


def _production(s: _Scan) -> ScanResult:
    """A job step's start, pause, resume, leave, consume or stop, by the badge scanned."""
    badge_views = [v for v in s.views if v.kind == "person"]
    badge = badge_views[0].person["badge"] if badge_views and badge_views[0].person else None
    if s.ev.action in ("start", "pause", "resume", "leave", "stop") and badge is None:
        raise InvalidInput(
            f"{s.ev.action} needs the operator's badge", field="codes", expected="a badge code"
        )
    number, step = _job_ref(s.views, s.ev.action)
    if s.ev.action == "consume":
        command = _consume_scan(s.session, s.views, number, step, s.ev, badge)
        return production.consume_scan(s.session, s.actor, s.key, command)
    if s.ev.action == "stop":
        return production.stop_step(
            s.session, s.actor, s.key, _stop_scan(s.ev, str(badge), number, step)
        )
    cmd = StepScan(
        badge=str(badge),
        work_order=number,
        step=step,
        workstation=workstation(s.session, s.dev, s.ev.workstation, s.views)
        if s.ev.action in ("start", "resume")
        else None,
        occurred_at=s.ev.occurred_at,
    )
    operation = {
        "start": production.start_step,
        "pause": production.pause_step,
        "resume": production.resume_step,
        "leave": production.leave_step,
    }[s.ev.action]
    return operation(s.session, s.actor, s.key, cmd)


def _stop_scan(ev: ScanEvent, badge: str, number: str, step: int) -> StopScan:
    if ev.quantity is None and ev.scrap_quantity == 0:
        raise InvalidInput(
            "stop needs the good quantity", field="quantity", expected="a positive number"
        )
    return StopScan(
        badge=badge,
        work_order=number,
        step=step,
        good_quantity=ev.quantity or Decimal(0),
        scrap_quantity=ev.scrap_quantity,
        scrap_reason=ev.scrap_reason,
        complete=ev.complete,
        occurred_at=ev.occurred_at,
    )


def _label(ev: ScanEvent, container: str | None) -> dict[str, Any]:
    """Ask for a label to be printed after commit (see `printing.print_after`)."""
    if ev.printer is None or container is None:
        return {}
    return {"label": {"printer": ev.printer, "container": container}}


def _consume_scan(
    session: Session,
    views: list[ScanView],
    number: str,
    step: int,
    ev: ScanEvent,
    badge: str | None,
) -> ConsumeScan:
    cont = _one(views, "container", "consume")
    contents = (cont.container or {}).get("contents", [])
    item = cont.item["code"] if cont.item else None
    lot = cont.item.get("lot") if cont.item else None
    if item is None:
        items = sorted({c["item"] for c in contents})
        if len(items) != 1:
            raise InvalidInput(
                f"container {cont.code} holds {len(items)} items; say which",
                field="codes",
                expected="a GS1 label with the item's GTIN, or a container of one item",
            )
        item = items[0]
    quantity = ev.quantity
    if quantity is None and cont.item and cont.item.get("quantity"):
        quantity = Decimal(cont.item["quantity"])
    if quantity is None:
        raise InvalidInput(
            "consume needs a quantity", field="quantity", expected="a positive number"
        )
    return ConsumeScan(
        work_order=number,
        step=step,
        container=str(cont.code),
        item=item,
        lot=lot,
        quantity=quantity,
        badge=badge,
        occurred_at=ev.occurred_at,
    )


def _receive(s: _Scan) -> dict[str, Any]:
    labels = [v for v in s.views if v.item is not None]
    if len(labels) != 1:
        raise InvalidInput(
            "receive needs one GS1 label with the item's GTIN",
            field="codes",
            expected="a label with (00) or (91), (01)/(02), (10) and (37)/(30)/(310n)",
        )
    label = labels[0]
    assert label.item is not None
    container = label.container["code"] if label.container else None
    if container is None:
        raise InvalidInput(
            "the label names no container", field="codes", expected="an SSCC (00) or (91)"
        )
    quantity = s.ev.quantity or (
        Decimal(label.item["quantity"]) if label.item["quantity"] else None
    )
    if quantity is None:
        raise InvalidInput(
            "the label carries no quantity",
            field="quantity",
            expected="(37)/(30)/(310n) on the label, or a quantity",
        )
    lot = label.item["lot"]
    expiry = label.item["expiry_date"]
    res = ledger.receive(
        s.session,
        s.actor,
        s.key,
        ReceiveCommand(
            container=container,
            location=where(s.session, s.dev, s.ev.location, s.views),
            lines=[
                ReceiveLine(
                    item=label.item["code"],
                    lot=LotIn(code=lot, expiry_date=expiry) if lot else None,
                    quantity=quantity,
                )
            ],
            occurred_at=s.ev.occurred_at,
        ),
    )
    return {"container": container, "ledger_events": [res.event_id]}
