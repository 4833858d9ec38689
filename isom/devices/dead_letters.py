"""Dead letters of the MQTT ingest: what could not be applied, kept byte for byte.

A dead letter must be recordable whatever the payload holds: NUL bytes (PostgreSQL text refuses
them), invalid UTF-8, lone surrogates, JSON nested too deep to parse again, a megabyte of noise.
So nothing here parses the payload: it is kept as bytes (bytea / blob), the device token
blanked by a byte pattern, and every text that goes into a text or JSON column, or into the
answer on the reply topic, is cleaned first.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.devices.models import DeadLetter
from isom.devices.schemas import DeadLetterView
from isom.types import utcnow

#: Bytes of a payload kept; `size` says how many there were.
MAX_KEPT = 1 << 20
PREVIEW = 10_000
_TOKEN = re.compile(rb'("token"\s*:\s*")(?:[^"\\]|\\.)*"')


def blank_token(raw: bytes, token: str | None = None) -> bytes:
    """The payload with the value of any `"token": "..."` member replaced by `***`."""
    out = _TOKEN.sub(rb'\1***"', raw)
    if token:
        out = out.replace(token.encode("utf-8", "replace"), b"***")
    return out


def clean_text(text: str, limit: int | None = None) -> str:
    """Text any store and any JSON encoder takes: no NUL, no lone surrogate."""
    out = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return out if limit is None else out[:limit]


def clean_json(value: Any) -> Any:
    """A JSON value with every string (keys too) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def record(
    session: Session,
    *,
    topic: str,
    device: str | None,
    event_id: str | None,
    raw: bytes,
    error: dict[str, Any],
    token: str | None = None,
) -> DeadLetter:
    """Keep a message that could not be applied, with the problem it was answered with."""
    kept = blank_token(raw, token)[:MAX_KEPT]
    letter = DeadLetter(
        topic=clean_text(topic, 200),
        device=clean_text(device, 64) if device else None,
        event_id=clean_text(event_id, 100) if event_id is not None else None,
        payload=clean_text(kept[:PREVIEW].decode("utf-8", "replace"), PREVIEW),
        raw=kept,
        size=len(raw),
        error=clean_json(error),
        received_at=utcnow(),
    )
    session.add(letter)
    session.flush()
    return letter


def list_letters(
    session: Session, *, device: str | None = None, after: int = 0, limit: int = 100
) -> list[DeadLetterView]:
    """Dead letters after an id, oldest first, with the kept bytes in base64."""
    query = select(DeadLetter).where(DeadLetter.id > after).order_by(DeadLetter.id).limit(limit)
    if device is not None:
        query = query.where(DeadLetter.device == device)
    return [
        DeadLetterView(
            id=d.id,
            topic=d.topic,
            device=d.device,
            eventID=d.event_id,
            received_at=d.received_at,
            error=d.error,
            size=d.size,
            truncated=d.raw is not None and len(d.raw) == MAX_KEPT and (d.size or 0) > MAX_KEPT,
            payload=d.payload,
            raw_base64=base64.b64encode(d.raw).decode() if d.raw is not None else None,
        )
        for d in session.scalars(query)
    ]
