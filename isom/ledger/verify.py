"""`isom ledger verify`: rebuild every projection from the immutable events and compare.

Checks that every event balances per item, that container contents equal the sums of their
event lines, that each container sits where its last move put it (nested ones where their
outermost parent is), and that inventory balances equal contents at those locations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.ledger.models import Balance, Container, Content, EventLine, EventMove

ContentKey = tuple[int, int, int | None, str, str | None]
BalanceKey = tuple[int | None, int, int | None, str]


@dataclass
class Difference:
    """One place where a projection disagrees with the events."""

    projection: str
    key: dict[str, Any]
    expected: Any
    actual: Any
    events: list[int] = field(default_factory=list)


@dataclass
class Report:
    """What verify found: counts checked and every difference."""

    events: int = 0
    lines: int = 0
    containers: int = 0
    balances: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(session: Session, *, max_events_per_difference: int = 10) -> Report:
    """Recompute contents, container places and balances from the events; list every difference."""
    report = Report()
    report.events = session.scalar(select(func.count(func.distinct(EventLine.event_id)))) or 0
    report.lines = session.scalar(select(func.count()).select_from(EventLine)) or 0
    _check_event_balances(session, report)
    expected_contents = _check_contents(session, report, max_events_per_difference)
    location_of = _check_containers(session, report, max_events_per_difference)
    _check_balances(session, report, expected_contents, location_of)
    return report


def _check_event_balances(session: Session, report: Report) -> None:
    """1. Every event balances per item."""
    for event_id, item_id, total in session.execute(
        select(EventLine.event_id, EventLine.item_id, func.sum(EventLine.quantity))
        .group_by(EventLine.event_id, EventLine.item_id)
        .having(func.sum(EventLine.quantity) != 0)
    ):
        report.differences.append(
            Difference(
                "event_balance",
                {"event": event_id, "item_id": item_id},
                Decimal(0),
                total,
                [event_id],
            )
        )


def _check_contents(
    session: Session, report: Report, max_events_per_difference: int
) -> dict[ContentKey, Decimal]:
    """2. Contents = sum of container lines; returns the contents the lines add up to."""
    expected_contents: dict[ContentKey, Decimal] = {}
    for cid, item_id, lot_id, status, wip, total in session.execute(
        select(
            EventLine.container_id,
            EventLine.item_id,
            EventLine.lot_id,
            EventLine.status,
            EventLine.wip_step,
            func.sum(EventLine.quantity),
        )
        .where(EventLine.container_id.is_not(None))
        .group_by(
            EventLine.container_id,
            EventLine.item_id,
            EventLine.lot_id,
            EventLine.status,
            EventLine.wip_step,
        )
    ):
        if total != 0 and cid is not None:
            expected_contents[(cid, item_id, lot_id, str(status), wip)] = total
    actual_contents: dict[ContentKey, Decimal] = {
        (c.container_id, c.item_id, c.lot_id, str(c.status), c.wip_step): c.quantity
        for c in session.scalars(select(Content))
    }
    for key in sorted(set(expected_contents) | set(actual_contents), key=_sort_key):
        exp, act = expected_contents.get(key, Decimal(0)), actual_contents.get(key, Decimal(0))
        if exp != act:
            report.differences.append(
                Difference(
                    "content",
                    {
                        "container_id": key[0],
                        "item_id": key[1],
                        "lot_id": key[2],
                        "status": key[3],
                        "wip_step": key[4],
                    },
                    exp,
                    act,
                    _events_for(session, key, max_events_per_difference),
                )
            )
    return expected_contents


def _check_containers(
    session: Session, report: Report, max_events_per_difference: int
) -> Callable[[int], int | None]:
    """3. Container places: the last move of each container, nested ones at their root's place.

    Returns where each container is by its moves (what the balances are checked against)."""
    last = select(func.max(EventMove.id)).group_by(EventMove.container_id).scalar_subquery()
    placed: dict[int, tuple[int | None, int | None, str | None]] = {
        m.container_id: (
            m.to_location_id,
            m.to_parent_id,
            m.to_status.value if m.to_status else None,
        )
        for m in session.scalars(select(EventMove).where(EventMove.id.in_(last)))
    }
    effective: dict[int, int | None] = {}

    def location_of(cid: int, depth: int = 0) -> int | None:
        if cid in effective:
            return effective[cid]
        loc, parent, _status = placed.get(cid, (None, None, None))
        result = location_of(parent, depth + 1) if parent is not None and depth < 100 else loc
        effective[cid] = result
        return result

    containers = session.scalars(select(Container)).all()
    report.containers = len(containers)
    for cont in containers:
        want = placed.get(cont.id)
        if want is None:
            report.differences.append(
                Difference("container", {"container": cont.code}, "a move that placed it", None)
            )
            continue
        place_exp = (location_of(cont.id), want[1], want[2])
        place_act = (cont.location_id, cont.parent_id, cont.status.value)
        if place_exp != place_act:
            events = list(
                session.scalars(
                    select(EventMove.event_id)
                    .where(EventMove.container_id == cont.id)
                    .order_by(EventMove.id.desc())
                    .limit(max_events_per_difference)
                )
            )
            report.differences.append(
                Difference(
                    "container",
                    {"container": cont.code},
                    dict(zip(("location_id", "parent_id", "status"), place_exp, strict=True)),
                    dict(zip(("location_id", "parent_id", "status"), place_act, strict=True)),
                    events,
                )
            )
    return location_of


def _check_balances(
    session: Session,
    report: Report,
    expected_contents: dict[ContentKey, Decimal],
    location_of: Callable[[int], int | None],
) -> None:
    """4. Balances = contents at their containers' (rebuilt) locations."""
    expected_balances: dict[BalanceKey, Decimal] = defaultdict(Decimal)
    for (cid, item_id, lot_id, state, _wip), qty in expected_contents.items():
        expected_balances[(location_of(cid), item_id, lot_id, state)] += qty
    actual_balances: dict[BalanceKey, Decimal] = {
        (b.location_id, b.item_id, b.lot_id, str(b.status)): b.quantity
        for b in session.scalars(select(Balance))
    }
    report.balances = len(actual_balances)
    for bkey in sorted(set(expected_balances) | set(actual_balances), key=_sort_key):
        exp_q = expected_balances.get(bkey, Decimal(0))
        act_q = actual_balances.get(bkey, Decimal(0))
        if exp_q != act_q:
            report.differences.append(
                Difference(
                    "balance",
                    {
                        "location_id": bkey[0],
                        "item_id": bkey[1],
                        "lot_id": bkey[2],
                        "status": bkey[3],
                    },
                    exp_q,
                    act_q,
                )
            )


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(
        "" if part is None else f"{part:>12}" if isinstance(part, int) else str(part)
        for part in key
    )


def _events_for(session: Session, key: ContentKey, limit: int) -> list[int]:
    cid, item_id, lot_id, status, wip = key
    query = select(EventLine.event_id).where(
        EventLine.container_id == cid,
        EventLine.item_id == item_id,
        EventLine.status == status,
        EventLine.lot_id.is_(None) if lot_id is None else EventLine.lot_id == lot_id,
        EventLine.wip_step.is_(None) if wip is None else EventLine.wip_step == wip,
    )
    return list(session.scalars(query.order_by(EventLine.event_id.desc()).limit(limit)))
