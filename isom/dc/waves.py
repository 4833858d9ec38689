"""Wave picking: released ship orders grouped by carrier and cut-off, picked zone by zone.

`make_waves` puts every planned ship order not yet in a wave into the wave of its customer's
carrier and cut-off (one wave per carrier and cut-off time of the day); each ship order gets a
tote of the wave. The wave's pick list is the ship orders' pick tasks grouped by the zone of
the container's location, in walking order (location code, then container). A pick scan
splits the goods into the order's tote (orders' pick); packing puts each full tote into a
carton labelled with a new SSCC (orders' pack); shipping ships each order (orders' ship). The
customer gets an outbound despatch advice: EPCIS events with the SSCC aggregation
(`despatch_advice`), valid against GS1's schema.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.dc.models import Wave, WaveOrder, WaveStatus
from isom.dc.terms import terms_of
from isom.devices import services as devices
from isom.errors import Conflict, NotFound
from isom.integration import capture, epcis
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import Code, Command, Positive
from isom.masterdata.models import Customer, Item, Location, LocationKind
from isom.orders import queries as orders_queries
from isom.orders import services as orders
from isom.orders.enums import PickStatus, ShipOrderStatus
from isom.orders.events import next_number, run_order_event
from isom.orders.queries import ShipOrderRow
from isom.orders.schemas import OrderResult, PackCommand, PickScan, ShipShipOrder
from isom.transitions import move
from isom.types import utcnow

Actor = ledger.Actor


class MakeWaves(Command):
    """Group the released ship orders into waves for a day's cut-offs."""

    day: dt.date | None = Field(default=None, description="Defaults to today (UTC).")


class WaveAction(Command):
    wave: Code


class WavePick(Command):
    """A container scanned on a wave's pick list: the goods go into its ship order's tote."""

    wave: Code
    container: Code
    quantity: Positive | None = None


class PickRow(BaseModel):
    zone: str
    location: str
    container: str
    item: str
    lot: str | None
    quantity: Decimal
    ship_order: str
    tote: str
    status: str


class WaveSheet(BaseModel):
    number: str
    carrier: str
    cutoff: dt.datetime
    status: str
    orders: list[dict[str, str | None]]
    zones: dict[str, list[PickRow]]
    open_picks: int


#: A wave is picked (or its orders picked elsewhere), then shipped once all its orders are.
WAVE_TRANSITIONS: dict[WaveStatus, frozenset[WaveStatus]] = {
    WaveStatus.released: frozenset({WaveStatus.picking, WaveStatus.shipped}),
    WaveStatus.picking: frozenset({WaveStatus.shipped}),
    WaveStatus.shipped: frozenset(),
}


def _names(wave: Wave) -> dict[str, str]:
    return {"what": f"wave {wave.number}", "kind": "wave", "field": "wave"}


def get_wave(session: Session, number: str) -> Wave:
    """A wave by its number, or 404."""
    wave = session.scalar(select(Wave).where(Wave.number == number))
    if wave is None or not sites.allows(_site_of(session, wave.id)):
        raise NotFound(f"no wave {number!r}", field="wave", expected="an existing wave number")
    return wave


def _site_of(session: Session, wave_id: int) -> int | None:
    """The site of a wave: its ship orders', all of one site."""
    ids = session.scalars(select(WaveOrder.ship_order_id).where(WaveOrder.wave_id == wave_id))
    found = [s.site_id for s in orders_queries.ship_orders(session, ids=list(ids))]
    return min((f for f in found if f is not None), default=None)


def _members(session: Session, wave: Wave) -> list[tuple[WaveOrder, ShipOrderRow]]:
    members = list(
        session.scalars(
            select(WaveOrder).where(WaveOrder.wave_id == wave.id).order_by(WaveOrder.id)
        )
    )
    ships = {
        s.id: s for s in orders_queries.ship_orders(session, ids=[m.ship_order_id for m in members])
    }
    return [(m, ships[m.ship_order_id]) for m in members]


def _zone(session: Session, location_id: int | None) -> tuple[str, str]:
    """(zone code, location code) of a location: the nearest zone above it, or its site."""
    loc = session.get(Location, location_id) if location_id else None
    here = loc.code if loc else "-"
    while loc is not None and loc.kind is not LocationKind.zone and loc.parent_id:
        loc = session.get(Location, loc.parent_id)
    return (loc.code if loc else "-"), here


