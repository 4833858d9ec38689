"""Every production event runs in the command frame; this writes its row and its answer."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from isom import commands, reactions
from isom.ledger import services as ledger
from isom.production import rows
from isom.production.models import (
    ProductionEvent,
)
from isom.production.schemas import (
    ScanResult,
)
from isom.types import utcnow

Actor = ledger.Actor
C = TypeVar("C", bound=BaseModel)


Build = Callable[[Session, Actor, str, ProductionEvent, Any], ScanResult]


def run_event(
    session: Session, actor: Actor, key: str, kind: str, command: C, build: Build
) -> ScanResult:
    """Run one production command in the command frame (one idempotency record per request)."""
    return commands.run(
        session,
        key=key,
        kind=kind,
        command=command,
        effect=partial(_apply, session, actor, key, kind, command, build),
        answer=ScanResult,
        actor=actor.name,
        device=actor.device,
    )


def _apply(
    session: Session, actor: Actor, key: str, kind: str, command: C, build: Build
) -> ScanResult:
    """The production event of one command: its row, its effect, its feed message."""
    now = utcnow()
    event = ProductionEvent(
        key=key,
        kind=kind,
        actor=actor.name,
        device=actor.device,
        occurred_at=getattr(command, "occurred_at", None) or now,
        recorded_at=now,
        command=command.model_dump(mode="json"),
        result={},
    )
    session.add(event)
    session.flush()
    result = build(session, actor, key, event, command)
    result.event_id = event.id
    result.key = key
    result.kind = kind
    event.result = result.model_dump(mode="json")
    session.flush()  # the event's row once more: what the build set on it, and the answer
    reactions.publish(session, f"production.{kind}", event=rows.event_row(event), result=result)
    return result
