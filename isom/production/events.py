"""Every production event runs in the command frame; this writes its row and its answer."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, TypeVar, cast

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
#: One command's build, typed by its command; and the command as callers see it, without the event.
BuildOf = Callable[[Session, Actor, str, ProductionEvent, C], ScanResult]
Action = Callable[[Session, Actor, str, C], ScanResult]
T = TypeVar("T")

#: session.info key of the running event's memo: what its scan has read (see `remembered`).
MEMO = "isom.production.memo"


def remembered(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """`load()` once per production event: the scan, its checks and its feed share one read of
    a job's route, a step's BOM, a badge or a workstation. The memo also holds the rows it
    keeps, so the session's identity map (which forgets rows nothing refers to) still has
    them when the feed reads them by id. Outside an event, `load()` every time."""
    memo = session.info.get(MEMO)
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return cast(T, memo[key])


def forget(session: Session, kind: str) -> None:
    """Drop what the running event remembered under keys `(kind, ...)`: a write made it stale."""
    memo: dict[Hashable, Any] = session.info.get(MEMO) or {}
    for key in [k for k in memo if isinstance(k, tuple) and k[0] == kind]:
        del memo[key]


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


def event_command(kind: str) -> Callable[[BuildOf[C]], Action[C]]:
    """Make a build the command of `kind`: callers pass no event, the frame makes it and runs
    the build with it (`run_event`), so each command is written once, as its build."""

    def wrap(build: BuildOf[C]) -> Action[C]:
        def action(session: Session, actor: Actor, key: str, cmd: C) -> ScanResult:
            return run_event(session, actor, key, kind, cmd, build)

        action.__name__, action.__qualname__ = build.__name__, build.__qualname__
        action.__doc__, action.__module__ = build.__doc__, build.__module__
        return action

    return wrap


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
    session.info[MEMO] = {}
    try:
        result = build(session, actor, key, event, command)
        result.event_id = event.id
        result.key = key
        result.kind = kind
        event.result = result.model_dump(mode="json")
        session.flush()  # the event's row once more: what the build set on it, and the answer
        reactions.publish(session, f"production.{kind}", event=rows.event_row(event), result=result)
    finally:
        # A nested event's reads may be stale for its caller: the caller reads afresh.
        session.info.pop(MEMO, None)
    return result