def _cutoff(session: Session, day: dt.date, hhmm: str, ship: ShipOrderRow) -> dt.datetime:
    """The cut-off in UTC: the day's HH:MM in the time zone of the site the goods are at."""
    picks = orders_queries.picks_of(session, ship.id)
    held_in = ledger_queries.containers_by_id(session, [picks[0].container_id]) if picks else {}
    first = next((c.site_id for c in held_in.values()), None)
    site = session.get(Location, first) if first else None
    zone = ZoneInfo(site.timezone if site else "UTC")
    hh, mm = (int(x) for x in hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=zone).astimezone(dt.UTC)


def make_waves(session: Session, actor: Actor, key: str, cmd: MakeWaves) -> OrderResult:
    """Put each planned ship order not in a wave into its carrier's and cut-off's new wave."""

    def build(session: Session, actor: Actor, key: str, cmd: MakeWaves) -> OrderResult:
        day = cmd.day or utcnow().date()
        in_wave = set(session.scalars(select(WaveOrder.ship_order_id)))
        ships = [
            s
            for s in orders_queries.ship_orders(session, status=ShipOrderStatus.planned)
            if s.id not in in_wave
        ]
        groups: dict[tuple[str, dt.datetime], list[ShipOrderRow]] = defaultdict(list)
        for ship in ships:
            terms = terms_of(session, ship.customer_id)
            if terms is not None:
                groups[(terms.carrier, _cutoff(session, day, terms.cutoff, ship))].append(ship)
        if not groups:
            raise Conflict(
                "no released ship order waits for a wave",
                field="day",
                expected="planned ship orders of customers with a carrier and cut-off",
            )
        made = []
        for (carrier, cutoff), members in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
            wave = Wave(
                number=next_number(session, "WV"),
                carrier=carrier,
                cutoff=cutoff,
                status=WaveStatus.released,
                created_at=utcnow(),
                created_by=actor.name,
            )
            session.add(wave)
            session.flush()
            for k, ship in enumerate(members, start=1):
                session.add(
                    WaveOrder(wave_id=wave.id, ship_order_id=ship.id, tote=f"{wave.number}-T{k}")
                )
            made.append({"wave": wave.number, "carrier": carrier, "orders": len(members)})
        session.flush()
        return OrderResult(number=made[0]["wave"], status="released", detail={"waves": made})

    return run_order_event(session, actor, key, "dc.wave.make", cmd, build)


def _rows(session: Session, wave: Wave) -> list[PickRow]:
    rows = []
    for member, ship in _members(session, wave):
        picks = [
            p
            for p in orders_queries.picks_of(session, ship.id)
            if p.status is not PickStatus.cancelled
        ]
        conts = ledger_queries.containers_by_id(session, {p.container_id for p in picks})
        lots = ledger_queries.lots_by_id(session, {p.lot_id for p in picks})
        items = dict(
            session.execute(
                select(Item.id, Item.code).where(Item.id.in_({p.item_id for p in picks}))
            ).all()
        )
        for p in picks:
            cont, item = conts[p.container_id], items[p.item_id]
            zone, loc = _zone(session, cont.location_id)
            lot = lots[p.lot_id].code if p.lot_id else None
            rows.append(
                PickRow(
                    zone=zone,
                    location=loc,
                    container=cont.code,
                    item=item,
                    lot=lot,
                    quantity=p.quantity,
                    ship_order=ship.number,
                    tote=member.tote or "",
                    status=p.status.value,
                )
            )
    return sorted(rows, key=lambda r: (r.zone, r.location, r.container, r.ship_order))


def wave_sheet(session: Session, number: str) -> WaveSheet:
    """The wave's pick lists per zone in walking order, and where each order stands."""
    wave = get_wave(session, number)
    zones: dict[str, list[PickRow]] = {}
    rows = _rows(session, wave)
    for r in rows:
        zones.setdefault(r.zone, []).append(r)
    return WaveSheet(
        number=wave.number,
        carrier=wave.carrier,
        cutoff=wave.cutoff,
        status=wave.status.value,
        orders=[
            {"ship_order": s.number, "status": s.status.value, "tote": m.tote, "package": m.package}
            for m, s in _members(session, wave)
        ],
        zones=zones,
        open_picks=sum(1 for r in rows if r.status == PickStatus.open.value),
    )


