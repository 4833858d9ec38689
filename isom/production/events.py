"""The frame of every production event: idempotency key, request hash, stored answer, replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isom.db import RetryableConflict
from isom.errors import IdempotencyKeyReused
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
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was already used for a different request "
                f"(production event {prior.id}, {prior.kind})",
                field="Idempotency-Key",
                expected="a new key for a new change, or the same body to replay",
            )
        return ScanResult.model_validate({**prior.result, "replayed": True})
    now = utcnow()
    occurred = getattr(command, "occurred_at", None) or now
    try:
        with session.begin_nested():
            event_id = session.execute(
                insert(ProductionEvent)
                .values(
                    key=key,
                    kind=kind,
                    actor=actor.name,
                    device=actor.device,
                    occurred_at=occurred,
                    recorded_at=now,
                    request_hash=digest,
                    command=command.model_dump(mode="json"),
                    result={},
                )
                .returning(ProductionEvent.id)
            ).scalar_one()
    except IntegrityError as exc:  # a concurrent request holds the key: run again to replay
        raise RetryableConflict(str(exc)) from exc
    event = session.get(ProductionEvent, event_id)
    assert event is not None
    result = build(session, actor, key, event, command)
    result.event_id = event.id
    result.key = key
    result.kind = kind
    session.flush()
    production_feed.write(session, event, result)
    session.execute(
        update(ProductionEvent)
        .where(ProductionEvent.id == event.id)
        .values(result=result.model_dump(mode="json"))
    )
    return result
