"""Import customer and purchase orders from an ERP's CSV or JSON: upsert, all or nothing.

The mechanism is master data's (`isom.masterdata.imports`): the same CSV sniffing, the same
row numbering and the same report, one `{row, field, message, expected}` per problem, raised as
one 422 so nothing changes when any row is wrong. Orders upsert by `number`, or by `source` +
`external_ref` when the ERP keeps its own numbers (see `upsert_customer_order`).

CSV: one line per order line; the order's columns repeat on each of its lines and lines are
grouped by `number` (or `source` + `external_ref`). Customer orders take `number, customer,
source, external_ref, priority, allow_partial, ship_to, note, line_no, item, quantity,
due_date`; purchase orders `number, supplier, source, external_ref, note, approve, line_no,
item, quantity, due_date, unit_price`. JSON: a list of order objects with nested `lines`,
shaped as the API's create commands.

The whole import is one order event (kind `<kind>.import`), so planning sees it and a replay of
the same file under the same key changes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from isom.errors import InvalidInput
from isom.ledger import services as ledger
from isom.masterdata import imports as md_imports
from isom.masterdata.schemas import ImportResult
from isom.orders.customer import upsert_customer_order
from isom.orders.events import run_order_event
from isom.orders.purchasing import upsert_purchase_order
from isom.orders.schemas import CreateCustomerOrder, CreatePurchaseOrder, OrderResult

Actor = ledger.Actor
KINDS = ("customer_orders", "purchase_orders")
_HEADER = {
    "customer_orders": (
        "number",
        "customer",
        "source",
        "external_ref",
        "priority",
        "allow_partial",
        "ship_to",
        "note",
    ),
    "purchase_orders": ("number", "supplier", "source", "external_ref", "note", "approve"),
}
_LINE = {
    "customer_orders": ("line_no", "item", "quantity", "due_date"),
    "purchase_orders": ("line_no", "item", "quantity", "due_date", "unit_price"),
}
_SCHEMA: dict[str, type[BaseModel]] = {
    "customer_orders": CreateCustomerOrder,
    "purchase_orders": CreatePurchaseOrder,
}


def canonical(kind: str) -> str:
    """'customer-orders' and 'customer_orders' are the same kind; anything else is refused."""
    name = md_imports.canonical(kind)
    if name not in KINDS:
        raise InvalidInput(
            f"cannot import {kind!r} here",
            field="kind",
            expected="customer-orders or purchase-orders",
        )
    return name


def _group(kind: str, rows: list[tuple[int, dict[str, str]]]) -> list[md_imports.Record]:
    """One CSV line per order line, grouped into orders with nested lines."""
    orders: dict[str, md_imports.Record] = {}
    for n, cells in rows:
        if "__extra_cells__" in cells:
            orders[f"#row{n}"] = md_imports.Record(row=n, data={"__extra_cells__": True})
            continue
        header = {k: cells[k] for k in _HEADER[kind] if cells.get(k, "") != ""}
        line = {k: cells[k] for k in _LINE[kind] if cells.get(k, "") != ""}
        unknown = set(cells) - set(_HEADER[kind]) - set(_LINE[kind])
        for name in sorted(unknown):
            if cells[name] != "":
                header[name] = cells[name]  # refused by the schema, against this row
        key = header.get("number") or (
            f"{header.get('source', 'manual')}|{header['external_ref']}"
            if "external_ref" in header
            else f"#row{n}"
        )
        rec = orders.get(key)
        if rec is None:
            rec = md_imports.Record(row=n, data={**header, "lines": []})
            orders[key] = rec
        else:
            for name, value in header.items():
                rec.data.setdefault(name, value)
        rec.rows_by_path[f"lines.{len(rec.data['lines'])}"] = n
        rec.data["lines"].append(line)
    return list(orders.values())


def parse(kind: str, content: str | bytes, fmt: str) -> list[md_imports.Record]:
    """Turn a CSV or JSON document into order records; a malformed document is refused whole."""
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    if fmt == "json":
        return md_imports._parse_json(text)
    if fmt == "csv":
        return _group(kind, md_imports._csv_rows(text))
    raise InvalidInput(f"unknown format {fmt!r}", field="format", expected="csv or json")


def _apply(
    session: Session, actor: Actor, kind: str, recs: list[md_imports.Record]
) -> ImportResult:
    failed = md_imports.ImportFailed()
    valid: list[tuple[md_imports.Record, BaseModel]] = []
    for rec in recs:
        if not md_imports.unfit(failed, rec):
            md_imports.validate_into(valid, failed, rec, _SCHEMA[kind])

    def upsert(session: Session, model: BaseModel) -> bool:
        if isinstance(model, CreateCustomerOrder):
            return upsert_customer_order(session, actor, model)[1]
        assert isinstance(model, CreatePurchaseOrder)
        return upsert_purchase_order(session, actor, model)[1]

    created, updated = md_imports.upsert_all(
        session,
        valid,
        failed,
        upsert,
        unique="order numbers and external references unique",
        field_of=lambda f: f.replace("[", ".").replace("]", ""),
    )
    md_imports.refuse_failed(failed, len(recs), kind.replace("_", " "))
    return ImportResult(kind=kind, rows=len(recs), created=created, updated=updated)


class _ImportCommand(BaseModel):
    """What the import's order event records: the kind, the format and the file's digest."""

    kind: str
    format: str
    sha256: str
    records: int


def run(
    session: Session,
    actor: Actor,
    kind: str,
    content: str | bytes,
    fmt: str,
    *,
    key: str | None = None,
) -> tuple[ImportResult, bool]:
    """Import a document of orders all or nothing, as one order event; (result, replayed).

    Without a key, the file's digest is the key: the same file twice applies once.
    """
    kind = canonical(kind)
    raw = content.encode() if isinstance(content, str) else content
    digest = hashlib.sha256(raw).hexdigest()
    recs = parse(kind, content, fmt)
    cmd = _ImportCommand(kind=kind, format=fmt, sha256=digest, records=len(recs))

    def build(session: Session, actor: Actor, key: str, cmd: Any) -> OrderResult:
        result = _apply(session, actor, kind, recs)
        return OrderResult(number=kind, status="imported", detail=result.model_dump())

    answer = run_order_event(
        session, actor, key or f"import:{kind}:{digest}", f"{kind}.import", cmd, build
    )
    return ImportResult.model_validate(answer.detail), answer.replayed