def list_waves(session: Session) -> list[WaveSheet]:
    """Waves not yet shipped first, newest first."""
    waves = session.scalars(
        select(Wave).order_by(Wave.status == WaveStatus.shipped, Wave.id.desc())
    )
    return [wave_sheet(session, w.number) for w in waves if sites.allows(_site_of(session, w.id))]


def _open_wave(session: Session, number: str) -> Wave:
    wave = session.scalar(select(Wave).where(Wave.number == number).with_for_update())
    if wave is None or not sites.allows(_site_of(session, wave.id)):
        raise NotFound(f"no wave {number!r}", field="wave", expected="an existing wave number")
    if wave.status is WaveStatus.shipped:
        raise Conflict(f"wave {wave.number} is shipped", field="wave", expected="an open wave")
    return wave


def _refuse_if_none(done: list[Any], wave: Wave, state: str, wanted: str) -> None:
    """A pack or ship that finds no order of the wave to act on is refused, not a no-op."""
    if not done:
        raise Conflict(
            f"no order of wave {wave.number} is {state}",
            field="wave",
            expected=f"a wave with {wanted} orders",
        )


WaveAct = Callable[[Session, Actor, str, Any, Wave], dict[str, Any]]


def _on_wave(
    session: Session, actor: Actor, key: str, kind: str, cmd: WaveAction | WavePick, act: WaveAct
) -> OrderResult:
    """A wave action as one order event: the open wave locked, the act, the wave's state after."""

    def build(session: Session, actor: Actor, key: str, cmd: WaveAction | WavePick) -> OrderResult:
        wave = _open_wave(session, cmd.wave)
        detail = act(session, actor, key, cmd, wave)
        return OrderResult(number=wave.number, status=wave.status.value, detail=detail)

    return run_order_event(session, actor, key, kind, cmd, build)


def wave_pick(session: Session, actor: Actor, key: str, cmd: WavePick) -> OrderResult:
    """Pick the scanned container for the first open task of the wave on it, into its tote."""
    return _on_wave(session, actor, key, "dc.wave.pick", cmd, _pick)


def _pick(session: Session, actor: Actor, key: str, cmd: WavePick, wave: Wave) -> dict[str, Any]:
    todo = [r for r in _rows(session, wave) if r.status == PickStatus.open.value]
    row = next((r for r in todo if r.container == cmd.container), None)
    if row is None:
        nxt = ", ".join(f"{r.container} at {r.location}" for r in todo[:3])
        raise Conflict(
            f"{cmd.container} is not on the open pick list of wave {wave.number}",
            field="container",
            expected=f"next: {nxt}" if nxt else "nothing: the wave is picked",
        )
    result = orders.pick(
        session,
        actor,
        f"{key}/pick",
        PickScan(
            occurred_at=cmd.occurred_at,
            ship_order=row.ship_order,
            container=row.container,
            quantity=cmd.quantity,
            into=row.tote,
        ),
    )
    if wave.status is not WaveStatus.picking:
        move(wave, WAVE_TRANSITIONS, WaveStatus.picking, **_names(wave))
    return {**result.detail, "ship_order": row.ship_order, "tote": row.tote}


def wave_pack(session: Session, actor: Actor, key: str, cmd: WaveAction) -> OrderResult:
    """Pack each fully picked order's tote into a carton labelled with a new SSCC."""
    return _on_wave(session, actor, key, "dc.wave.pack", cmd, _pack)


def _pack(session: Session, actor: Actor, key: str, cmd: WaveAction, wave: Wave) -> dict[str, Any]:
    packed = []
    for member, ship in _members(session, wave):
        if ship.status is not ShipOrderStatus.picked or not member.tote:
            continue
        tote = ledger_queries.container_by_code(session, member.tote)
        site = session.get(Location, tote.site_id) if tote and tote.site_id else None
        if site is None:
            continue
        sscc = devices.allocate_sscc(session, actor, f"{key}/sscc/{ship.number}", site.code)
        orders.pack(
            session,
            actor,
            f"{key}/pack/{ship.number}",
            PackCommand(
                occurred_at=cmd.occurred_at,
                ship_order=ship.number,
                container=member.tote,
                package=sscc.sscc,
                package_kind="carton",
            ),
        )
        member.package = sscc.sscc
        packed.append({"ship_order": ship.number, "package": sscc.sscc})
    _refuse_if_none(packed, wave, "picked in full and unpacked", "picked")
    return {"packed": packed}


