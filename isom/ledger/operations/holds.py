"""Holds: a container and everything nested in it held from use, and released."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from isom.errors import Conflict
from isom.ledger.models import (
    ContentStatus,
    Event,
    EventKind,
)
from isom.ledger.operations.frame import (
    _container_location,
    _event_at,
    _lock,
    _lock_subtree,
    operation,
)
from isom.ledger.posting import Box, Posting
from isom.ledger.schemas import (
    HoldCommand,
    ReleaseCommand,
)


def _change_status(session: Session, posting: Posting, root: Box, *, to_hold: bool) -> int:
    changed = 0
    for cont in _lock_subtree(session, posting, root):
        for row in posting.held[cont.id]:
            if (row.status == ContentStatus.hold) == to_hold:
                continue
            target = (
                ContentStatus.hold
                if to_hold
                else ContentStatus.wip
                if row.wip_step
                else ContentStatus.available
            )
            posting.move_line(row, row.quantity, cont, cont, status=target)
            changed += 1
    return changed


def _hold(session: Session, event: Event, cmd: HoldCommand, posting: Posting) -> dict[str, Any]:
    """Quarantine a container and what is nested in it."""
    cont = _lock(session, posting, container=cmd.container)["container"]
    if not _change_status(session, posting, cont, to_hold=True):
        raise Conflict(
            f"container {cont.code} has nothing to hold (empty or already held)", field="container"
        )
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"container": cont.code}


hold = operation(EventKind.hold, _hold)


def _release(
    session: Session, event: Event, cmd: ReleaseCommand, posting: Posting
) -> dict[str, Any]:
    """Lift a hold: material goes back to available (or WIP where it is WIP)."""
    cont = _lock(session, posting, container=cmd.container)["container"]
    if not _change_status(session, posting, cont, to_hold=False):
        raise Conflict(f"container {cont.code} has nothing on hold", field="container")
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"container": cont.code}


release = operation(EventKind.release, _release)
