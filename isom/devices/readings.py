"""RFID portal reads, scale weights and machine states: device events that are not scans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.devices import gs1, scans
from isom.devices.models import Device, DeviceKind, DeviceMessage, MachineCount
from isom.devices.scanning import where, workstation
from isom.devices.schemas import MachineEvent, RfidEvent, WeightEvent
from isom.errors import InvalidInput, NotFound
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import CountCommand, MoveCommand
from isom.masterdata.models import Item, Location, Unit, Workstation
from isom.production import rows as production_rows
from isom.production import services as production
from isom.production.schemas import MachineStateCommand


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


def rfid(
    session: Session,
    dev: Device,
    actor: ledger.Actor,
    key: str,
    ev: RfidEvent,
    message: DeviceMessage,
) -> dict[str, Any]:
    to = where(session, dev, ev.location, [])
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


def weight(
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


def machine(
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
    ws_code = workstation(session, dev, ev.workstation, [])
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
