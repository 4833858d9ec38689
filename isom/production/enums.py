"""Production's enums other domains may name (the shared enums of the import contract); the ORM
classes stay in `models.py`."""

from __future__ import annotations

import enum


class MachineState(enum.StrEnum):
    setup = "setup"
    run = "run"
    idle = "idle"
    down = "down"
    cleanup = "cleanup"


class WorkOrderStatus(enum.StrEnum):
    planned = "planned"
    released = "released"
    in_progress = "in_progress"
    complete = "complete"
    closed = "closed"
    cancelled = "cancelled"


class StepStatus(enum.StrEnum):
    waiting = "waiting"
    ready = "ready"
    running = "running"
    paused = "paused"
    done = "done"


class MaterialRole(enum.StrEnum):
    input = "input"
    main = "main"
    intermediate = "intermediate"
    byproduct = "byproduct"
    scrap = "scrap"
