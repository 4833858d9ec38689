"""Device events (scans, RFID reads, scale weights, machine states) applied once each.

One function, `ingest`, serves MQTT and HTTP alike: it checks the device and its token, validates
the payload for the event kind, replays a known (device, eventID), and otherwise applies the
event through the ledger's and production's services in the caller's transaction. Sub-events
get keys derived from `dev:<device>:<eventID>`, so they are idempotent too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom import commands
from isom.auth import services as auth_service
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.devices import gs1, scans
from isom.devices.models import Device, DeviceKind, DeviceMessage, MachineCount
from isom.devices.schemas import (
    EVENT_TYPES,
    IngestAnswer,
    MachineEvent,
    RfidEvent,
    ScanEvent,
    ScanView,
    WeightEvent,
)
from isom.errors import InvalidInput, IsomError, NotAuthenticated, NotFound
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import CountCommand, LotIn, MoveCommand, ReceiveCommand, ReceiveLine
from isom.masterdata.models import Item, Location, Unit, Workstation
from isom.production import rows as production_rows
from isom.production import services as production
from isom.production.schemas import ConsumeScan, MachineStateCommand, StepScan, StopScan
from isom.types import utcnow


def parse_payload(raw: bytes | str) -> dict[str, Any]:
    """JSON with numbers kept exact (Decimal); 422 when it is not a JSON object."""
    try:
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"the payload is not JSON: {exc}", field="payload", expected="one JSON object"
        ) from None
    if not isinstance(body, dict):
        raise InvalidInput(
            "the payload is not a JSON object", field="payload", expected="one JSON object"
        )
    return body


def _validated(kind: str, payload: dict[str, Any]) -> Any:
    model = EVENT_TYPES.get(kind)
    if model is None:
        raise InvalidInput(
            f"unknown event kind {kind!r}", field="kind", expected=", ".join(EVENT_TYPES)
        )
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "payload",
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        first = errors[0]
        raise InvalidInput(
            f"{first['field']}: {first['message']}",
            field=first["field"],
            expected=f"a {kind} event as documented in docs/design/devices.md",
            errors=errors,
        ) from None


def _authorise(
    session: Session, dev: Device, token: str | None, principal: Principal | None
) -> str:
    """The acting name: the device's own token, or an admin/supervisor calling over HTTP."""
    if principal is None:
        if not token:
            raise NotAuthenticated(
                f"device {dev.code} sent no token", field="token", expected="the device's API token"
            )
        principal = auth_service.principal_from_token(session, token)
        if principal is None:
            raise NotAuthenticated(
                "the token is unknown or revoked", field="token", expected="the device's API token"
            )
    if principal.token_id is not None and principal.token_id == dev.token_id:
        return dev.code
    if principal.has_any(frozenset({Role.supervisor.value})):
        return principal.name
    raise NotAuthenticated(
        f"the token does not belong to device {dev.code}",
        field="token",
        expected="the API token issued for this device",
    )


def ingest(
    session: Session,
    *,
    device: str,
    kind: str,
    payload: dict[str, Any],
    site: str | None = None,
    principal: Principal | None = None,
) -> IngestAnswer:
    """Apply one device event once; a replay of its eventID answers the first answer."""
    dev = session.scalar(select(Device).where(Device.code == device))
    if dev is None or not dev.active:
        raise NotFound(f"unknown device {device!r}", field="device", expected="a registered device")
    if site is not None:
        site_loc = session.get(Location, dev.site_id)
        if site_loc is None or site_loc.code != site:
            raise InvalidInput(
                f"device {dev.code} does not belong to site {site!r}",
                field="site",
                expected=site_loc.code if site_loc else "the device's site",
            )
    name = _authorise(session, dev, payload.get("token"), principal)
    actor = ledger.Actor(name=name, device=dev.code)
    event = _validated(kind, payload)
    return commands.run(
        session,
        key=f"dev:{dev.code}:{event.eventID}",
        kind=kind,
        command=event,
        effect=partial(_apply, session, dev, actor, kind, event),
        answer=IngestAnswer,
        actor=actor.name,
        device=dev.code,
        replayed={"status": "replayed"},
        key_field="eventID",
    )


def _apply(
    session: Session, dev: Device, actor: ledger.Actor, kind: str, event: Any
) -> IngestAnswer:
    """The device event's effect, through the ledger's and production's services."""
    now = utcnow()
    message = DeviceMessage(
        device_id=dev.id,
        event_id=event.eventID,
        kind=kind,
        occurred_at=event.occurred_at or now,
        received_at=now,
    )
    session.add(message)
    session.flush()
    handler: Any = {"scan": _scan, "rfid": _rfid, "weight": _weight, "machine": _machine}[kind]
    key = f"dev:{dev.code}:{event.eventID}"
    result: dict[str, Any] = handler(session, dev, actor, key, event, message)
    dev.last_seen_at = now
    session.flush()
    return IngestAnswer(
        eventID=event.eventID, device=dev.code, kind=kind, status="accepted", result=result
    )


