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
