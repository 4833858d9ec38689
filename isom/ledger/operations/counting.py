"""Counting: adjustments and counts, material to or from the count-adjustment place."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from isom.errors import InvalidInput
from isom.ledger import tolerance
from isom.ledger.models import (
    ContentStatus,
    Event,
    EventKind,
    Lot,
)
from isom.ledger.operations.frame import (
    Actor,
    _container_location,
    _event_at,
    _lock,
    _pick_line,
    _require_line,
    _run,
    event_id,
    operation,
)
from isom.ledger.posting import Box, Posting, plain
from isom.ledger.schemas import (
    AdjustCommand,
    CountCommand,
    EventResult,
    LineRef,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Tracking, Unit


def _item_code(session: Session, item_id: int) -> str:
    item = session.get(Item, item_id)
    return item.code if item else str(item_id)


def _line_for_change(
    session: Session, posting: Posting, cont: Box, ref: LineRef, *, allow_new: bool
) -> tuple[Item, Lot | None, ContentStatus, str | None, Decimal, Decimal]:
    """Resolve the line an adjust or count acts on; a line not yet there may be created."""
    item, lot, row = _pick_line(session, posting, cont, ref)
    if row is not None:
        return item, lot, row.status, row.wip_step, row.quantity, row.unit_cost
    if not allow_new:
        _require_line(cont, item, lot, row)
    if item.tracking != Tracking.none and lot is None:
        raise InvalidInput(
            f"item {item.code} is {item.tracking.value}-tracked",
            field="lot",
            expected="the lot to put the quantity on",
        )
    if item.tracking == Tracking.none and lot is not None:
        raise InvalidInput(f"item {item.code} is not lot-tracked", field="lot", expected="no lot")
    status = ref.status or (ContentStatus.wip if ref.wip_step else ContentStatus.available)
    return item, lot, status, ref.wip_step, Decimal(0), item.standard_cost


def _adjust(session: Session, event: Event, cmd: AdjustCommand, posting: Posting) -> dict[str, Any]:
    """Correct a container's quantity up or down against the adjustment place, with a reason."""
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, status, wip, current, cost = _line_for_change(
        session, posting, cont, cmd, allow_new=cmd.quantity_delta > 0
    )
    check_quantity(session, item, abs(cmd.quantity_delta), field="quantity_delta")
    _transfer_adjustment(posting, cont, item, lot, status, wip, cmd.quantity_delta, cost)
    event.reason_code = cmd.reason_code.value
    event.reason = cmd.reason
    _event_at(event, _container_location(session, posting, cont))
    return {"previous": plain(current), "quantity": plain(current + cmd.quantity_delta)}


adjust = operation(EventKind.adjust, _adjust)


def _unit_code(session: Session, item: Item) -> str:
    unit = session.get(Unit, item.base_unit_id)
    return unit.code if unit else "?"


def check_quantity(
    session: Session, item: Item, quantity: Decimal, *, field: str = "quantity"
) -> None:
    """A quantity of `item` within the precision of its unit."""
    md.check_precision(
        quantity, md.unit_decimals(session, item), field=field, unit_code=_unit_code(session, item)
    )


def _transfer_adjustment(
    posting: Posting,
    cont: Box,
    item: Item,
    lot: Lot | None,
    status: ContentStatus,
    wip: str | None,
    delta: Decimal,
    cost: Decimal,
) -> None:
    source: Box | str = "adjustment" if delta > 0 else cont
    target: Box | str = cont if delta > 0 else "adjustment"
    posting.transfer(
        item_id=item.id,
        lot_id=lot.id if lot else None,
        quantity=abs(delta),
        unit_cost=cost,
        source=source,
        target=target,
        source_status=status,
        target_status=status,
        source_wip=wip,
        target_wip=wip,
    )


def count(session: Session, actor: Actor, key: str, cmd: CountCommand) -> EventResult:
    """Record a physical count; a difference within the site's tolerance (or counted by someone
    allowed to exceed it) is posted against the adjustment place, a larger one awaits approval."""
    return _run(session, actor, key, EventKind.count, cmd, partial(_count, actor=actor))


def _count(
    session: Session, event: Event, cmd: CountCommand, posting: Posting, *, actor: Actor
) -> dict[str, Any]:
    cont = _lock(session, posting, container=cmd.container)["container"]
    item, lot, status, wip, current, cost = _line_for_change(
        session, posting, cont, cmd, allow_new=True
    )
    check_quantity(session, item, cmd.counted_quantity, field="counted_quantity")
    delta = cmd.counted_quantity - current
    event.reason_code = "count"
    location = _container_location(session, posting, cont)
    _event_at(event, location)
    detail: dict[str, Any] = {
        "item": item.code,
        "lot": lot.code if lot else None,
        "book": plain(current),
        "counted": plain(cmd.counted_quantity),
        "delta": plain(delta),
    }
    rule = tolerance.for_site(session, location.site_id if location else None)
    if delta != 0 and not rule.allows(current, delta) and not actor.has_any(*rule.exceed_roles):
        proposal = tolerance.propose(
            session,
            event_id=event_id(session, event),
            site_id=location.site_id if location else None,
            container_id=cont.id,
            item_id=item.id,
            lot_id=lot.id if lot else None,
            book=current,
            counted=cmd.counted_quantity,
            actor=actor.name,
            at=event.occurred_at,
        )
        return {**detail, "pending": True, "proposal": proposal.id, "status": "awaiting approval"}
    if delta != 0:
        _transfer_adjustment(posting, cont, item, lot, status, wip, delta, cost)
    return detail
