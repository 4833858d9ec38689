"""Commands the shop floor sends (scans, job changes) and what production answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

from isom.ledger.schemas import Code, Command, NonNegative, Positive
from isom.production.enums import MachineState

WorkOrderNumber = Annotated[
    str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
]
Sequence = Annotated[int, Field(gt=0, le=1_000_000)]


class CreateWorkOrder(Command):
    """Plan a job: make `quantity` of `item` by its route for `due_date`."""

    item: Code
    quantity: Positive
    due_date: dt.date
    customer_line: str | None = Field(default=None, max_length=100)
    route: Code | None = Field(default=None, description="Defaults to the item's active route.")
    release: bool = Field(default=False, description="Release at once (snapshots the route).")


class ReleaseWorkOrder(Command):
    """Release a planned job: snapshot its route and create child jobs for made inputs."""

    work_order: WorkOrderNumber
    route: Code | None = None


class ChangeWorkOrder(Command):
    """Close a complete job or cancel one not started; a supervisor may do either to a job
    in progress, its work in process going back to stock."""

    work_order: WorkOrderNumber
    reason: str | None = Field(default=None, max_length=500)


class StepScan(Command):
    """A badge and a job step scanned at a workstation."""

    badge: Code
    work_order: WorkOrderNumber
    step: Sequence
    workstation: Code | None = Field(default=None, description="Needed to start or join.")


class ConsumeScan(Command):
    """A container scanned into a running step: material leaves it into the step."""

    work_order: WorkOrderNumber
    step: Sequence
    container: Code
    item: Code
    lot: Code | None = None
    quantity: Positive
    badge: Code | None = None


class StopScan(StepScan):
    """Stop a step with the good and scrapped quantity; `complete` ends the step."""

    good_quantity: NonNegative
    scrap_quantity: NonNegative = Decimal(0)
    scrap_reason: str | None = Field(default=None, max_length=500)
    rework_quantity: NonNegative = Decimal(0)
    complete: bool = True
    container: Code | None = Field(default=None, description="An existing container to fill.")
    new_container: Code | None = Field(default=None, description="Code for a new container.")
    location: Code | None = Field(default=None, description="Defaults to the workstation's.")
    lot: Code | None = Field(default=None, description="Output lot; defaults to the job number.")
    serials: list[Code] = Field(
        default=[],
        max_length=10_000,
        description="Serial-tracked output: one serial per good unit, each its own line.",
    )
    scrap_serials: list[Code] = Field(
        default=[], max_length=10_000, description="Serial-tracked output: one per scrapped unit."
    )


class ReturnScan(Command):
    """Unused material of a step back to plain stock (or the step's WIP output, from `container`).

    Without `container` the material comes out of what was consumed into the step; with it,
    from that container's line tagged as the step's output. It goes `into` an existing
    container, into a new container at `location` (default: the workstation's location), or,
    for a tagged line, stays where it is as plain stock.
    """

    work_order: WorkOrderNumber
    step: Sequence
    item: Code
    lot: Code | None = None
    quantity: Positive
    container: Code | None = None
    into: Code | None = None
    new_container: Code | None = None
    location: Code | None = None
    badge: Code | None = None
    reason: str | None = Field(default=None, max_length=500)


class MachineStateCommand(Command):
    """A workstation changes state (from a scan or a machine controller)."""

    workstation: Code
    state: MachineState
    reason: str | None = Field(default=None, max_length=200)


class ScanResult(BaseModel):
    """What a production event answers; a replay of its key answers exactly this again."""

    event_id: int
    key: str
    kind: str
    replayed: bool = False
    work_order: str | None = None
    step: int | None = None
    step_status: str | None = None
    work_order_status: str | None = None
    ledger_events: list[int] = []
    detail: dict[str, Any] = {}


class StepView(BaseModel):
    sequence: int
    operation: str
    name: str
    status: str
    workstation_kind: str | None
    skill: str | None
    standard_minutes: Decimal
    quantity_good: Decimal
    quantity_scrap: Decimal
    quantity_rework: Decimal = Decimal(0)
    rework_pending: Decimal = Decimal(0)
    quantity_returned: Decimal = Decimal(0)
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]


class WorkOrderView(BaseModel):
    number: str
    item: str
    quantity: Decimal
    due_date: dt.date
    status: str
    customer_line: str | None
    parent: str | None
    children: list[str]
    route: str | None
    steps: list[StepView]


class ReplanWorkOrder(Command):
    """Resize or re-date a job that has not started (a planner's or an agent's re-plan)."""

    work_order: WorkOrderNumber
    quantity: Positive | None = None
    due_date: dt.date | None = None
    reason: str | None = Field(default=None, max_length=500)


class CreateChildWorkOrder(Command):
    """A released child job making an input of a parent job's step, for that parent's line."""

    parent: WorkOrderNumber
    parent_step: Sequence
    item: Code
    quantity: Positive
    due_date: dt.date
