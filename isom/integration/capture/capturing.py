"""Capturing a document: each event validated, mapped and applied once, or declared an error."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput, IsomError, NotFound
from isom.integration import epcis
from isom.integration.capture.mapping import _cbv, _plan, _time
from isom.integration.capture.validation import validate
from isom.integration.models import CapturedEvent
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import (
    MAX_ID,
    ReverseCommand,
)


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
        found = ledger_queries.event_row(session, ev["isom:ledgerEventId"])
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
