"""What an event answers and tells: its lines and balances by code, and its outbox messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from isom import outbox
from isom.ledger.models import Container, Event, Lot
from isom.ledger.posting.model import BalanceKey, Line, Posting, plain
from isom.masterdata.models import Item, Location

_CODES = {
    kind: select(model.id, model.code).where(model.id.in_(bindparam("ids", expanding=True)))
    for kind, model in (
        ("item", Item),
        ("lot", Lot),
        ("location", Location),
        ("container", Container),
    )
}


def fill_labels(
    session: Session, posting: Posting, balance_deltas: dict[BalanceKey, Decimal]
) -> None:
    """Look up the codes of every item, lot, location and container the answer names that the
    operation did not already note."""
    wanted: dict[str, set[int]] = {
        "item": {ln.item_id for ln in posting.lines} | {k[1] for k in balance_deltas},
        "lot": {ln.lot_id for ln in posting.lines if ln.lot_id}
        | {k[2] for k in balance_deltas if k[2]},
        "location": {k[0] for k in balance_deltas},
        "container": {ln.container_id for ln in posting.lines if ln.container_id},
    }
    for kind, ids in wanted.items():
        known = posting.labels[kind]
        missing = [i for i in ids if not known.get(i)]
        if missing:
            for row_id, code in session.connection().execute(_CODES[kind], {"ids": missing}):
                known[row_id] = code


def line_label(posting: Posting, ln: Line) -> dict[str, Any]:
    """One line of the answer, by code."""
    labels = posting.labels
    return {
        "container": labels["container"].get(ln.container_id) if ln.container_id else None,
        "place": ln.place,
        "item": labels["item"].get(ln.item_id, str(ln.item_id)),
        "lot": labels["lot"].get(ln.lot_id) if ln.lot_id else None,
        "status": ln.status.value,
        "wip_step": ln.wip_step,
        "quantity": plain(ln.quantity),
        "unit_cost": plain(ln.unit_cost),
    }


def label_balances(posting: Posting, balances: list[dict[str, Any]]) -> None:
    """Replace the ids of changed balances by codes, in place."""
    labels = posting.labels
    for bal in balances:
        bal["item"] = labels["item"][bal["item"]]
        bal["lot"] = labels["lot"][bal["lot"]] if bal["lot"] else None
        bal["location"] = labels["location"][bal["location"]]


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def write_outbox(
    session: Session, event: Event, lines: list[dict[str, Any]], balances: list[dict[str, Any]]
) -> None:
    """One message for the event, and one inventory change per balance it moved, for the ERP."""
    header = {
        "event_id": event.id,
        "event_key": event.key,
        "kind": event.kind.value,
        "occurred_at": _iso(event.occurred_at),
        "recorded_at": _iso(event.recorded_at),
        "actor": event.actor,
        "device": event.device,
        "reason": event.reason,
        "reference": event.reference,
    }
    rows: list[outbox.Message] = [
        {
            "event_id": event.id,
            "topic": f"ledger.{event.kind.value}",
            "message_key": f"event:{event.id}",
            "payload": {**header, "lines": lines},
        }
    ]
    for bal in balances:
        rows.append(
            {
                "event_id": event.id,
                "topic": "inventory.changed",
                "message_key": f"{bal['item']}@{bal['location']}",
                "payload": {**header, **bal},
            }
        )
    outbox.enqueue(session, rows)
