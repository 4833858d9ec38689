"""The ledger's enums other domains may name (the shared enums of the import contract); the ORM
classes stay in `models.py`."""

from __future__ import annotations

import enum


class EventKind(enum.StrEnum):
    create = "create"
    receive = "receive"
    move = "move"
    nest = "nest"
    unnest = "unnest"
    split = "split"  # type: ignore[assignment]  # shadows str.split, harmlessly
    merge = "merge"
    adjust = "adjust"
    count = "count"  # type: ignore[assignment]  # shadows str.count, harmlessly
    hold = "hold"
    release = "release"
    consume = "consume"
    produce = "produce"
    scrap = "scrap"
    ship = "ship"
    reverse = "reverse"
    return_ = "return"  # unused material or WIP of a step back to plain stock


class ContentStatus(enum.StrEnum):
    available = "available"
    hold = "hold"
    wip = "wip"


class ContainerStatus(enum.StrEnum):
    active = "active"
    shipped = "shipped"
    void = "void"


class CountProposalStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
