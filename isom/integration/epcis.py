"""GS1 EPCIS 2.0 JSON-LD: every ledger event mapped to an EPCIS event (STANDARDS.md's table).

Identifiers: a container whose code is a valid SSCC is `https://id.gs1.org/00/<sscc>` (GS1
Digital Link); any other (internal) code is `urn:isom:container:<code>`. An item with a GTIN
is a Digital Link class (`https://id.gs1.org/01/<gtin>[/10/<lot>]`), otherwise
`urn:isom:item:<code>[:lot:<lot>]`; locations are `urn:isom:location:<code>`, work-order steps
`urn:isom:step:<step>`. Event ids are the CBV 2.0 Event Hash ID (`ni:///sha-256;...`), computed
by the `epcis-event-hash-generator` package (the GS1 reference implementation). A reversal
is exported as the original event again with an `errorDeclaration`. Ledger fields that EPCIS
has no place for travel as `isom:` extensions.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import InvalidInput
from isom.integration.event_hash import hashes_of, prehash_strings
from isom.ledger import queries as ledger_queries
from isom.ledger.enums import EventKind
from isom.ledger.queries import EventRow, MoveRow
from isom.masterdata.models import Item, Location, Unit

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
ISOM_NS = "https://isom.dev/epcis/"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {"isom": ISOM_NS}]
DIGITAL_LINK = "https://id.gs1.org"

#: A unit's code -> UN/ECE Recommendation 20; counted units (each) carry no uom in EPCIS.
UOM = {
    "m": "MTR",
    "mm": "MMT",
    "cm": "CMT",
    "km": "KMT",
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "l": "LTR",
    "ml": "MLT",
    "m2": "MTK",
    "m3": "MTQ",
    "h": "HUR",
    "min": "MIN",
}
COUNTED = {"ea", "pc", "pcs", "each", "c62", "ea."}

BIZ_STEP = {
    EventKind.create: "commissioning",
    EventKind.receive: "receiving",
    EventKind.move: "storing",
    EventKind.nest: "packing",
    EventKind.unnest: "unpacking",
    EventKind.split: "repacking",
    EventKind.merge: "repacking",
    EventKind.adjust: "cycle_counting",
    EventKind.count: "cycle_counting",
    EventKind.hold: "holding",
    EventKind.release: "inspecting",
    EventKind.scrap: "destroying",
    EventKind.ship: "shipping",
}
# consume and produce are the two halves of one TransformationEvent (same transformationID,
# the work-order step); CBV has no "producing" step, so they carry none.

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent")


# --- identifiers -------------------------------------------------------------------------


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10: weights 3,1,3,1... from the rightmost digit of the body."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_sscc(code: str) -> bool:
    return len(code) == 18 and code.isdigit() and gs1_check_digit(code[:17]) == int(code[17])


@functools.lru_cache(maxsize=65_536)
def _q(text: str) -> str:
    """A code as a URI segment; remembered, since a page of events names the same few codes
    thousands of times."""
    return urllib.parse.quote(text, safe="-._~")


@functools.lru_cache(maxsize=65_536)
def container_uri(code: str) -> str:
    return f"{DIGITAL_LINK}/00/{code}" if is_sscc(code) else f"urn:isom:container:{_q(code)}"


def class_uri(item_code: str, gtin: str | None, lot: str | None) -> str:
    if gtin and gtin.isdigit():
        base = f"{DIGITAL_LINK}/01/{gtin.zfill(14)}"
        return f"{base}/10/{_q(lot)}" if lot else base
    base = f"urn:isom:item:{_q(item_code)}"
    return f"{base}:lot:{_q(lot)}" if lot else base


def location_uri(code: str) -> str:
    return f"urn:isom:location:{_q(code)}"


def step_uri(step: str) -> str:
    return f"urn:isom:step:{_q(step)}"


def party_uri(kind: str, code: str) -> str:
    return f"urn:isom:{kind}:{_q(code)}"


def uom_of(unit: str | None) -> str | None:
    if unit is None or unit.lower() in COUNTED:
        return None
    code = UOM.get(unit.lower(), unit.upper())
    return code if re.fullmatch(r"[A-Z0-9]{2,3}", code) else None


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _offset(value: dt.datetime, tz: str | None) -> str:
    try:
        off = value.astimezone(ZoneInfo(tz or "UTC")).utcoffset() or dt.timedelta(0)
    except (KeyError, ValueError):
        off = dt.timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _num(value: str | Decimal) -> int | float:
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


# --- lookups for a batch of events -------------------------------------------------------


@dataclass
class _Lookups:
    items: dict[str, tuple[str | None, str]]  # code -> (gtin, unit code)
    locations: dict[int, tuple[str, str]]  # id -> (code, timezone)
    containers: dict[int, str]
    moves: dict[int, list[MoveRow]]
    originals: dict[int, EventRow]


def _lookups(session: Session, events: list[EventRow]) -> _Lookups:
    rev_ids = [e.reverses_event_id for e in events if e.reverses_event_id]
    originals = ledger_queries.event_rows(session, rev_ids)
    every = events + list(originals.values())
    moves = ledger_queries.moves_of(session, [e.id for e in every])
    item_codes: set[str] = set()
    for e in every:
        for ln in (e.result or {}).get("lines", []):
            item_codes.add(ln["item"])
    items = {
        code: (gtin, unit)
        for code, gtin, unit in session.connection().execute(
            select(Item.code, Item.gtin, Unit.code)
            .join(Unit, Unit.id == Item.base_unit_id)
            .where(Item.code.in_(item_codes))
        )
    }
    loc_ids: set[int] = {x for e in every for x in (e.location_id, e.site_id) if x}
    cont_ids: set[int] = set()
    for mvs in moves.values():
        for mv in mvs:
            loc_ids |= {x for x in (mv.to_location_id, mv.from_location_id) if x}
            cont_ids |= {x for x in (mv.container_id, mv.to_parent_id, mv.from_parent_id) if x}
    locations = {
        i: (c, tz)
        for i, c, tz in session.connection().execute(
            select(Location.id, Location.code, Location.timezone).where(Location.id.in_(loc_ids))
        )
    }
    containers = ledger_queries.container_codes(session, cont_ids)
    return _Lookups(items, locations, containers, moves, originals)


# --- the mapping -------------------------------------------------------------------------


def _qty(lk: _Lookups, ln: dict[str, Any], quantity: Decimal) -> dict[str, Any]:
    gtin, unit = lk.items.get(ln["item"], (None, None))
    out: dict[str, Any] = {
        "epcClass": class_uri(ln["item"], gtin, ln.get("lot")),
        "quantity": _num(abs(quantity)),
    }
    uom = uom_of(unit)
    if uom:
        out["uom"] = uom
    return out


def _quantities(lk: _Lookups, lines: list[dict[str, Any]], sign: int) -> list[dict[str, Any]]:
    """Container lines of one sign, summed per class."""
    sums: dict[tuple[str, str | None], Decimal] = {}
    first: dict[tuple[str, str | None], dict[str, Any]] = {}
    for ln in lines:
        q = Decimal(ln["quantity"])
        if ln.get("container") and (q > 0 if sign > 0 else q < 0):
            k = (ln["item"], ln.get("lot"))
            sums[k] = sums.get(k, Decimal(0)) + q
            first.setdefault(k, ln)
    return [_qty(lk, first[k], v) for k, v in sorted(sums.items(), key=lambda kv: str(kv[0]))]


def _containers(lines: list[dict[str, Any]], sign: int = 0) -> list[str]:
    out: list[str] = []
    for ln in lines:
        q = Decimal(ln["quantity"])
        if ln.get("container") and (sign == 0 or (q > 0 if sign > 0 else q < 0)):
            uri = container_uri(ln["container"])
            if uri not in out:
                out.append(uri)
    return out


def _map(e: EventRow, lk: _Lookups) -> dict[str, Any]:
    """The EPCIS body of one ledger event (without ids, times and extensions)."""
    cmd: dict[str, Any] = e.command or {}
    lines: list[dict[str, Any]] = (e.result or {}).get("lines", [])
    moves = lk.moves.get(e.id, [])
    k = e.kind
    ev: dict[str, Any]
    if k in (EventKind.nest, EventKind.unnest) and moves:
        mv = moves[0]
        parent = mv.to_parent_id if k is EventKind.nest else mv.from_parent_id
        ev = {
            "type": "AggregationEvent",
            "parentID": container_uri(lk.containers.get(parent or 0, "unknown")),
            "childEPCs": [container_uri(lk.containers[mv.container_id])],
            "action": "ADD" if k is EventKind.nest else "DELETE",
        }
    elif k in (EventKind.consume, EventKind.produce, EventKind.split, EventKind.merge):
        ev = _transformation(cmd, lines, lk)
    else:
        ev = _object_event(k, cmd, lines, moves, lk)
    _add_parties(ev, e, cmd)
    _add_places(ev, e, moves, lk)
    return ev


def _transformation(
    cmd: dict[str, Any], lines: list[dict[str, Any]], lk: _Lookups
) -> dict[str, Any]:
    """Material in and out of a step (or a split or merge): a TransformationEvent."""
    ev: dict[str, Any] = {"type": "TransformationEvent"}
    ins, outs = _containers(lines, -1), _containers(lines, +1)
    if ins:
        ev["inputEPCList"] = ins
        ev["inputQuantityList"] = _quantities(lk, lines, -1)
    if outs:
        ev["outputEPCList"] = outs
        ev["outputQuantityList"] = _quantities(lk, lines, +1)
    step = cmd.get("step")
    if step:
        ev["transformationID"] = step_uri(step)
        ev["bizTransactionList"] = [
            {"type": "prodorder", "bizTransaction": party_uri("workorder", step.split("/")[0])}
        ]
    return ev


def _object_event(
    k: EventKind,
    cmd: dict[str, Any],
    lines: list[dict[str, Any]],
    moves: list[MoveRow],
    lk: _Lookups,
) -> dict[str, Any]:
    """Containers observed, added or destroyed, with their disposition: an ObjectEvent."""
    ev: dict[str, Any] = {"type": "ObjectEvent"}
    epcs = (
        [container_uri(lk.containers[m.container_id]) for m in moves]
        if moves and k in (EventKind.move, EventKind.ship, EventKind.create)
        else _containers(lines)
    )
    if not epcs and cmd.get("container"):
        epcs = [container_uri(cmd["container"])]
    ev["epcList"] = epcs
    if k is EventKind.scrap:
        ev["epcList"] = []
        ev["quantityList"] = _quantities(lk, lines, -1)
        ev["action"] = "DELETE"
        ev["disposition"] = "destroyed"
    elif k is EventKind.create:
        ev["action"] = "ADD"
    elif k is EventKind.receive:
        ev["action"] = "OBSERVE"
        ev["quantityList"] = _quantities(lk, lines, +1)
    else:
        ev["action"] = "OBSERVE"
    if k in (EventKind.count, EventKind.adjust):
        ev["quantityList"] = [
            _qty(lk, ln, Decimal(ln["quantity"])) for ln in lines if ln.get("container")
        ]
    if k is EventKind.hold:
        ev["disposition"] = "non_conformant"
    elif k is EventKind.release:
        ev["disposition"] = "available"
    elif k is EventKind.ship:
        ev["disposition"] = "in_transit"
    return ev


def _add_parties(ev: dict[str, Any], e: EventRow, cmd: dict[str, Any]) -> None:
    """The business step, the order it belongs to, and the supplier or customer."""
    k = e.kind
    if k in BIZ_STEP:
        ev["bizStep"] = BIZ_STEP[k]
    if k is EventKind.receive and e.reference:
        ev["bizTransactionList"] = [{"type": "po", "bizTransaction": party_uri("po", e.reference)}]
    if k is EventKind.ship:
        if e.reference:
            # the customer's order: a purchase order from the buyer's side (CBV type po)
            ev["bizTransactionList"] = [
                {"type": "po", "bizTransaction": party_uri("order", e.reference)}
            ]
        if cmd.get("customer"):
            ev["destinationList"] = [
                {"type": "owning_party", "destination": party_uri("customer", cmd["customer"])}
            ]
    if k is EventKind.receive and cmd.get("supplier"):
        ev["sourceList"] = [
            {"type": "owning_party", "source": party_uri("supplier", cmd["supplier"])}
        ]


def _add_places(ev: dict[str, Any], e: EventRow, moves: list[MoveRow], lk: _Lookups) -> None:
    """Where it happened, and where the material now is."""
    where = lk.locations.get(e.location_id or 0)
    to_loc = next((m.to_location_id for m in moves if m.to_location_id), None)
    now_at = lk.locations.get(to_loc or 0) or where
    if where:
        ev["readPoint"] = {"id": location_uri(where[0])}
    if now_at and e.kind is not EventKind.ship:
        ev["bizLocation"] = {"id": location_uri(now_at[0])}


def to_epcis(e: EventRow, lk: _Lookups) -> dict[str, Any]:
    """One ledger event as an EPCIS 2.0 event (with its CBV 2.0 hash as `eventID`)."""
    shown = lk.originals.get(e.reverses_event_id or 0, e) if e.kind is EventKind.reverse else e
    where = lk.locations.get(shown.location_id or 0)
    ev: dict[str, Any] = {
        "type": "",
        "eventTime": _time(shown.occurred_at),
        "recordTime": _time(shown.recorded_at),
        "eventTimeZoneOffset": _offset(shown.occurred_at, where[1] if where else None),
    }
    ev.update(_map(shown, lk))
    ev["eventID"] = event_hash(ev)
    if e.kind is EventKind.reverse:
        ev["errorDeclaration"] = {
            "declarationTime": _time(e.recorded_at),
            "reason": "incorrect_data",
            "isom:reason": e.reason or "",
            "isom:reversalEventKey": e.key,
        }
    ev["isom:eventKey"] = shown.key
    ev["isom:ledgerEventId"] = e.id
    ev["isom:kind"] = e.kind.value
    site = lk.locations.get(shown.site_id or 0)
    if site:
        ev["isom:site"] = site[0]  # which site's event (its readPoint names the place itself)
    if shown.actor:
        ev["isom:actor"] = shown.actor
    if shown.device:
        ev["isom:device"] = shown.device
    return ev


def document(events: list[dict[str, Any]], *, created: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(created or dt.datetime.now(dt.UTC)),
        "epcisBody": {"eventList": events},
    }


def query_document(
    events: list[dict[str, Any]], *, created: dt.datetime | None = None
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(created or dt.datetime.now(dt.UTC)),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
    }


def export(session: Session, events: list[EventRow]) -> list[dict[str, Any]]:
    lk = _lookups(session, events)
    return [to_epcis(e, lk) for e in events]


# --- the CBV 2.0 event hash --------------------------------------------------------------


#: Hashes of events already seen, by their content: a page of 1,000 events costs seconds of
#: JSON-LD work the first time and a dictionary look-up after (events never change).
_HASHES: OrderedDict[str, str] = OrderedDict()
_HASHES_MAX = 200_000
_HASHES_LOCK = threading.Lock()


def event_hash(event: dict[str, Any]) -> str:
    """`ni:///sha-256;<hex>?ver=CBV2.0` of one event (without its `isom:` extensions)."""
    core = {k: v for k, v in event.items() if not k.startswith("isom:")}
    content = json.dumps(core, sort_keys=True, separators=(",", ":"))
    with _HASHES_LOCK:
        known = _HASHES.get(content)
        if known is not None:
            _HASHES.move_to_end(content)
            return known
    value: str = hashes_of(prehash_strings(document([core])))[0]
    with _HASHES_LOCK:
        _HASHES[content] = value
        if len(_HASHES) > _HASHES_MAX:
            _HASHES.popitem(last=False)
    return value


# --- the query interface -----------------------------------------------------------------


@dataclass
class EpcisQuery:
    event_type: str | None = None
    ge_event_time: dt.datetime | None = None
    lt_event_time: dt.datetime | None = None
    biz_step: str | None = None
    biz_location: str | None = None
    match_epc: str | None = None
    match_any_epc: str | None = None
    per_page: int = 100
    page_token: str | None = None


def _token(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode()


def _after(token: str | None) -> int:
    if not token:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
        if not isinstance(value, int) or value < 0:
            raise ValueError(value)
        return value
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            "the page token is not one this server gave",
            field="nextPageToken",
            expected="the token of the previous page's Link header",
        ) from exc


def _short(value: str) -> str:
    """A CBV value as its bare name: 'https://ref.gs1.org/cbv/BizStep-receiving' -> receiving."""
    return value.rsplit("BizStep-", 1)[-1].rsplit(":", 1)[-1] if "cbv" in value else value


def _epc_match(pattern: str, epcs: list[str]) -> bool:
    wanted = [p.strip() for p in pattern.split(",") if p.strip()]
    for w in wanted:
        for epc in epcs:
            if epc == w or (w.endswith("*") and epc.startswith(w[:-1])):
                return True
    return False


def _epcs(ev: dict[str, Any], with_parent: bool) -> list[str]:
    out: list[str] = []
    for f in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        out += ev.get(f, [])
    if with_parent and ev.get("parentID"):
        out.append(ev["parentID"])
    return out


def query(session: Session, q: EpcisQuery) -> tuple[dict[str, Any], str | None]:
    """Events matching the standard filters, in ledger order; (query document, next token)."""
    if q.event_type and q.event_type not in EVENT_TYPES:
        raise InvalidInput(
            f"unknown eventType {q.event_type!r}",
            field="eventType",
            expected=", ".join(EVENT_TYPES),
        )
    step = _short(q.biz_step) if q.biz_step else None
    kinds: list[EventKind] | None = None
    if step:
        kinds = [k for k, s in BIZ_STEP.items() if s == step]
        if not kinds:
            return query_document([]), None
        kinds.append(EventKind.reverse)

    def page(after: int, limit: int) -> list[EventRow]:
        return ledger_queries.event_page(
            session,
            after,
            limit=limit,
            occurred_from=q.ge_event_time,
            occurred_before=q.lt_event_time,
            kinds=kinds,
        )

    out: list[dict[str, Any]] = []
    last = _after(q.page_token)
    scan = max(q.per_page, 200)
    while len(out) < q.per_page:
        batch = page(last, scan)
        if not batch:
            return query_document(out), None
        for ev in export(session, batch):
            last = ev["isom:ledgerEventId"]
            if q.event_type and ev["type"] != q.event_type:
                continue
            if step and ev.get("bizStep") != step:
                continue
            if q.biz_location and ev.get("bizLocation", {}).get("id") != q.biz_location:
                continue
            if q.match_epc and not _epc_match(q.match_epc, _epcs(ev, False)):
                continue
            if q.match_any_epc and not _epc_match(q.match_any_epc, _epcs(ev, True)):
                continue
            out.append(ev)
            if len(out) >= q.per_page:
                break
        if len(batch) < scan and len(out) < q.per_page:
            return query_document(out), None
    more = page(last, 1)
    return query_document(out), (_token(last) if more else None)
