"""EPCIS 2.0 capture: documents from outside become ledger events, once per eventID.

A captured document is validated against GS1's EPCIS JSON schema, then each event is mapped
(STANDARDS.md's table, read backwards) to the ledger's own services: receiving, moving,
packing and unpacking, shipping, holding and releasing, counting, destroying, repacking.
The whole document is one transaction, all or nothing: the first event that cannot be
applied refuses the document with the path of that event (`epcisBody.eventList[3].epcList[0]`)
and nothing is applied. The answer lists every event with what it did.

The eventID is the idempotency key. The same eventID with the same content (`recordTime`
aside) is a replay and applies nothing; with other content it is refused (409). An event
carrying an `errorDeclaration` reverses, in the ledger, what the event with its eventID
applied: one captured here, or one ISOM exported (named by `isom:ledgerEventId`, checked
against its eventID). Production (a `transformationID` or a `prodorder`) is refused here:
it is recorded by work-order scans, which cost the job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import urllib.parse
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput, IsomError, NotFound
from isom.integration import epcis
from isom.integration.models import CapturedEvent
from isom.ledger import services as ledger
from isom.ledger.models import Container, Event
from isom.ledger.schemas import (
    MAX_ID,
    CountCommand,
    CreateContainerCommand,
    EventResult,
    HoldCommand,
    LotIn,
    MoveCommand,
    NestCommand,
    QuantityLine,
    ReceiveCommand,
    ReceiveLine,
    ReleaseCommand,
    ReverseCommand,
    ScrapCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Unit

Operation = Callable[[Session, ledger.Actor, str, Any], EventResult]

RECEIVE_STEPS = {"receiving", "commissioning"}
MOVE_STEPS = {
    "storing",
    "stocking",
    "picking",
    "arriving",
    "accepting",
    "staging_outbound",
    "unloading",
    "loading",
}
SHIP_STEPS = {"shipping", "departing"}
HOLD_DISPOSITIONS = {"non_conformant", "damaged", "recalled", "stolen", "expired"}
RELEASE_DISPOSITIONS = {"available", "conformant", "sellable_accessible"}
COUNT_STEPS = {"cycle_counting", "stock_taking"}
DESTROY_STEPS = {"destroying", "decommissioning"}
#: UN/ECE Recommendation 20 back to the unit codes of the master data.
UNIT_OF = {v: k for k, v in epcis.UOM.items()}


def standards_dir() -> Path:
    """Where GS1's reference files are read from: `ISOM_STANDARDS_DIR`, or ../shared/standards."""
    configured = os.environ.get("ISOM_STANDARDS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "standards"


@cache
def _validator(path: Path) -> Any:
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class StandardsMissing(IsomError):
    """The server cannot check documents: GS1's schema is not where it was told to be."""

    status_code = 503
    code = "standards_missing"
    title = "Reference schema missing"


def validate(doc: Any) -> None:
    """Refuse a document that GS1's EPCIS 2.0 JSON schema refuses, naming where and why."""
    path = standards_dir() / "epcis-2.0" / "EPCIS-JSON-Schema.json"
    if not path.is_file():
        raise StandardsMissing(
            f"the EPCIS JSON schema is not installed at {path}",
            field="ISOM_STANDARDS_DIR",
            expected="the folder holding epcis-2.0/EPCIS-JSON-Schema.json",
        )
    found = sorted(_validator(path).iter_errors(doc), key=lambda e: [str(p) for p in e.path])
    errors = [_deepest(e) for e in found]
    if errors:
        listed = [{"field": _path(e.absolute_path), "message": _message(e)} for e in errors[:20]]
        raise InvalidInput(
            f"the document is not valid EPCIS 2.0: {listed[0]['message']}",
            field=listed[0]["field"],
            expected="a document valid against GS1's EPCIS-JSON-Schema.json",
            errors=listed,
        )
    if not isinstance(doc, dict) or doc.get("type") != "EPCISDocument":
        raise InvalidInput(
            "only an EPCISDocument can be captured",
            field="type",
            expected="EPCISDocument",
        )


def _deepest(error: Any) -> Any:
    """Of the alternatives an `anyOf` tried, the one that got furthest into the document."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def _message(error: Any) -> str:
    if error.validator == "not":
        return f"{_path(error.absolute_path)} is not allowed in this event"
    return str(error.message)[:300]


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"


class EventOutcome(BaseModel):
    eventID: str  # noqa: N815 - the EPCIS field name
    status: str  # applied | replayed
    declaration: bool
    ledger_events: list[int]


class CaptureResult(BaseModel):
    captureID: str  # noqa: N815 - the EPCIS field name
    applied: int
    replayed: int
    events: list[EventOutcome]


def capture(session: Session, actor: ledger.Actor, doc: Any) -> CaptureResult:
    """Validate a document and apply its events through the ledger, all or nothing."""
    validate(doc)
    events: list[dict[str, Any]] = doc["epcisBody"].get("eventList", [])
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    capture_id = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    out: list[EventOutcome] = []
    for i, ev in enumerate(events):
        where = f"epcisBody.eventList[{i}]"
        try:
            out.append(_capture_one(session, actor, ev, capture_id, where))
        except IsomError as exc:
            exc.field = f"{where}.{exc.field}" if exc.field else where
            exc.detail = f"event {i} ({ev.get('eventID', 'no eventID')}): {exc.detail}"
            exc.extra["event_index"] = i
            raise
    applied = sum(1 for o in out if o.status == "applied")
    return CaptureResult(
        captureID=capture_id, applied=applied, replayed=len(out) - applied, events=out
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _capture_one(
    session: Session, actor: ledger.Actor, ev: dict[str, Any], capture_id: str, where: str
) -> EventOutcome:
    event_id = ev.get("eventID")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidInput(
            "every captured event needs its eventID: it is the idempotency key",
            field="eventID",
            expected="a UUID URN or the CBV 2.0 Event Hash ID, the same on every retry",
        )
    if len(event_id) > 500:
        raise InvalidInput("eventID too long", field="eventID", expected="at most 500 characters")
    declaration = "errorDeclaration" in ev
    content = {k: v for k, v in ev.items() if k != "recordTime"}
    content_hash = _digest(json.dumps(content, sort_keys=True, separators=(",", ":")))
    prior = session.scalar(
        select(CapturedEvent).where(
            CapturedEvent.event_id == event_id, CapturedEvent.declaration == declaration
        )
    )
    if prior is not None:
        if prior.content_hash != content_hash:
            raise Conflict(
                f"eventID {event_id!r} was captured before with other content",
                field="eventID",
                expected="a new eventID for a new event, or the same event to retry",
            )
        return EventOutcome(
            eventID=event_id,
            status="replayed",
            declaration=declaration,
            ledger_events=list(prior.ledger_events),
        )
    key = _digest(event_id)[:40]
    if declaration:
        ids = _declare_error(session, actor, ev, event_id, key)
    else:
        try:
            plan = _plan(session, ev)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InvalidInput(
                f"the ledger cannot take this event: {'.'.join(map(str, err['loc']))}: "
                f"{err['msg']}",
                expected="codes and quantities the ledger accepts",
            ) from exc
        ids = []
        for n, (operation, command) in enumerate(plan):
            ids.append(operation(session, actor, f"epcis:{key}:{n}", command).event_id)
    session.add(
        CapturedEvent(
            event_id=event_id,
            declaration=declaration,
            content_hash=content_hash,
            event_type=str(ev.get("type")),
            biz_step=(_cbv(ev.get("bizStep"), "BizStep") or "")[:100] or None,
            ledger_events=ids,
            capture_id=capture_id,
            actor=actor.name,
        )
    )
    session.flush()
    return EventOutcome(
        eventID=event_id, status="applied", declaration=declaration, ledger_events=ids
    )


def _declare_error(
    session: Session, actor: ledger.Actor, ev: dict[str, Any], event_id: str, key: str
) -> list[int]:
    """Reverse, newest first, the ledger events that the declared event applied."""
    original = session.scalar(
        select(CapturedEvent).where(
            CapturedEvent.event_id == event_id, CapturedEvent.declaration.is_(False)
        )
    )
    if original is not None:
        targets = list(reversed(original.ledger_events))
    elif isinstance(ev.get("isom:ledgerEventId"), int) and 0 < ev["isom:ledgerEventId"] <= MAX_ID:
        found = session.get(Event, ev["isom:ledgerEventId"])
        if found is None or epcis.export(session, [found])[0]["eventID"] != event_id:
            raise Conflict(
                "the errorDeclaration's eventID is not that of the ISOM event it names",
                field="isom:ledgerEventId",
                expected="the eventID ISOM exported for that ledger event",
            )
        targets = [found.id]
    else:
        raise NotFound(
            f"eventID {event_id!r} names no event captured here or exported by ISOM",
            field="eventID",
            expected="the eventID of the event the errorDeclaration corrects",
        )
    decl = ev["errorDeclaration"]
    reason = _cbv(decl.get("reason"), "ER") or "no reason given"
    text = f"EPCIS errorDeclaration ({reason}) of {event_id}"[:500]
    return [
        ledger.reverse(
            session,
            actor,
            f"epcis-error:{key}:{n}",
            ReverseCommand(
                event_id=target, reason=text, occurred_at=_time(decl, "declarationTime")
            ),
        ).event_id
        for n, target in enumerate(targets)
    ]


# --- reading the event -------------------------------------------------------------------


def _cbv(value: Any, kind: str) -> str | None:
    """A CBV value as its bare name, from any of its forms (bare, URN, Web URI)."""
    if not isinstance(value, str):
        return None
    for prefix in (f"https://ref.gs1.org/cbv/{kind}-", f"urn:epcglobal:cbv:{kind.lower()}:"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _time(ev: dict[str, Any], name: str) -> dt.datetime | None:
    value = ev.get(name)
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{name} is not a time", field=name, expected="an ISO 8601 time with zone"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _with_check_digit(body: str) -> str:
    return body + str(epcis.gs1_check_digit(body))


def container_code(uri: str, field: str) -> str:
    """The container code an EPC names: an SSCC (Digital Link or EPC URN) or an internal code."""
    m = re.fullmatch(r"https?://[^/]+/00/(\d{18})", uri)
    if m:
        return m.group(1)
    m = re.fullmatch(r"urn:epc:id:sscc:(\d+)\.(\d+)", uri)
    if m and len(m.group(1)) + len(m.group(2)) == 17:
        prefix, serial = m.groups()
        return _with_check_digit(serial[0] + prefix + serial[1:])
    if uri.startswith("urn:isom:container:"):
        return urllib.parse.unquote(uri[len("urn:isom:container:") :])
    raise InvalidInput(
        f"{uri!r} does not name a container",
        field=field,
        expected="https://id.gs1.org/00/<SSCC>, urn:epc:id:sscc:..., or urn:isom:container:<code>",
    )


def _existing(session: Session, uri: str, field: str) -> str:
    code = container_code(uri, field)
    if session.scalar(select(Container.id).where(Container.code == code)) is None:
        raise NotFound(
            f"no container {code!r} (from {uri})",
            field=field,
            expected="the EPC of a container ISOM knows",
        )
    return code


def _item_and_lot(session: Session, uri: str, field: str) -> tuple[Item, str | None]:
    """The item and lot an EPC class names: a GTIN (Digital Link, LGTIN URN) or an ISOM item."""
    gtin: str | None = None
    lot: str | None = None
    m = re.fullmatch(r"https?://[^/]+/01/(\d{14})(?:/10/([^/?]+))?", uri)
    if m:
        gtin, lot = m.group(1), m.group(2)
    m2 = re.fullmatch(r"urn:epc:(?:class:lgtin|idpat:sgtin):(\d+)\.(\d+)\.(.+)", uri)
    if m2 and len(m2.group(1)) + len(m2.group(2)) == 13:
        prefix, ref, rest = m2.groups()
        gtin = _with_check_digit(ref[0] + prefix + ref[1:])
        lot = None if rest == "*" else rest
    if gtin is not None:
        candidates = {gtin, gtin[1:], gtin[2:], gtin[6:], gtin.lstrip("0")}
        item = session.scalar(select(Item).where(Item.gtin.in_(candidates)))
        if item is None:
            raise NotFound(
                f"no item has the GTIN {gtin} (from {uri})",
                field=field,
                expected="the GTIN of an item in the master data",
            )
        return item, urllib.parse.unquote(lot) if lot else None
    m3 = re.fullmatch(r"urn:isom:item:([^:]+)(?::lot:(.+))?", uri)
    if m3:
        code = urllib.parse.unquote(m3.group(1))
        return md.get_item(session, code, field=field), (
            urllib.parse.unquote(m3.group(2)) if m3.group(2) else None
        )
    raise InvalidInput(
        f"{uri!r} does not name an item",
        field=field,
        expected="https://id.gs1.org/01/<GTIN>[/10/<lot>], urn:epc:class:lgtin:..., "
        "or urn:isom:item:<code>[:lot:<lot>]",
    )


def _location(session: Session, ev: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = (ev.get(name) or {}).get("id")
    if value is None:
        if required:
            raise InvalidInput(
                f"this event needs a {name}", field=name, expected="urn:isom:location:<code>"
            )
        return None
    if not value.startswith("urn:isom:location:"):
        raise InvalidInput(
            f"{value!r} does not name a location",
            field=f"{name}.id",
            expected="urn:isom:location:<code>",
        )
    code = urllib.parse.unquote(value[len("urn:isom:location:") :])
    return md.get_location(session, code, field=f"{name}.id").code


def _party(session: Session, ev: dict[str, Any], listname: str, kind: str) -> str | None:
    for i, entry in enumerate(ev.get(listname) or []):
        value = entry.get(listname.removesuffix("List"))
        if isinstance(value, str) and value.startswith(f"urn:isom:{kind}:"):
            code = urllib.parse.unquote(value[len(f"urn:isom:{kind}:") :])
            field = f"{listname}[{i}]"
            if kind == "customer":
                return md.get_customer(session, code, field=field).code
            return md.get_supplier(session, code, field=field).code
    return None


def _reference(ev: dict[str, Any]) -> str | None:
    for entry in ev.get("bizTransactionList") or []:
        value = entry.get("bizTransaction")
        if isinstance(value, str):
            for prefix in ("urn:isom:po:", "urn:isom:order:"):
                if value.startswith(prefix):
                    return urllib.parse.unquote(value[len(prefix) :])[:100]
            return value[-100:]
    return None


def _quantities(
    session: Session, ev: dict[str, Any], name: str
) -> list[tuple[Item, str | None, Decimal, str | None]]:
    out = []
    for i, q in enumerate(ev.get(name) or []):
        field = f"{name}[{i}]"
        item, lot = _item_and_lot(session, q["epcClass"], f"{field}.epcClass")
        try:
            quantity = Decimal(str(q.get("quantity")))
        except InvalidOperation as exc:
            raise InvalidInput(
                "quantity is not a number", field=f"{field}.quantity", expected="a number"
            ) from exc
        unit = None
        if q.get("uom"):
            unit = UNIT_OF.get(q["uom"])
            if unit is None or session.scalar(select(Unit.id).where(Unit.code == unit)) is None:
                raise InvalidInput(
                    f"unit {q['uom']!r} is not one ISOM knows",
                    field=f"{field}.uom",
                    expected="a UN/ECE Rec. 20 code of a unit in the master data ("
                    + ", ".join(sorted(UNIT_OF))
                    + ") or none for counted units",
                )
        out.append((item, lot, quantity, unit))
    if not out:
        raise InvalidInput(
            f"this event needs a {name}", field=name, expected="one entry per item and lot"
        )
    return out


def _one_epc(ev: dict[str, Any], name: str) -> str:
    epcs = ev.get(name) or []
    if len(epcs) != 1:
        raise InvalidInput(
            f"this event needs exactly one EPC in {name}, not {len(epcs)}",
            field=name,
            expected="one container",
        )
    return str(epcs[0])


def _expiry(ev: dict[str, Any]) -> dt.date | None:
    for name, value in (ev.get("ilmd") or {}).items():
        if name.rsplit(":", 1)[-1] == "itemExpirationDate" and isinstance(value, str):
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
    return None


# --- the mapping -------------------------------------------------------------------------


def _plan(session: Session, ev: dict[str, Any]) -> list[tuple[Operation, BaseModel]]:
    """The ledger operations one EPCIS event stands for, in order."""
    kind = ev.get("type")
    step = _cbv(ev.get("bizStep"), "BizStep")
    disposition = _cbv(ev.get("disposition"), "Disp")
    action = ev.get("action")
    at = _time(ev, "eventTime")
    if kind == "ObjectEvent":
        if step in RECEIVE_STEPS and (step == "receiving" or ev.get("quantityList")):
            epc = _one_epc(ev, "epcList")
            expiry = _expiry(ev)
            lines = [
                ReceiveLine(
                    item=item.code,
                    lot=LotIn(code=lot, expiry_date=expiry) if lot else None,
                    quantity=q,
                    unit=unit,
                )
                for item, lot, q, unit in _quantities(session, ev, "quantityList")
            ]
            cmd = ReceiveCommand(
                container=container_code(epc, "epcList[0]"),
                location=_location(session, ev, "bizLocation", required=True),
                supplier=_party(session, ev, "sourceList", "supplier"),
                reference=_reference(ev),
                lines=lines,
                occurred_at=at,
            )
            return [(ledger.receive, cmd)]
        epcs = list(ev.get("epcList") or [])
        if step == "commissioning" and action == "ADD":
            loc = _location(session, ev, "bizLocation", required=True)
            return [
                (
                    ledger.create_container,
                    CreateContainerCommand(
                        container=container_code(e, f"epcList[{i}]"),
                        location=loc,
                        occurred_at=at,
                    ),
                )
                for i, e in enumerate(epcs)
            ]
        codes = [_existing(session, e, f"epcList[{i}]") for i, e in enumerate(epcs)]
        if not codes and not ev.get("quantityList"):
            raise InvalidInput("the event names no container", field="epcList", expected="EPCs")
        if step in MOVE_STEPS:
            loc = _location(session, ev, "bizLocation", required=True)
            # A container observed where it already stands has not moved: nothing to apply.
            standing = set(
                session.scalars(
                    select(Container.code)
                    .join(Location, Location.id == Container.location_id)
                    .where(
                        Container.code.in_(codes),
                        Location.code == loc,
                        Container.parent_id.is_(None),
                    )
                )
            )
            return [
                (ledger.move, MoveCommand(container=c, to_location=str(loc), occurred_at=at))
                for c in codes
                if c not in standing
            ]
        if step in SHIP_STEPS:
            customer = _party(session, ev, "destinationList", "customer")
            if customer is None:
                raise InvalidInput(
                    "a shipment needs its customer",
                    field="destinationList",
                    expected="a destination urn:isom:customer:<code>",
                )
            ref = _reference(ev)
            return [
                (
                    ledger.ship,
                    ShipCommand(container=c, customer=customer, reference=ref, occurred_at=at),
                )
                for c in codes
            ]
        if step in COUNT_STEPS:
            code = _existing(session, _one_epc(ev, "epcList"), "epcList[0]")
            return [
                (
                    ledger.count,
                    CountCommand(
                        container=code, item=item.code, lot=lot, counted_quantity=q, occurred_at=at
                    ),
                )
                for item, lot, q, _ in _quantities(session, ev, "quantityList")
            ]
        if step in DESTROY_STEPS or (action == "DELETE" and disposition == "destroyed"):
            code = _existing(session, _one_epc(ev, "epcList"), "epcList[0]")
            return [
                (
                    ledger.scrap,
                    ScrapCommand(
                        container=code,
                        item=item.code,
                        lot=lot,
                        quantity=q,
                        reason=f"EPCIS {step or 'destroying'}",
                        occurred_at=at,
                    ),
                )
                for item, lot, q, _ in _quantities(session, ev, "quantityList")
            ]
        if step == "holding" or disposition in HOLD_DISPOSITIONS:
            reason = f"EPCIS {step or 'event'}: {disposition or 'held'}"
            return [
                (ledger.hold, HoldCommand(container=c, reason=reason, occurred_at=at))
                for c in codes
            ]
        if disposition in RELEASE_DISPOSITIONS:
            reason = f"EPCIS {step or 'event'}: {disposition}"
            return [
                (ledger.release, ReleaseCommand(container=c, reason=reason, occurred_at=at))
                for c in codes
            ]
    elif kind == "AggregationEvent" and action in ("ADD", "DELETE"):
        children = [
            _existing(session, e, f"childEPCs[{i}]")
            for i, e in enumerate(ev.get("childEPCs") or [])
        ]
        if not children:
            raise InvalidInput("the event names no child", field="childEPCs", expected="EPCs")
        if action == "ADD":
            parent_uri = ev.get("parentID")
            if not parent_uri:
                raise InvalidInput(
                    "packing needs the parentID",
                    field="parentID",
                    expected="the parent container's EPC",
                )
            parent = _existing(session, parent_uri, "parentID")
            return [
                (ledger.nest, NestCommand(container=c, parent=parent, occurred_at=at))
                for c in children
            ]
        loc = _location(session, ev, "bizLocation", required=False)
        return [
            (ledger.unnest, UnnestCommand(container=c, to_location=loc, occurred_at=at))
            for c in children
        ]
    elif kind == "TransformationEvent":
        biz_types = {_cbv(b.get("type"), "BTT") for b in ev.get("bizTransactionList") or []}
        if ev.get("transformationID") or "prodorder" in biz_types:
            raise InvalidInput(
                "production is not captured as EPCIS: it is recorded by work-order scans",
                field="transformationID",
                expected="a repacking TransformationEvent without transformationID or prodorder",
            )
        source = _existing(session, _one_epc(ev, "inputEPCList"), "inputEPCList[0]")
        target_uri = _one_epc(ev, "outputEPCList")
        target = container_code(target_uri, "outputEPCList[0]")
        exists = session.scalar(select(Container.id).where(Container.code == target)) is not None
        name = "outputQuantityList" if ev.get("outputQuantityList") else "inputQuantityList"
        parts = [
            QuantityLine(item=item.code, lot=lot, quantity=q)
            for item, lot, q, _ in _quantities(session, ev, name)
        ]
        repack = SplitCommand(
            container=source,
            into=target if exists else None,
            new_container=None if exists else target,
            lines=parts,
            occurred_at=at,
        )
        return [(ledger.split, repack)]
    raise InvalidInput(
        f"no ledger operation stands for a {kind} with action {action}, bizStep {step} and "
        f"disposition {disposition}",
        field="bizStep",
        expected="ObjectEvent receiving/commissioning/storing/shipping/holding/cycle_counting/"
        "destroying, AggregationEvent ADD or DELETE, TransformationEvent for repacking",
    )
