"""What a scanned code names: a container, an item with lot and quantity, a place, a person, a job.

GS1 codes name what their AIs say: (00) an SSCC-labelled container, (91) an internal container
code, (01)/(02) an item by GTIN with (10) lot, (17) expiry and (30)/(37)/(310n) quantity,
(414)+(254) a location by its site's GLN and its own code. Anything else is an internal code,
typed (`C:`, `L:`, `B:`, `J:`, `W:`) or plain, looked up as a container, a job step
(`WO-000001/10`) or job, a badge, a workstation, then a location.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.devices import gs1
from isom.devices.models import Gs1Site
from isom.devices.schemas import ScanView
from isom.errors import InvalidInput, IsomError, NotFound
from isom.ledger import queries as ledger_queries
from isom.masterdata.models import Item, Location, Person, Unit, Workstation
from isom.production import services as production

_TYPED = {"C": "container", "L": "location", "B": "person", "J": "job", "W": "workstation"}

#: Containers looked up ahead for a scan's codes, by code: None for a code that names none.
Known = Mapping[str, ledger_queries.ContainerRef | None]


def known_containers(session: Session, codes: Iterable[str]) -> Known:
    """The containers a scan's plain codes name, in one round trip: each code is tried as a
    container first, so a scan of a container and a location asks once, not three times."""
    wanted = [c for c in codes if _plain(c)]
    found = ledger_queries.containers_by_code(session, wanted)
    return {code: found.get(code) for code in wanted}


def _plain(code: str) -> bool:
    """A code `resolve` would look up as a plain container code (its own checks refuse the
    rest, in the order of the scan)."""
    if not code or len(code) > 100 or not code.isprintable() or code[:1] == "]":
        return False
    try:
        return gs1.parse_gs1(code) is None
    except IsomError:
        return False


def _container(
    session: Session, code: str, *, brief: bool = False, known: Known | None = None
) -> dict[str, Any] | None:
    if known is not None and code in known:
        cont = known[code]
    else:
        cont = ledger_queries.container_by_code(session, code)
    if brief:
        return {"code": cont.code} if cont else None
    if cont is None:
        return None
    loc = session.get(Location, cont.location_id) if cont.location_id else None
    rows = ledger_queries.content_lines(session, cont.id)
    return {
        "code": cont.code,
        "status": cont.status.value,
        "location": loc.code if loc else None,
        "contents": [
            {
                "item": r[0],
                "lot": r[1],
                "quantity": str(r[2]),
                "status": r[3].value,
                "wip_step": r[4],
            }
            for r in rows
        ],
    }


def _item_by_gtin(session: Session, gtin: str) -> Item:
    item = session.scalar(select(Item).where(Item.gtin == gtin))
    if item is None and gtin.startswith("0"):
        item = session.scalar(select(Item).where(Item.gtin == gtin.lstrip("0")))
    if item is None:
        raise NotFound(
            f"no item has the GTIN {gtin}",
            field="data",
            expected="the GTIN of an item in the item master",
        )
    return item


def _item_view(session: Session, item: Item, data: gs1.Gs1Data) -> dict[str, Any]:
    unit = session.get(Unit, item.base_unit_id)
    quantity: Decimal | None = data.count
    if quantity is None and data.net_kg is not None and unit is not None and unit.code == "kg":
        quantity = data.net_kg
    return {
        "code": item.code,
        "name": item.name,
        "gtin": item.gtin,
        "unit": unit.code if unit else None,
        "lot": data.lot or (data.serial if item.tracking.value == "serial" else None),
        "serial": data.serial,
        "quantity": str(quantity) if quantity is not None else None,
        "net_kg": str(data.net_kg) if data.net_kg is not None else None,
        "expiry_date": data.expiry_date.isoformat() if data.expiry_date else None,
        "production_date": data.production_date.isoformat() if data.production_date else None,
    }


def _location_view(loc: Location) -> dict[str, Any]:
    return {"code": loc.code, "name": loc.name, "kind": loc.kind.value}


def _gs1_view(session: Session, raw: str, data: gs1.Gs1Data) -> ScanView:
    view = ScanView(data=raw, form=data.form, kind="unknown", gs1=dict(data.elements))
    container_code = data.sscc or data.internal.get(gs1.INTERNAL_CONTAINER_AI)
    gtin = data.gtin or data.content_gtin
    if gtin is not None:
        view.item = _item_view(session, _item_by_gtin(session, gtin), data)
        view.kind, view.code = "item", view.item["code"]
    if container_code is not None:
        view.container = _container(session, container_code) or {
            "code": container_code,
            "status": "unknown",
        }
        view.kind, view.code = "container", container_code
    if data.gln is not None:
        loc = _location_by_gln(session, data.gln, data.gln_extension)
        view.location = _location_view(loc)
        if view.kind == "unknown":
            view.kind, view.code = "location", loc.code
    return view


def _location_by_gln(session: Session, gln: str, extension: str | None) -> Location:
    site_row = session.scalar(select(Gs1Site).where(Gs1Site.gln == gln))
    if site_row is None:
        raise NotFound(
            f"no site has the GLN {gln}", field="data", expected="the GLN of a configured site"
        )
    if extension is None:
        site = session.get(Location, site_row.site_id)
        assert site is not None
        return site
    loc = session.scalar(
        select(Location).where(Location.code == extension, Location.site_id == site_row.site_id)
    )
    if loc is None:
        raise NotFound(
            f"site GLN {gln} has no location {extension!r}",
            field="data",
            expected="a location code of that site in (254)",
        )
    return loc


def _job(session: Session, code: str) -> dict[str, Any] | None:
    number, _, seq = code.partition("/")
    try:
        wo = production.get_work_order(session, number)
    except NotFound:
        return None
    view: dict[str, Any] = {"work_order": wo.number, "status": wo.status.value, "step": None}
    if seq:
        if not seq.isdigit():
            return None
        try:
            step = production.get_step(session, wo, int(seq))
        except NotFound:
            return None
        view.update(step=step.sequence, step_status=step.status.value, operation=step.operation)
    return view


def _lookup(
    session: Session,
    kind: str,
    code: str,
    view: ScanView,
    brief: bool = False,
    known: Known | None = None,
) -> bool:
    if kind == "container":
        found = _container(session, code, brief=brief, known=known)
        view.container = found
    elif kind == "job":
        found = _job(session, code)
        view.job = found
    elif kind == "person":
        person = session.scalar(select(Person).where(Person.badge_code == code, Person.active))
        found = (
            {"code": person.code, "name": person.name, "badge": person.badge_code}
            if person
            else None
        )
        view.person = found
    elif kind == "workstation":
        ws = session.scalar(select(Workstation).where(Workstation.code == code))
        found = {"code": ws.code, "name": ws.name, "kind": ws.kind} if ws else None
        view.workstation = found
    else:
        loc = session.scalar(select(Location).where(Location.code == code))
        found = _location_view(loc) if loc else None
        view.location = found
    if found is None:
        return False
    view.kind, view.code = kind, code  # type: ignore[assignment]
    return True


def resolve(
    session: Session, raw: str, *, brief: bool = False, known: Known | None = None
) -> ScanView:
    """What a scan names; 422 for malformed GS1 data, 404 for a GS1 key nothing carries.

    `brief` skips a plain container code's contents and location (a move needs only its code);
    `known`: the containers looked up ahead (`known_containers`).
    """
    data = gs1.parse_gs1(raw)
    if data is not None:
        return _gs1_view(session, raw, data)
    text = raw.strip("\r\n")
    if text[:1] == "]" and len(text) > 3:
        text = text[3:]  # a plain symbology identifier (]C0, ]d1, ]Q1...)
    if not text or len(text) > 100 or not text.isprintable():
        raise InvalidInput(
            f"{raw!r} is not a code this plant prints",
            field="data",
            expected="a GS1 barcode or an internal code (container, job, badge, location)",
        )
    view = ScanView(data=raw, form="internal", kind="unknown")
    prefix, sep, rest = text.partition(":")
    if sep and prefix in _TYPED:
        _lookup(session, _TYPED[prefix], rest, view, brief)
        return view
    if (
        len(text) == 18
        and gs1.is_valid_key(text)
        and _lookup(session, "container", text, view, known=known)
    ):
        view.form = "sscc"
        return view
    for kind in ("container", "location", "person", "job", "workstation"):
        if _lookup(session, kind, text, view, brief, known):
            break
    return view
