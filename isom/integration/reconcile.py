"""Reconciliation: the ERP's inventory against the containers, each difference with its evidence.

The ERP sends what it believes is on hand (item, location, lot, quantity) as CSV or JSON. The
load is all or nothing: every row is checked and all errors are answered at once, by row. The
book side is every active container's content that is stock (available or on hold; WIP
belongs to the job, not to the ERP's inventory). ERPs often keep stock per storage location
where ISOM knows the bin: a container counts at the deepest location the ERP names that
holds it for that item (its own or an ancestor), or at its own location when the ERP names
none. Where the
ERP gives no lot for an item at a location, lots are summed there.

Each difference lists the containers behind the book quantity and the latest ledger events of
that item (and lot) in them, or, where ISOM holds none, the latest events of the item and lot
anywhere: where it went. The run is stored with the feed position it was read at.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import InvalidInput, NotFound
from isom.integration import feed
from isom.integration.models import Reconciliation
from isom.ledger import queries as ledger_queries
from isom.ledger.posting import plain
from isom.masterdata.models import Item, Location, Unit

COLUMNS = ("item", "location", "lot", "quantity")
EVENTS_SHOWN = 10
MAX_ROWS = 100_000


class ErpRow(BaseModel):
    item: str
    location: str
    lot: str | None
    quantity: Decimal


class Difference(BaseModel):
    item: str
    location: str
    lot: str | None
    unit: str
    erp_quantity: Decimal
    isom_quantity: Decimal
    difference: Decimal
    containers: list[dict[str, Any]]
    events: list[dict[str, Any]]


class ReconciliationView(BaseModel):
    id: int
    source: str
    created_at: str
    created_by: str
    feed_head: int
    erp_rows: int
    matched: int
    differences: list[Difference]


def parse(text: str, fmt: str) -> list[dict[str, Any]]:
    """Rows of the ERP's file as dicts: CSV with a header, or JSON (a list, or {"lines": [...]})."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"not JSON: {exc.msg} at line {exc.lineno}",
                field="body",
                expected='a list of {"item", "location", "lot", "quantity"} or {"lines": [...]}',
            ) from exc
        rows = data.get("lines") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(
                "the JSON holds no list of rows",
                field="body",
                expected='a list of {"item", "location", "lot", "quantity"} or {"lines": [...]}',
            )
        return rows
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in ("item", "location", "quantity") if c not in header]
        if missing:
            raise InvalidInput(
                f"the CSV header lacks {', '.join(missing)}",
                field="header",
                expected="a header with item, location, lot (may be empty), quantity",
            )
        return [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    raise InvalidInput(f"unknown format {fmt!r}", field="format", expected="csv or json")


def check(session: Session, raw: list[dict[str, Any]]) -> list[ErpRow]:
    """Every row checked against the master data; all errors answered at once, by row."""
    if len(raw) > MAX_ROWS:
        raise InvalidInput("too many rows", field="body", expected=f"at most {MAX_ROWS} rows")
    items = {c for (c,) in session.execute(select(Item.code))}
    locations = {c for (c,) in session.execute(select(Location.code))}
    errors: list[dict[str, Any]] = []
    out: list[ErpRow] = []
    for n, row in enumerate(raw, start=1):
        item = str(row.get("item") or "").strip()
        location = str(row.get("location") or "").strip()
        lot = str(row.get("lot") or "").strip() or None
        bad = len(errors)
        if item not in items:
            errors.append({"row": n, "field": "item", "message": f"no item {item!r}"})
        if location not in locations:
            errors.append({"row": n, "field": "location", "message": f"no location {location!r}"})
        try:
            quantity = Decimal(str(row.get("quantity", "")).strip())
            if not quantity.is_finite() or quantity < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(
                {"row": n, "field": "quantity", "message": f"{row.get('quantity')!r} is not >= 0"}
            )
            continue
        if len(errors) == bad:
            out.append(ErpRow(item=item, location=location, lot=lot, quantity=quantity))
    if errors:
        first = errors[0]
        raise InvalidInput(
            f"{len(errors)} row(s) are not valid; row {first['row']}: {first['message']}",
            field=f"rows[{first['row']}].{first['field']}",
            expected="known item and location codes and a quantity >= 0 on every row",
            errors=errors[:200],
        )
    return out


_Key = tuple[str, str, str | None]  # item, location, lot (None where the ERP keeps no lot)


def run(session: Session, rows: list[ErpRow], *, source: str, actor: str) -> ReconciliationView:
    """Compare the ERP's rows with the containers now, store the run, answer its differences."""
    locs = {
        code: (loc_id, path)
        for loc_id, code, path in session.execute(select(Location.id, Location.code, Location.path))
    }
    code_of = {loc_id: code for code, (loc_id, _) in locs.items()}
    erp_locations: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        erp_locations[r.item].add(locs[r.location][0])
    lotless = {(r.item, r.location) for r in rows if r.lot is None}
    erp: dict[_Key, Decimal] = defaultdict(Decimal)
    for r in rows:
        erp[(r.item, r.location, None if (r.item, r.location) in lotless else r.lot)] += r.quantity
    book, behind = _book(session, erp_locations, lotless, code_of)
    differences, matched = _differences(session, erp, book, behind)
    record = Reconciliation(
        source=source[:200],
        feed_head=feed.head(session),
        erp_rows=len(rows),
        matched=matched,
        differences=[d.model_dump(mode="json") for d in differences],
        created_by=actor,
    )
    session.add(record)
    session.flush()
    return _view(record)


def _book(
    session: Session,
    erp_locations: dict[str, set[int]],
    lotless: set[tuple[str, str]],
    code_of: dict[int, str],
) -> tuple[dict[_Key, Decimal], dict[_Key, list[dict[str, Any]]]]:
    """Our stock summed at the places (and lots) the ERP counts it, with the containers behind."""
    book: dict[_Key, Decimal] = defaultdict(Decimal)
    behind: dict[_Key, list[dict[str, Any]]] = defaultdict(list)
    stock = ledger_queries.stock_at_locations(session)
    for item, lot, cont_id, cont, loc_id, path, status, qty in stock:
        ancestors = [int(p) for p in (path or "").strip("/").split("/") if p] or [loc_id]
        named = erp_locations.get(item, set())
        at = next((a for a in reversed(ancestors) if a in named), loc_id)
        where = code_of[at]
        key = (item, where, None if (item, where) in lotless else lot)
        book[key] += qty
        behind[key].append(
            {
                "container_id": cont_id,
                "container": cont,
                "location": code_of[loc_id],
                "lot": lot,
                "status": status.value,
                "quantity": plain(qty),
            }
        )
    return book, behind


def _differences(
    session: Session,
    erp: dict[_Key, Decimal],
    book: dict[_Key, Decimal],
    behind: dict[_Key, list[dict[str, Any]]],
) -> tuple[list[Difference], int]:
    """Where the ERP and we disagree (with containers and events), and how many keys agree."""
    units = dict(
        session.execute(select(Item.code, Unit.code).join(Unit, Unit.id == Item.base_unit_id)).all()
    )
    differences: list[Difference] = []
    matched = 0
    for key in sorted(set(erp) | set(book), key=lambda k: (k[0], k[1], k[2] or "")):
        e, b = erp.get(key, Decimal(0)), book.get(key, Decimal(0))
        if e == b:
            matched += 1
            continue
        item, where, lot_key = key
        containers = behind.get(key, [])
        differences.append(
            Difference(
                item=item,
                location=where,
                lot=lot_key,
                unit=units.get(item, ""),
                erp_quantity=e,
                isom_quantity=b,
                difference=b - e,
                containers=[
                    {k: v for k, v in c.items() if k != "container_id"} for c in containers
                ],
                events=_events(session, item, lot_key, [c["container_id"] for c in containers]),
            )
        )
    return differences, matched


def _events(
    session: Session, item: str, lot: str | None, container_ids: list[int]
) -> list[dict[str, Any]]:
    """The latest ledger events that moved this item (and lot) in these containers, or anywhere."""
    return [
        {
            "event_id": ev_id,
            "kind": kind.value,
            "key": key,
            "occurred_at": when.isoformat().replace("+00:00", "Z"),
            "reference": reference,
            "container": container,
            "quantity": plain(qty),
        }
        for ev_id, kind, key, when, reference, container, qty in ledger_queries.latest_item_lines(
            session, item, lot, container_ids, limit=EVENTS_SHOWN
        )
    ]


def _view(record: Reconciliation) -> ReconciliationView:
    return ReconciliationView(
        id=record.id,
        source=record.source,
        created_at=record.created_at.isoformat().replace("+00:00", "Z"),
        created_by=record.created_by,
        feed_head=record.feed_head,
        erp_rows=record.erp_rows,
        matched=record.matched,
        differences=[Difference.model_validate(d) for d in record.differences],
    )


def get(session: Session, run_id: int) -> ReconciliationView:
    record = session.get(Reconciliation, run_id)
    if record is None:
        raise NotFound(
            f"no reconciliation {run_id}", field="id", expected="the id of a reconciliation run"
        )
    return _view(record)


def recent(session: Session, limit: int = 50) -> list[ReconciliationView]:
    rows = session.scalars(
        select(Reconciliation).order_by(Reconciliation.id.desc()).limit(limit)
    ).all()
    return [_view(r) for r in rows]


def load(session: Session, text: str, fmt: str, *, source: str, actor: str) -> ReconciliationView:
    """Parse, check and reconcile one ERP inventory file."""
    return run(session, check(session, parse(text, fmt)), source=source, actor=actor)


def differences_csv(view: ReconciliationView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "item",
            "location",
            "lot",
            "unit",
            "erp_quantity",
            "isom_quantity",
            "difference",
            "containers",
            "events",
        ]
    )
    for d in view.differences:
        writer.writerow(
            [
                d.item,
                d.location,
                d.lot or "",
                d.unit,
                plain(d.erp_quantity),
                plain(d.isom_quantity),
                plain(d.difference),
                "; ".join(
                    f"{c['container']}@{c['location']}={c['quantity']}" for c in d.containers
                ),
                "; ".join(
                    f"{e['event_id']} {e['kind']} {e['container']} {e['quantity']}"
                    for e in d.events
                ),
            ]
        )
    return out.getvalue()
