"""CSV exports for ERPs that only read files: inventory, and the feed's messages.

Production messages fill the job columns: work order, step, person, workstation, minutes
(labour span, or machine minutes so far), the step's good and scrap totals, the job's cost.

RFC 4180 CSV, UTF-8, a header row, decimals as plain text with a dot, times in UTC ISO 8601.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from isom.integration import feed
from isom.ledger import queries
from isom.ledger.posting import plain

INVENTORY_COLUMNS = [
    "item",
    "item_name",
    "unit",
    "location",
    "lot",
    "expiry_date",
    "status",
    "quantity",
]
FEED_COLUMNS = [
    "seq",
    "message_id",
    "time",
    "topic",
    "key",
    "event_id",
    "event_key",
    "kind",
    "item",
    "location",
    "lot",
    "status",
    "delta",
    "quantity",
    "work_order",
    "step",
    "person",
    "workstation",
    "minutes",
    "good",
    "scrap",
    "cost_total",
]


def inventory_csv(session: Session, page_size: int = 5000) -> str:
    """Every non-zero balance: item, location, lot, status, quantity."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(INVENTORY_COLUMNS)
    offset = 0
    while True:
        inv = queries.inventory(session, limit=page_size, offset=offset)
        for r in inv.rows:
            writer.writerow(
                [
                    r.item,
                    r.item_name,
                    r.unit,
                    r.location,
                    r.lot or "",
                    r.expiry_date.isoformat() if r.expiry_date else "",
                    r.status.value,
                    plain(r.quantity),
                ]
            )
        if len(inv.rows) < page_size:
            break
        offset += page_size
    return out.getvalue()


def feed_csv(session: Session, after: int = 0, limit: int = 10_000) -> str:
    """The feed after a cursor, one row per message; inventory changes fill the balance columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FEED_COLUMNS)
    messages, _, _ = feed.read_after(session, after, limit)
    for m in messages:
        p = m.payload
        writer.writerow(
            [
                m.seq,
                m.id,
                m.time.isoformat().replace("+00:00", "Z"),
                m.topic,
                m.key,
                m.event_id if m.event_id is not None else "",
                p.get("event_key", ""),
                p.get("kind", ""),
                p.get("item", ""),
                p.get("location", ""),
                p.get("lot") or "",
                p.get("status", ""),
                p.get("delta", ""),
                p.get("quantity", ""),
                *_production_columns(m.topic, p),
            ]
        )
    return out.getvalue()


def _production_columns(topic: str, p: dict[str, Any]) -> list[Any]:
    """work_order, step, person, workstation, minutes, good, scrap, cost_total of a message."""
    totals = p.get("totals") or {}
    minutes = p.get("minutes") if topic == "labour.time" else p.get("minutes_so_far", "")
    return [
        p.get("work_order", ""),
        p.get("step", ""),
        p.get("person", ""),
        p.get("workstation", ""),
        minutes or "",
        totals.get("good", ""),
        totals.get("scrap", ""),
        (p.get("actual") or {}).get("total", "") if topic == "job.cost" else "",
    ]