def rejected(device: str | None, kind: str | None, event_id: Any, error: IsomError) -> IngestAnswer:
    """The answer to an event that could not be applied."""
    return IngestAnswer(
        eventID=str(event_id) if event_id is not None else None,
        device=device,
        kind=kind,
        status="rejected",
        error=error.to_problem(),
    )


# ---------------------------------------------------------------------------------------------
# Scans: resolve each code, then act.


def _where(session: Session, dev: Device, given: str | None, views: list[ScanView]) -> str:
    for v in views:
        if v.kind == "location" and v.code:
            return v.code
    if given:
        return given
    if dev.location_id:
        loc = session.get(Location, dev.location_id)
        if loc is not None:
            return loc.code
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


def _workstation(session: Session, dev: Device, given: str | None, views: list[ScanView]) -> str:
    for v in views:
        if v.kind == "workstation" and v.code:
            return v.code
    if given:
        return given
    if dev.workstation_id:
        ws = session.get(Workstation, dev.workstation_id)
        if ws is not None:
            return ws.code
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


def _scan(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: ScanEvent,
    message: DeviceMessage,
) -> dict[str, Any]:
    full = ev.action in ("identify", "consume", "receive")
    views = [scans.resolve(session, code, brief=not full) for code in ev.codes]
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
    at = ev.occurred_at
    if ev.action == "identify":
        return out
    if ev.action == "move":
        to = _where(session, dev, ev.location, views)
        moved = []
        for n, v in enumerate(x for x in views if x.kind == "container"):
            moved_by = ledger.move(
                session,
                actor,
                f"{key}:move:{n}",
                MoveCommand(container=str(v.code), to_location=to, occurred_at=at),
            )
            moved.append(moved_by.event_id)
        if not moved:
            raise InvalidInput("move needs a container code", field="codes", expected="a container")
        return {**out, "location": to, "ledger_events": moved}
    if ev.action == "receive":
        received = _receive(session, dev, actor, key, ev, views)
        return {**out, **received, **_label(ev, received["container"])}
    badge_views = [v for v in views if v.kind == "person"]
    badge = badge_views[0].person["badge"] if badge_views and badge_views[0].person else None
    if ev.action in ("start", "pause", "resume", "leave", "stop") and badge is None:
        raise InvalidInput(
            f"{ev.action} needs the operator's badge", field="codes", expected="a badge code"
        )
    number, step = _job_ref(views, ev.action)
    if ev.action in ("start", "pause", "resume", "leave"):
        cmd = StepScan(
            badge=str(badge),
            work_order=number,
            step=step,
            workstation=_workstation(session, dev, ev.workstation, views)
            if ev.action in ("start", "resume")
            else None,
            occurred_at=at,
        )
        operation = {
            "start": production.start_step,
            "pause": production.pause_step,
            "resume": production.resume_step,
            "leave": production.leave_step,
        }[ev.action]
        res = operation(session, actor, key, cmd)
    elif ev.action == "consume":
        res = production.consume_scan(
            session, actor, key, _consume_scan(session, views, number, step, ev, badge)
        )
    else:
        if ev.quantity is None and ev.scrap_quantity == 0:
            raise InvalidInput(
                "stop needs the good quantity", field="quantity", expected="a positive number"
            )
        res = production.stop_step(
            session,
            actor,
            key,
            StopScan(
                badge=str(badge),
                work_order=number,
                step=step,
                good_quantity=ev.quantity or Decimal(0),
                scrap_quantity=ev.scrap_quantity,
                scrap_reason=ev.scrap_reason,
                complete=ev.complete,
                occurred_at=at,
            ),
        )
    made = res.detail.get("container") if ev.action == "stop" else None
    return {**out, "production": res.model_dump(mode="json"), **_label(ev, made)}


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


def _receive(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: ScanEvent,
    views: list[ScanView],
) -> dict[str, Any]:
    labels = [v for v in views if v.item is not None]
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
    quantity = ev.quantity or (Decimal(label.item["quantity"]) if label.item["quantity"] else None)
    if quantity is None:
        raise InvalidInput(
            "the label carries no quantity",
            field="quantity",
            expected="(37)/(30)/(310n) on the label, or a quantity",
        )
    lot = label.item["lot"]
    expiry = label.item["expiry_date"]
    res = ledger.receive(
        session,
        actor,
        key,
        ReceiveCommand(
            container=container,
            location=_where(session, dev, ev.location, views),
            lines=[
                ReceiveLine(
                    item=label.item["code"],
                    lot=LotIn(code=lot, expiry_date=expiry) if lot else None,
                    quantity=quantity,
                )
            ],
            occurred_at=ev.occurred_at,
        ),
    )
    return {"container": container, "ledger_events": [res.event_id]}


