"""Reading an EPCIS event into one ledger operation: steps, dispositions, EPCs, quantities."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import InvalidInput, NotFound
from isom.integration import epcis
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import (
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
    ScrapCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Unit

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
    if ledger_queries.container_by_code(session, code) is None:
        raise NotFound(
            f"no container {code!r} (from {uri})",
            field=field,
            expected="the EPC of a container ISOM knows",
        )
    return code


def item_and_lot(session: Session, uri: str, field: str) -> tuple[Item, str | None]:
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
        item, lot = item_and_lot(session, q["epcClass"], f"{field}.epcClass")
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


_Plan = list[tuple[Operation, BaseModel]]


def _plan(session: Session, ev: dict[str, Any]) -> _Plan:
    """The ledger operations one EPCIS event stands for, in order."""
    kind = ev.get("type")
    step = _cbv(ev.get("bizStep"), "BizStep")
    disposition = _cbv(ev.get("disposition"), "Disp")
    action = ev.get("action")
    at = _time(ev, "eventTime")
    plan: _Plan | None = None
    if kind == "ObjectEvent":
        plan = _object_plan(session, ev, step, disposition, action, at)
    elif kind == "AggregationEvent" and action in ("ADD", "DELETE"):
        plan = _aggregation_plan(session, ev, action, at)
    elif kind == "TransformationEvent":
        plan = _repack_plan(session, ev, at)
    if plan is not None:
        return plan
    raise InvalidInput(
        f"no ledger operation stands for a {kind} with action {action}, bizStep {step} and "
        f"disposition {disposition}",
        field="bizStep",
        expected="ObjectEvent receiving/commissioning/storing/shipping/holding/cycle_counting/"
        "destroying, AggregationEvent ADD or DELETE, TransformationEvent for repacking",
    )


def _object_plan(
    session: Session,
    ev: dict[str, Any],
    step: str | None,
    disposition: str | None,
    action: Any,
    at: dt.datetime | None,
) -> _Plan | None:
    """An ObjectEvent's operations by its business step and disposition (None: no match)."""
    if step in RECEIVE_STEPS and (step == "receiving" or ev.get("quantityList")):
        return _receive_plan(session, ev, at)
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
        return _move_plan(session, ev, codes, at)
    if step in SHIP_STEPS:
        return _ship_plan(session, ev, codes, at)
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
        return _scrap_plan(session, ev, step, at)
    if step == "holding" or disposition in HOLD_DISPOSITIONS:
        reason = f"EPCIS {step or 'event'}: {disposition or 'held'}"
        return [
            (ledger.hold, HoldCommand(container=c, reason=reason, occurred_at=at)) for c in codes
        ]
    if disposition in RELEASE_DISPOSITIONS:
        reason = f"EPCIS {step or 'event'}: {disposition}"
        return [
            (ledger.release, ReleaseCommand(container=c, reason=reason, occurred_at=at))
            for c in codes
        ]
    return None


def _receive_plan(session: Session, ev: dict[str, Any], at: dt.datetime | None) -> _Plan:
    """Goods arriving into one container: a ledger receipt."""
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


def _move_plan(
    session: Session, ev: dict[str, Any], codes: list[str], at: dt.datetime | None
) -> _Plan:
    """Containers put somewhere; one observed where it already stands has not moved."""
    loc = _location(session, ev, "bizLocation", required=True)
    standing = ledger_queries.standing_at(session, codes, str(loc))
    return [
        (ledger.move, MoveCommand(container=c, to_location=str(loc), occurred_at=at))
        for c in codes
        if c not in standing
    ]


def _ship_plan(
    session: Session, ev: dict[str, Any], codes: list[str], at: dt.datetime | None
) -> _Plan:
    """Containers leaving for the customer in the destination list."""
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


def _scrap_plan(
    session: Session, ev: dict[str, Any], step: str | None, at: dt.datetime | None
) -> _Plan:
    """What the quantity list names destroyed in one container: ledger scraps."""
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


def _aggregation_plan(
    session: Session, ev: dict[str, Any], action: str, at: dt.datetime | None
) -> _Plan:
    """Packing children into a parent (ADD) or taking them out (DELETE)."""
    children = [
        _existing(session, e, f"childEPCs[{i}]") for i, e in enumerate(ev.get("childEPCs") or [])
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
            (ledger.nest, NestCommand(container=c, parent=parent, occurred_at=at)) for c in children
        ]
    loc = _location(session, ev, "bizLocation", required=False)
    return [
        (ledger.unnest, UnnestCommand(container=c, to_location=loc, occurred_at=at))
        for c in children
    ]


def _repack_plan(session: Session, ev: dict[str, Any], at: dt.datetime | None) -> _Plan:
    """A repacking TransformationEvent: a ledger split; production is refused (scans record it)."""
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
    exists = ledger_queries.container_by_code(session, target) is not None
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
