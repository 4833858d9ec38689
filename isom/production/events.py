"""The frame of every production event: idempotency key, request hash, stored answer, replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isom.db import RetryableConflict
from isom.errors import Conflict
from isom.integration import production_feed
from isom.ledger import services as ledger
from isom.production.models import (
    ProductionEvent,
)
from isom.production.schemas import (
    ScanResult,
)
from isom.types import utcnow

Actor = ledger.Actor
C = TypeVar("C", bound=BaseModel)


# ---------------------------------------------------------------------------------------------
# The frame of every production event: idempotency, the event row, the stored answer.

Build = Callable[[Session, Actor, str, ProductionEvent, Any], ScanResult]


def run_event(
    session: Session, actor: Actor, key: str, kind: str, command: C, build: Build
) -> ScanResult:
    digest = ledger.request_hash(kind, command)
    prior = session.execute(
        select(
            ProductionEvent.id,
            ProductionEvent.kind,
            ProductionEvent.request_hash,
            ProductionEvent.result,
        ).where(ProductionEvent.key == key)
    ).first()
    if prior is not None:
        if prior.request_hash != digest:
            raise Conflict(
                f"idempotency key {key!r} was already used for a different request "
                f"(production event {prior.id}, {prior.kind})",
                field="Idempotency-Key",
                expected="a new key for a new change, or the same body to replay",
            )
        return ScanResult.model_validate({**prior.result, "replayed": True})
    now = utcnow()
    event = ProductionEvent(
        key=key,
        kind=kind,
        actor=actor.name,
        device=actor.device,
        occurred_at=getattr(command, "occurred_at", None) or now,
        recorded_at=now,
        request_hash=digest,
        command=command.model_dump(mode="json"),
        result={},
    )
    session.add(event)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request holds the key: run again to replay
        raise RetryableConflict(str(exc)) from exc
    result = build(session, actor, key, event, command)
    result.event_id = event.id
    result.key = key
    result.kind = kind
    event.result = result.model_dump(mode="json")
    session.flush()  # the event's row once more: what the build set on it, and the answer
    production_feed.write(session, event, result)
    return result
