"""Counts beyond tolerance: a supervisor lists, approves or rejects them; sites set the rule.

Approving applies the count's difference (counted - book at the time of the count) to the line
as it is now, as a `count` event keyed `count-approval:<id>`: approving twice answers the first
approval again. Rejecting changes no material. A proposal moves pending -> approved or
rejected, once (`TRANSITIONS`).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.errors import Conflict, InvalidInput, NotFound
from isom.ledger import tolerance
from isom.ledger.models import (
    Container,
    CountProposal,
    CountProposalStatus,
    CountRule,
    Event,
    EventKind,
    Lot,
)
from isom.ledger.operations.counting import _line_for_change, _transfer_adjustment
from isom.ledger.operations.frame import Actor, _container_location, _event_at, _lock, _run
from isom.ledger.posting import Posting, plain
from isom.ledger.schemas import (
    ApproveCountCommand,
    CountCommand,
    CountProposalView,
    CountRuleIn,
    CountRuleView,
    EventResult,
)
from isom.masterdata.models import Item, Location, LocationKind
from isom.toolkit.views import view_of
from isom.transitions import move
from isom.types import utcnow

S = CountProposalStatus
TRANSITIONS: dict[CountProposalStatus, frozenset[CountProposalStatus]] = {
    S.pending: frozenset({S.approved, S.rejected}),
    S.approved: frozenset(),
    S.rejected: frozenset(),
}


def _transition(
    p: CountProposal, to: CountProposalStatus, *, actor: Actor, reason: str | None = None
) -> None:
    """The one place a proposal's status changes, recording who decided and when."""
    what = f"count proposal {p.id}"
    move(p, TRANSITIONS, to, what=what, kind="count proposal", field="proposal")
    p.decided_by, p.decided_at, p.decision_reason = actor.name, utcnow(), reason


def _proposal(session: Session, proposal_id: int) -> CountProposal:
    found = session.scalar(
        select(CountProposal).where(CountProposal.id == proposal_id).with_for_update()
    )
    if found is None or not sites.allows(found.site_id):
        raise NotFound(
            f"no count proposal {proposal_id}", field="proposal", expected="a count proposal id"
        )
    return found


def approve(session: Session, actor: Actor, proposal_id: int) -> EventResult:
    """Apply a pending count's difference through the ledger; a second approval replays."""
    p = _proposal(session, proposal_id)
    if p.status is S.rejected:
        _transition(p, S.approved, actor=actor)  # raises: it was rejected
    return _run(
        session,
        actor,
        f"count-approval:{p.id}",
        EventKind.count,
        ApproveCountCommand(proposal=p.id),
        partial(_apply, proposal=p, actor=actor),
    )


def _apply(
    session: Session,
    event: Event,
    cmd: ApproveCountCommand,
    posting: Posting,
    *,
    proposal: CountProposal,
    actor: Actor,
) -> dict[str, Any]:
    counted = session.get(Event, proposal.count_event_id)
    assert counted is not None
    line = CountCommand.model_validate(counted.command)
    cont = _lock(session, posting, container=line.container)["container"]
    item, lot, status, wip, current, cost = _line_for_change(
        session, posting, cont, line, allow_new=True
    )
    if current + proposal.delta < 0:
        raise Conflict(
            f"{cont.code} holds {plain(current)} {item.code} now; the count's difference of "
            f"{plain(proposal.delta)} would take it below zero",
            field="proposal",
            expected="a recount of the container",
        )
    _transfer_adjustment(posting, cont, item, lot, status, wip, proposal.delta, cost)
    event.reason_code = "count"
    event.reason = f"count {proposal.count_event_id} approved"
    event.reference = f"count-proposal:{proposal.id}"
    _event_at(event, _container_location(session, posting, cont))
    _transition(proposal, S.approved, actor=actor)
    proposal.applied_event_id = event.id
    return {
        "item": item.code,
        "lot": lot.code if lot else None,
        "proposal": proposal.id,
        "book": plain(current),
        "delta": plain(proposal.delta),
        "quantity": plain(current + proposal.delta),
    }


def reject(session: Session, actor: Actor, proposal_id: int, reason: str) -> CountProposalView:
    """Turn a pending count down (a recount is due); nothing in the container changes."""
    p = _proposal(session, proposal_id)
    if p.status is not S.rejected:
        _transition(p, S.rejected, actor=actor, reason=reason)
    session.flush()
    return proposals(session, ids=[p.id])[0]


def proposals(
    session: Session, *, status: CountProposalStatus | None = None, ids: list[int] | None = None
) -> list[CountProposalView]:
    """Count proposals, oldest first (the pending ones by default in the API)."""
    query = (
        select(CountProposal, Container.code, Item.code, Lot.code, Location.code)
        .join(Container, Container.id == CountProposal.container_id)
        .join(Item, Item.id == CountProposal.item_id)
        .outerjoin(Lot, Lot.id == CountProposal.lot_id)
        .outerjoin(Location, Location.id == Container.location_id)
        .where(sites.within(CountProposal.site_id))
        .order_by(CountProposal.id)
        .limit(500)
    )
    if status is not None:
        query = query.where(CountProposal.status == status)
    if ids is not None:
        query = query.where(CountProposal.id.in_(ids))
    return [
        view_of(
            CountProposalView,
            p,
            status=p.status.value,
            container=container,
            location=location,
            item=item,
            lot=lot,
        )
        for p, container, item, lot, location in session.execute(query)
    ]


def _site(session: Session, code: str) -> Location:
    site = session.scalar(select(Location).where(Location.code == code))
    if site is None or not sites.allows(site.site_id):
        raise NotFound(f"no location {code!r}", field="site", expected="a site's code")
    if site.kind is not LocationKind.site:
        raise InvalidInput(
            f"{code} is a {site.kind.value}, not a site", field="site", expected="a site's code"
        )
    return site


def rule(session: Session, site_code: str) -> CountRuleView:
    """The count tolerance in force at a site (the default when none is set)."""
    site = _site(session, site_code)
    found = session.get(CountRule, site.id)
    t = tolerance.for_site(session, site.id)
    return CountRuleView(
        site=site.code,
        tolerance_quantity=t.quantity,
        tolerance_percent=t.percent,
        exceed_roles=list(t.exceed_roles),
        default=found is None,
    )


def set_rule(session: Session, actor: Actor, site_code: str, data: CountRuleIn) -> CountRuleView:
    """Set a site's count tolerance and the roles that may count beyond it."""
    site = _site(session, site_code)
    found = session.get(CountRule, site.id)
    if found is None:
        found = CountRule(site_id=site.id)
        session.add(found)
    found.tolerance_quantity = data.tolerance_quantity
    found.tolerance_percent = data.tolerance_percent
    found.exceed_roles = sorted(set(data.exceed_roles))
    found.updated_at, found.updated_by = utcnow(), actor.name
    session.flush()
    return rule(session, site_code)