def wave_ship(session: Session, actor: Actor, key: str, cmd: WaveAction) -> OrderResult:
    """Ship every packed order of the wave; the wave is shipped when none is left open."""
    return _on_wave(session, actor, key, "dc.wave.ship", cmd, _ship)


def _ship(session: Session, actor: Actor, key: str, cmd: WaveAction, wave: Wave) -> dict[str, Any]:
    shipped = []
    for _, ship in _members(session, wave):
        if ship.status is ShipOrderStatus.packed:
            orders.ship(
                session,
                actor,
                f"{key}/ship/{ship.number}",
                ShipShipOrder(occurred_at=cmd.occurred_at, ship_order=ship.number),
            )
            shipped.append(ship.number)
    _refuse_if_none(shipped, wave, "packed", "packed")
    if all(s.status is ShipOrderStatus.shipped for _, s in _members(session, wave)):
        move(wave, WAVE_TRANSITIONS, WaveStatus.shipped, **_names(wave))
    return {"shipped": shipped}


# ---------------------------------------------------------------------------------------------
# The outbound despatch advice.


def despatch_advice(session: Session, number: str) -> dict[str, Any]:
    """A shipped order as EPCIS 2.0: per carton an AggregationEvent (SSCC -> what it holds),
    then one shipping ObjectEvent of the cartons to the customer; checked against GS1's schema."""
    ship = orders_queries.ship_order_row(session, number)
    if ship is None or ship.status is not ShipOrderStatus.shipped or not sites.allows(ship.site_id):
        raise NotFound(
            f"no shipped ship order {number!r}", field="ship_order", expected="a shipped order"
        )
    customer = session.get(Customer, ship.customer_id)
    assert customer is not None
    at = ship.shipped_at or ship.updated_at
    contents: dict[str, dict[tuple[str, str | None], Decimal]] = defaultdict(dict)
    gtins: dict[str, str | None] = {}
    shipped = orders_queries.picks_of(session, ship.id, status=PickStatus.shipped)
    packages = ledger_queries.containers_by_id(
        session, {p.package_container_id for p in shipped if p.package_container_id}
    )
    lots = ledger_queries.lots_by_id(session, {p.lot_id for p in shipped})
    for p in shipped:
        item = session.get(Item, p.item_id)
        assert item is not None and p.package_container_id is not None
        package = packages[p.package_container_id]
        lot = lots[p.lot_id].code if p.lot_id else None
        gtins[item.code] = item.gtin
        box = contents[package.code]
        box[(item.code, lot)] = box.get((item.code, lot), Decimal(0)) + p.picked_quantity
    site = session.get(Location, ship.site_id) if ship.site_id else None
    common = {
        "eventTime": epcis._time(at),
        "eventTimeZoneOffset": "+00:00",
        **({"readPoint": {"id": epcis.location_uri(site.code)}} if site else {}),
        "bizTransactionList": [
            {"type": "po", "bizTransaction": epcis.party_uri("order", ship.customer_order)},
            {"type": "desadv", "bizTransaction": epcis.party_uri("desadv", ship.number)},
        ],
    }
    events: list[dict[str, Any]] = [
        {
            "type": "AggregationEvent",
            **common,
            "parentID": epcis.container_uri(code),
            "childEPCs": [],
            "childQuantityList": [
                {"epcClass": epcis.class_uri(i, gtins[i], lot), "quantity": epcis._num(q)}
                for (i, lot), q in sorted(box.items(), key=lambda kv: str(kv[0]))
            ],
            "action": "ADD",
            "bizStep": "packing",
        }
        for code, box in sorted(contents.items())
    ]
    events.append(
        {
            "type": "ObjectEvent",
            **common,
            "epcList": [epcis.container_uri(code) for code in sorted(contents)],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "destinationList": [
                {"type": "owning_party", "destination": epcis.party_uri("customer", customer.code)}
            ],
        }
    )
    for ev in events:
        ev["eventID"] = epcis.event_hash(ev)
    doc = epcis.document(events, created=at)
    capture.validate(doc)
    return doc
