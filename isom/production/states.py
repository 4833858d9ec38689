"""The work-order and step state machines: transition tables and the one function applying each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from isom.ledger import services as ledger
from isom.production.models import (
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.transitions import move

Actor = ledger.Actor


# ---------------------------------------------------------------------------------------------
# State machines: the only places a status changes.

WORK_ORDER_TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    WorkOrderStatus.planned: frozenset({WorkOrderStatus.released, WorkOrderStatus.cancelled}),
    WorkOrderStatus.released: frozenset({WorkOrderStatus.in_progress, WorkOrderStatus.cancelled}),
    # A job under way is cancelled or closed short by a supervisor only (production/closing.py).
    WorkOrderStatus.in_progress: frozenset(
        {WorkOrderStatus.complete, WorkOrderStatus.cancelled, WorkOrderStatus.closed}
    ),
    WorkOrderStatus.complete: frozenset({WorkOrderStatus.closed}),
    WorkOrderStatus.closed: frozenset(),
    WorkOrderStatus.cancelled: frozenset(),
}

STEP_TRANSITIONS: dict[StepStatus, frozenset[StepStatus]] = {
    StepStatus.waiting: frozenset({StepStatus.ready}),
    StepStatus.ready: frozenset({StepStatus.running}),
    StepStatus.running: frozenset({StepStatus.paused, StepStatus.done}),
    StepStatus.paused: frozenset({StepStatus.running, StepStatus.done}),
    StepStatus.done: frozenset(),
}


def transition_work_order(
    wo: WorkOrder, to: WorkOrderStatus, *, actor: Actor, at: dt.datetime
) -> None:
    """Move a job to `to` if its transition table allows it, recording who and when."""
    _stamped(wo, WORK_ORDER_TRANSITIONS, to, f"work order {wo.number}", "work_order", actor, at)
    if to is WorkOrderStatus.released:
        wo.released_at = at
    elif to is WorkOrderStatus.in_progress:
        wo.started_at = at
    elif to is WorkOrderStatus.complete:
        wo.completed_at = at


def transition_step(
    step: WorkOrderStep, to: StepStatus, *, actor: Actor, at: dt.datetime, number: str = ""
) -> None:
    """Move a step to `to` if its transition table allows it, recording who and when."""
    _stamped(step, STEP_TRANSITIONS, to, f"step {number}/{step.sequence}", "step", actor, at)
    step.last_event_at = at
    if to is StepStatus.running and step.actual_start is None:
        step.actual_start = at
    elif to is StepStatus.done:
        step.actual_end = at


def _stamped(
    row: WorkOrder | WorkOrderStep,
    table: Mapping[Any, frozenset[Any]],
    to: WorkOrderStatus | StepStatus,
    what: str,
    field: str,
    actor: Actor,
    at: dt.datetime,
) -> None:
    """Move `row` by its table (409 naming `what` if it may not) and stamp who and when."""
    move(row, table, to, what=what, kind=field.replace("_", " "), field=field)
    row.updated_at = at
    row.updated_by = actor.name
