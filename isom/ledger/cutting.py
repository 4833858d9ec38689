"""Continuous material: cut a piece from a reel or coil, and deal with the remnant it leaves.

A cut is a consume of the piece's length from one reel into a work-order step (an event of
kind `consume`, reason code `cut`). What it leaves on the reel under the item's minimum usable
length is a remnant, which the operator either keeps as an offcut in a new container (a split
of the whole rest, at the reel's unit cost) or scraps with a reason (a scrap with reason code
`remnant`, referencing the step of the cut that left it, so the job that cut it bears its cost:
see docs/design/continuous.md).
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, InvalidInput
from isom.ledger import services as ledger
from isom.ledger.models import (
    Container,
    ContainerStatus,
    Content,
    ContentStatus,
    Event,
    EventKind,
    EventLine,
)
from isom.ledger.operations import frame, movement, production
from isom.ledger.posting import Box, Posting
from isom.ledger.schemas import (
    AdjustReason,
    Code,
    Command,
    ConsumeCommand,
    EventResult,
    LineRef,
    Positive,
    QuantityLine,
    ScrapCommand,
    SplitCommand,
    StepRef,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Measure

CUT = "cut"
OFFCUT_KIND = "offcut"
#: Container kinds that hold continuous material and can be cut from.
REEL_KINDS = frozenset({"reel", "coil", OFFCUT_KIND})


class CutCommand(Command):
    """Cut one piece of `length` from a reel or coil into a work-order step."""

    container: Code = Field(description="The reel, coil or offcut cut from.")
    item: Code
    lot: Code | None = None
    length: Positive = Field(description="The piece's length (or weight), in the item's unit.")
    step: StepRef


class RemnantDisposition(enum.StrEnum):
    keep = "keep"
    scrap = "scrap"


class RemnantCommand(Command):
    """Keep the remnant on a reel as an offcut in a new container, or scrap it with a reason."""

    container: Code = Field(description="The reel holding the remnant.")
    item: Code
    lot: Code | None = None
    disposition: RemnantDisposition
    offcut: Code | None = Field(default=None, description="The offcut's new label (keep).")
    reason: str | None = Field(default=None, max_length=500, description="Why (scrap).")


def _measured(session: Session, code: str) -> Item:
    item = md.get_item(session, code)
    if item.measure is Measure.count:
        raise InvalidInput(
            f"item {item.code} is counted in units, not cut from reels",
            field="item",
            expected="an item measured by length or weight",
        )
    return item


def _reel_line(
    session: Session, posting: Posting, cmd: CutCommand | RemnantCommand
) -> tuple[Item, Box, Content]:
    """The reel a cut or a remnant names, locked, and its available line of the measured item."""
    item = _measured(session, cmd.item)
    reel = frame._lock(session, posting, container=cmd.container)["container"]
    ref = LineRef(item=cmd.item, lot=cmd.lot, status=ContentStatus.available)
    _, _, row = frame._pick_line(session, posting, reel, ref)
    return item, reel, frame._require_line(reel, item, None, row)


def _taken(cmd: CutCommand | RemnantCommand, container: str, quantity: Decimal) -> dict[str, Any]:
    """What the ledger command of a cut or a scrapped remnant names: how much of the reel's
    item and lot leaves which container, and when."""
    return {
        "container": container,
        "item": cmd.item,
        "lot": cmd.lot,
        "quantity": quantity,
        "occurred_at": cmd.occurred_at,
    }


def is_remnant(item: Item, left: Decimal) -> bool:
    """Whether `left` of `item` on a reel is too short to use (and more than nothing)."""
    return item.min_usable is not None and 0 < left < item.min_usable


def cut(session: Session, actor: ledger.Actor, key: str, cmd: CutCommand) -> EventResult:
    """Cut a piece from a reel into a step; the answer says what is left and if it is a remnant."""
    return frame._run(session, actor, key, EventKind.consume, cmd, _cut)


def _cut(session: Session, event: Event, cmd: CutCommand, posting: Posting) -> dict[str, Any]:
    item, reel, row = _reel_line(session, posting, cmd)
    if cmd.length > row.quantity:
        raise Conflict(
            f"{reel.code} holds {row.quantity} of {item.code}: a piece of {cmd.length} "
            "cannot be cut from it",
            field="length",
            expected=f"at most {row.quantity}",
        )
    before = row.quantity
    detail = production._consume(
        session,
        event,
        ConsumeCommand(**_taken(cmd, cmd.container, cmd.length), step=cmd.step),
        posting,
    )
    left = before - cmd.length
    event.reason_code = CUT
    event.reason = f"cut {cmd.length} from {reel.code}"
    return {
        **detail,
        "container": reel.code,
        "length": str(cmd.length),
        "left": str(left),
        "remnant": is_remnant(item, left),
        "min_usable": str(item.min_usable) if item.min_usable is not None else None,
    }


def dispose_remnant(
    session: Session, actor: ledger.Actor, key: str, cmd: RemnantCommand
) -> EventResult:
    """Keep a reel's remnant as an offcut container, or scrap it charged to the job that cut it."""
    if cmd.disposition is RemnantDisposition.scrap:
        if not cmd.reason:
            raise InvalidInput(
                "scrapping a remnant needs a reason", field="reason", expected="why it is scrapped"
            )
        return frame._run(session, actor, key, EventKind.scrap, cmd, _scrap_remnant)
    return frame._run(session, actor, key, EventKind.split, cmd, _keep_offcut)


