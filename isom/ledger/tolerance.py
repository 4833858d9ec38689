"""How far a count may move the book on its own: a per-site tolerance, and who may exceed it.

A count that differs from the book by more than the site's tolerance is not applied: its count
event is recorded with no lines and the difference waits as a `CountProposal` for a supervisor
(ledger/counts.py). People holding one of the site's `exceed_roles` (an admin always) post any
count directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from isom.ledger.models import CountProposal, CountProposalStatus, CountRule

#: Without a rule for the site: 5 % of the book, no absolute allowance, supervisors may exceed.
DEFAULT_QUANTITY = Decimal(0)
DEFAULT_PERCENT = Decimal(5)
DEFAULT_EXCEED_ROLES = ("supervisor",)


@dataclass(frozen=True)
class Tolerance:
    quantity: Decimal
    percent: Decimal
    exceed_roles: tuple[str, ...]

    def allows(self, book: Decimal, delta: Decimal) -> bool:
        """Whether a count moving `book` by `delta` stays within tolerance."""
        return abs(delta) <= max(self.quantity, abs(book) * self.percent / 100)


def for_site(session: Session, site_id: int | None) -> Tolerance:
    """The site's tolerance, or the default one."""
    rule = session.get(CountRule, site_id) if site_id is not None else None
    if rule is None:
        return Tolerance(DEFAULT_QUANTITY, DEFAULT_PERCENT, DEFAULT_EXCEED_ROLES)
    return Tolerance(rule.tolerance_quantity, rule.tolerance_percent, tuple(rule.exceed_roles))


def propose(
    session: Session,
    *,
    event_id: int,
    site_id: int | None,
    container_id: int,
    item_id: int,
    lot_id: int | None,
    book: Decimal,
    counted: Decimal,
    actor: str,
    at: dt.datetime,
) -> CountProposal:
    """Record a count beyond tolerance as a pending adjustment; nothing in the container moves."""
    proposal = CountProposal(
        count_event_id=event_id,
        site_id=site_id,
        container_id=container_id,
        item_id=item_id,
        lot_id=lot_id,
        book=book,
        counted=counted,
        delta=counted - book,
        status=CountProposalStatus.pending,
        requested_by=actor,
        requested_at=at,
    )
    session.add(proposal)
    session.flush()
    return proposal