# ---------------------------------------------------------------------------------------------
# RFID portal reads, scale weights, machine states.


def _containers_of_epc(session: Session, raw: str) -> list[str]:
    epc = gs1.parse_epc(raw)
    if epc.sscc is not None:
        found = ledger_queries.container_by_code(session, epc.sscc)
        return [found.code] if found else []
    item = session.scalar(select(Item.id).where(Item.gtin.in_([epc.gtin, (epc.gtin or "")[1:]])))
    if item is None:
        return []
    if epc.serial is None:
        return []
    return ledger_queries.containers_holding_lot(session, item, epc.serial)


def _rfid(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: RfidEvent,
    message: DeviceMessage,
) -> dict[str, Any]:
    to = _where(session, dev, ev.location, [])
    target = session.scalar(select(Location.id).where(Location.code == to))
    moved: list[str] = []
    already: list[str] = []
    unknown: list[str] = []
    events: list[int] = []
    for raw in dict.fromkeys(ev.epcs):  # a portal reads a tag many times: once each
        codes = _containers_of_epc(session, raw)
        if not codes:
            unknown.append(raw)
        for code in codes:
            cont = ledger_queries.container_by_code(session, code)
            assert cont is not None
            if cont.location_id == target and cont.parent_id is None:
                already.append(code)
                continue
            if cont.parent_id is not None or code in moved:
                continue  # it travels with its parent
            res = ledger.move(
                session,
                actor,
                f"{key}:move:{code}",
                MoveCommand(container=code, to_location=to, occurred_at=ev.occurred_at),
            )
            moved.append(code)
            events.append(res.event_id)
    return {
        "location": to,
        "moved": moved,
        "already_there": already,
        "unknown": unknown,
        "ledger_events": events,
    }


def _weight(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: WeightEvent,
    message: DeviceMessage,
) -> dict[str, Any]:
    view = scans.resolve(session, f"C:{ev.container}")
    if view.container is None:
        raise NotFound(
            f"no container with code {ev.container!r}", field="container", expected="a container"
        )
    lines = [c for c in view.container["contents"] if ev.item in (None, c["item"])]
    if ev.lot is not None:
        lines = [c for c in lines if c["lot"] == ev.lot]
    if len(lines) != 1:
        raise InvalidInput(
            f"container {ev.container} holds {len(lines)} matching lines",
            field="item",
            expected="an item (and lot) that names one line of the container",
        )
    line = lines[0]
    item = session.scalar(select(Item).where(Item.code == line["item"]))
    assert item is not None
    unit = session.get(Unit, item.base_unit_id)
    if unit is None or unit.code.lower() != ev.unit:
        raise InvalidInput(
            f"{item.code} is counted in {unit.code if unit else '?'}, not weighed in {ev.unit}",
            field="container",
            expected="a container of an item whose unit is kg",
        )
    res = ledger.count(
        session,
        actor,
        key,
        CountCommand(
            container=ev.container,
            item=item.code,
            lot=line["lot"],
            status=line["status"],
            wip_step=line["wip_step"],
            counted_quantity=ev.weight,
            occurred_at=ev.occurred_at,
        ),
    )
    return {"container": ev.container, "ledger_events": [res.event_id], **res.detail}


def _machine(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: MachineEvent,
    message: DeviceMessage,
) -> dict[str, Any]:
    if ev.state is None and ev.pieces is None:
        raise InvalidInput(
            "a machine event carries a state, a piece count, or both",
            field="state",
            expected="run, idle, down (with reason), setup or cleanup; and/or pieces",
        )
    ws_code = _workstation(session, dev, ev.workstation, [])
    ws = session.scalar(select(Workstation).where(Workstation.code == ws_code))
    if ws is None:
        raise NotFound(f"no workstation {ws_code!r}", field="workstation", expected="a workstation")
    if dev.kind == DeviceKind.controller and dev.workstation_id not in (None, ws.id):
        raise InvalidInput(
            f"controller {dev.code} does not run workstation {ws_code}",
            field="workstation",
            expected="the controller's own workstation",
        )
    out: dict[str, Any] = {"workstation": ws.code}
    if ev.state is not None:
        res = production.machine_state(
            session,
            actor,
            key,
            MachineStateCommand(
                workstation=ws.code, state=ev.state, reason=ev.reason, occurred_at=ev.occurred_at
            ),
        )
        out.update(state=ev.state.value, previous=res.detail.get("previous"))
    if ev.pieces is not None:
        step = production_rows.running_step(session, ws.id)
        session.add(
            MachineCount(
                message_id=message.id,
                workstation_id=ws.id,
                step=step,
                pieces=ev.pieces,
                counted_at=message.occurred_at,
            )
        )
        out.update(pieces=str(ev.pieces), step=step)
    return out