def _remnant_line(
    session: Session, posting: Posting, cmd: RemnantCommand
) -> tuple[Item, Box, Content]:
    item, reel, row = _reel_line(session, posting, cmd)
    if not is_remnant(item, row.quantity):
        raise Conflict(
            f"{row.quantity} of {item.code} on {reel.code} is usable stock, not a remnant",
            field="container",
            expected=f"a reel holding less than {item.min_usable}"
            if item.min_usable is not None
            else f"an item with a minimum usable length ({item.code} has none)",
        )
    return item, reel, row


def _keep_offcut(
    session: Session, event: Event, cmd: RemnantCommand, posting: Posting
) -> dict[str, Any]:
    _, reel, row = _remnant_line(session, posting, cmd)
    detail = movement._split(
        session,
        event,
        SplitCommand(
            container=reel.code,
            new_container=cmd.offcut,
            container_kind=OFFCUT_KIND,
            lines=[QuantityLine(item=cmd.item, lot=cmd.lot, quantity=row.quantity)],
            occurred_at=cmd.occurred_at,
        ),
        posting,
    )
    event.reason_code = "remnant"
    event.reason = f"remnant of {reel.code} kept as offcut"
    return {**detail, "offcut": detail["into"], "length": str(row.quantity)}


def _scrap_remnant(
    session: Session, event: Event, cmd: RemnantCommand, posting: Posting
) -> dict[str, Any]:
    _, reel, row = _remnant_line(session, posting, cmd)
    detail = production._scrap(
        session,
        event,
        ScrapCommand(
            **_taken(cmd, reel.code, row.quantity),
            reason_code=AdjustReason.remnant,
            reason=cmd.reason,
        ),
        posting,
    )
    step = last_cut_step(session, reel.id, row.item_id)
    event.reference = step
    return {**detail, "length": str(row.quantity), "step": step}


def last_cut_step(session: Session, container_id: int, item_id: int) -> str | None:
    """The work-order step of the last cut from a container: the job a remnant is charged to."""
    return session.scalar(
        select(Event.reference)
        .join(EventLine, EventLine.event_id == Event.id)
        .where(
            Event.kind == EventKind.consume,
            Event.reason_code == CUT,
            EventLine.container_id == container_id,
            EventLine.item_id == item_id,
        )
        .order_by(Event.id.desc())
        .limit(1)
    )


def reels(session: Session, item_id: int, site_id: int | None = None) -> list[tuple[str, Decimal]]:
    """The active reels, coils and offcuts holding available `item_id`, code and length."""
    query = (
        select(Container.code, Content.quantity)
        .join(Content, Content.container_id == Container.id)
        .where(
            Content.item_id == item_id,
            Content.status == ContentStatus.available,
            Content.quantity > 0,
            Container.status == ContainerStatus.active,
            Container.kind.in_(REEL_KINDS),
        )
        .order_by(Container.code)
    )
    if site_id is not None:
        query = query.where(Container.site_id == site_id)
    return [(code, Decimal(q)) for code, q in session.execute(query)]
