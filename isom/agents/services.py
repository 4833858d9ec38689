"""Decisions: record what an agent decided, apply it or propose it, approve and reject.

An agent hands over its `Proposal`s; `decide_all` records each once per situation key.
Whether it is applied at once or waits for a planner or buyer is the agent's setting for the
site (apply by default, except where a setting says propose). Applying runs the owning
domain's service with the decision's key as idempotency key, inside a savepoint (one per group
of decisions, see `apply_all`): a refused command marks the decision failed with the domain's
error and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from isom import commands
from isom.agents.models import AgentSetting, Decision, DecisionStatus, Mode
from isom.db import ONE_COMMAND
from isom.errors import Conflict, InvalidInput, IsomError, NotFound
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.transitions import move
from isom.types import utcnow

Actor = ledger.Actor
AGENTS = ("intake", "purchasing", "shipping", "alerts")
#: Kinds that only inform a person: nothing to apply.
NOTES = ("alert", "engineering")

TRANSITIONS: dict[DecisionStatus, frozenset[DecisionStatus]] = {
    DecisionStatus.proposed: frozenset(
        {DecisionStatus.applied, DecisionStatus.rejected, DecisionStatus.failed}
    ),
    DecisionStatus.failed: frozenset({DecisionStatus.applied, DecisionStatus.rejected}),
    DecisionStatus.applied: frozenset(),
    DecisionStatus.rejected: frozenset(),
    DecisionStatus.noted: frozenset(),
}


@dataclass
class Proposal:
    """What a rule decided, before it is recorded: the situation key makes it idempotent."""

    agent: str
    kind: str
    situation: str
    rule: str
    explanation: str
    priority: int = 1
    item_id: int | None = None
    demand: str | None = None
    supply: str | None = None
    date: dt.date | None = None
    site_id: int | None = None
    command: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None

    @property
    def key(self) -> str:
        """A deterministic idempotency key: the agent, the kind and a digest of the situation."""
        digest = hashlib.sha256(self.situation.encode()).hexdigest()[:32]
        return f"agent:{self.agent}:{self.kind}:{digest}"


Applier = Callable[[Session, Actor, str, dict[str, Any]], dict[str, Any]]
APPLIERS: dict[str, Applier] = {}


def applier(kind: str) -> Callable[[Applier], Applier]:
    """Register how decisions of a kind are applied."""

    def register(fn: Applier) -> Applier:
        APPLIERS[kind] = fn
        return fn

    return register


def transition(
    decision: Decision,
    to: DecisionStatus,
    *,
    actor: Actor,
    at: dt.datetime,
    reason: str | None = None,
) -> None:
    """The one place a decision changes state, with who and when."""
    move(
        decision, TRANSITIONS, to, what=f"decision {decision.id}", kind="decision", field="decision"
    )
    decision.decided_at = at
    decision.decided_by = actor.name
    if reason is not None:
        decision.reason = reason


MODES = "isom.agents.modes"


def mode_of(session: Session, agent: str, site_id: int | None) -> Mode:
    """The agent's mode for a site: the site's own setting, else the all-sites one, else apply.

    Read once per unit of work and agent (a run decides hundreds of times with one setting).
    """
    cache: dict[str, dict[int | None, Mode]] = session.info.setdefault(MODES, {})
    if agent not in cache:
        cache[agent] = {
            s.site_id: s.mode
            for s in session.scalars(select(AgentSetting).where(AgentSetting.agent == agent))
        }
    rows = cache[agent]
    mode = rows.get(site_id) if site_id is not None else None
    return mode or rows.get(None) or Mode.apply


def enabled(session: Session, agent: str) -> bool:
    """An agent runs unless its all-sites setting turns it off."""
    setting = session.scalar(
        select(AgentSetting).where(AgentSetting.agent == agent, AgentSetting.site_id.is_(None))
    )
    return setting.enabled if setting else True


def put_setting(
    session: Session, actor: Actor, agent: str, *, site: str | None, mode: Mode, on: bool = True
) -> AgentSetting:
    """Set an agent's mode (and whether it runs) for one site or for all."""
    if agent not in AGENTS:
        raise InvalidInput(
            f"no agent {agent!r}", field="agent", expected="one of: " + ", ".join(AGENTS)
        )
    site_id = md.get_location(session, site, field="site").id if site else None
    setting = session.scalar(
        select(AgentSetting).where(
            AgentSetting.agent == agent, func.coalesce(AgentSetting.site_id, 0) == (site_id or 0)
        )
    )
    now = utcnow()
    if setting is None:
        setting = AgentSetting(agent=agent, site_id=site_id)
        session.add(setting)
    setting.mode, setting.enabled = mode, on
    setting.updated_at, setting.updated_by = now, actor.name
    session.flush()
    session.info.pop(MODES, None)
    return setting


def known_keys(session: Session, agent: str) -> set[str]:
    """Keys of the situations an agent already decided."""
    return set(session.scalars(select(Decision.key).where(Decision.agent == agent)))


def decided(session: Session, keys: set[str]) -> set[str]:
    """Which of these situation keys were decided before (one read for a whole run)."""
    chunk = sorted(keys)
    found: set[str] = set()
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        found.update(session.scalars(select(Decision.key).where(Decision.key.in_(part))))
    return found


def decide_all(session: Session, actor: Actor, proposals: list[Proposal]) -> list[Decision]:
    """Record each proposal's decision once per situation, apply those whose agent applies,
    and store them all in one insert; answer the new decisions, in order.

    The keys decided before are read in one query; a situation decided before (or twice in
    the list) makes nothing. A decision is applied before it is stored, so its row is
    written once, with its outcome."""
    known = decided(session, {p.key for p in proposals})
    now = utcnow()
    made: list[Decision] = []
    for proposal in proposals:
        key = proposal.key
        if key in known:
            continue
        known.add(key)
        made.append(_decision(proposal, key, now))
    apply_all(
        session,
        actor,
        [
            d
            for d in made
            if d.status is DecisionStatus.proposed
            and mode_of(session, d.agent, d.site_id) is Mode.apply
        ],
    )
    store(session, made)
    return made


#: The columns a new decision is stored with.
COLUMNS = (
    "key", "scope", "agent", "kind", "status", "site_id", "priority", "item_id", "demand",
    "supply", "date", "rule", "explanation", "command", "result", "created_at", "decided_at",
    "decided_by", "reason",
)  # fmt: skip


def store(session: Session, decisions: list[Decision]) -> None:
    """Insert new decisions in one statement (executemany, no ids read back: nothing in a
    run needs them, and SQLite would otherwise insert row by row to return them)."""
    if decisions:
        rows = [{c: getattr(d, c) for c in COLUMNS} for d in decisions]
        session.execute(insert(Decision), rows)


def _decision(proposal: Proposal, key: str, now: dt.datetime) -> Decision:
    return Decision(
        key=key,
        scope=proposal.scope,
        agent=proposal.agent,
        kind=proposal.kind,
        status=DecisionStatus.noted if proposal.kind in NOTES else DecisionStatus.proposed,
        site_id=proposal.site_id,
        priority=proposal.priority,
        item_id=proposal.item_id,
        demand=proposal.demand,
        supply=proposal.supply,
        date=proposal.date,
        rule=proposal.rule,
        explanation=proposal.explanation[:2000],
        command=proposal.command,
        result={},
        created_at=now,
    )


#: Decisions applied under one savepoint: a refusal is rare, and then its group is applied
#: again one by one, so each refusal still fails alone and changes nothing.
GROUP = 100


def apply_all(session: Session, actor: Actor, decisions: list[Decision]) -> None:
    """Apply new decisions in order, a group at a time under one savepoint (two round trips
    a group instead of two a decision); a group with a refusal is undone and applied again
    one decision at a time, each in its own savepoint, as `apply` does."""
    for start in range(0, len(decisions), GROUP):
        group = decisions[start : start + GROUP]
        savepoint = session.begin_nested()
        try:
            results = [_run(session, actor, d, new=True) for d in group]
            savepoint.commit()
        except IsomError:
            savepoint.rollback()
            for d in group:
                apply(session, actor, d, flush=False, new=True)
            continue
        now = utcnow()
        for d, result in zip(group, results, strict=True):
            d.result = result
            transition(d, DecisionStatus.applied, actor=actor, at=now)


SUPERSEDED = "superseded: the plan changed before anyone approved this"


def reconcile(
    session: Session,
    actor: Actor,
    agent: str,
    wanted: list[Proposal],
    *,
    prefixes: tuple[str, ...],
) -> list[Decision]:
    """Bring an agent's changes in line with the plan: one decision per scope that must change.

    A scope is what a change is about (a line's job, a job's child, a supplier's window). A
    proposal still waiting with exactly the wanted command, or one refused with it, is left
    as it is; every other waiting proposal of the agent is superseded (the plan moved on). A
    new decision's key counts the scope's earlier decisions, so a scope decided again after
    its job was cancelled gets a new key instead of the old one (the stalled intake of #12).
    Only waiting decisions whose scope starts with one of `prefixes` are this call's to settle.
    """
    by_scope = {p.scope: p for p in wanted if p.scope}
    waiting: dict[str, list[Decision]] = {}
    for d in session.scalars(
        select(Decision).where(
            Decision.agent == agent,
            Decision.scope.is_not(None),
            Decision.status.in_(
                (DecisionStatus.proposed, DecisionStatus.failed, DecisionStatus.rejected)
            ),
        )
    ):
        if str(d.scope).startswith(prefixes) and d.reason != SUPERSEDED:
            waiting.setdefault(str(d.scope), []).append(d)
    now = utcnow()
    for scope, decisions in waiting.items():
        want = by_scope.get(scope)
        for d in decisions:
            same = want is not None and d.kind == want.kind and d.command == want.command
            if not same and d.status is not DecisionStatus.rejected:
                transition(d, DecisionStatus.rejected, actor=actor, at=now, reason=SUPERSEDED)
    counts = _scope_counts(session, agent, set(by_scope))
    fresh = [
        p
        for scope, p in by_scope.items()
        if not any(d.kind == p.kind and d.command == p.command for d in waiting.get(scope, []))
    ]
    for proposal in fresh:
        scope = str(proposal.scope)
        proposal.situation = f"{scope}|#{counts.get(scope, 0)}|{proposal.situation}"
    return decide_all(session, actor, fresh)


def _scope_counts(session: Session, agent: str, scopes: set[str]) -> dict[str, int]:
    """How many decisions each scope has had, for keys that never repeat."""
    out: dict[str, int] = {}
    chunk = sorted(scopes)
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        for scope, n in session.execute(
            select(Decision.scope, func.count())
            .where(Decision.agent == agent, Decision.scope.in_(part))
            .group_by(Decision.scope)
        ):
            out[str(scope)] = int(n)
    return out


def apply(
    session: Session, actor: Actor, decision: Decision, *, flush: bool = True, new: bool = False
) -> Decision:
    """Run the decision's command through its domain's service; a refusal marks it failed.

    `flush=False` leaves writing the decision to the caller; `new` says the decision was not
    stored before (`decided` read its key unused), so no command ran under its key either."""
    _runner(decision)  # a kind that cannot be applied is a 409, not a failed decision
    now = utcnow()
    savepoint = session.begin_nested()
    try:
        result = _run(session, actor, decision, new=new)
        savepoint.commit()
    except IsomError as exc:
        savepoint.rollback()
        decision.result = {"error": exc.detail, "code": exc.code, "field": exc.field}
        if decision.status is not DecisionStatus.failed:
            transition(decision, DecisionStatus.failed, actor=actor, at=now)
    else:
        decision.result = result
        transition(decision, DecisionStatus.applied, actor=actor, at=now)
    if flush:
        session.flush()
    return decision


def _run(session: Session, actor: Actor, decision: Decision, *, new: bool) -> dict[str, Any]:
    """Apply one decision inside the caller's savepoint. The caller's savepoint undoes a
    refusal, so the command frame needs none of its own (`ONE_COMMAND`: two round trips
    fewer a decision); the frame still records the command under the decision's key. A new
    decision's key is unused (a decision and its command commit together), so the frame
    need not look it up (`commands.FRESH`: one round trip fewer)."""
    run = _runner(decision)
    session.info[ONE_COMMAND] = True
    if new:
        session.info[commands.FRESH] = decision.key
    try:
        return run(session, actor, decision.key, decision.command)
    finally:
        session.info.pop(ONE_COMMAND, None)
        session.info.pop(commands.FRESH, None)


def _runner(decision: Decision) -> Applier:
    """How the decision's kind is applied, or 409."""
    run = APPLIERS.get(decision.kind)
    if run is None:
        raise Conflict(
            f"decisions of kind {decision.kind!r} cannot be applied",
            field="decision",
            expected="a decision that makes an order or a reservation",
        )
    return run


def get_decision(session: Session, decision_id: int, *, lock: bool = False) -> Decision:
    """A decision by id, or 404."""
    query = select(Decision).where(Decision.id == decision_id)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(
            f"no decision {decision_id}", field="decision", expected="the id of a decision"
        )
    return found


def approve(session: Session, actor: Actor, decision_id: int) -> Decision:
    """A planner or buyer accepts a proposed (or failed) decision: it is applied now."""
    decision = get_decision(session, decision_id, lock=True)
    if decision.status not in (DecisionStatus.proposed, DecisionStatus.failed):
        raise Conflict(
            f"decision {decision.id} is {decision.status.value}",
            field="decision",
            expected="a proposed or failed decision",
        )
    return apply(session, actor, decision)


def reject(session: Session, actor: Actor, decision_id: int, reason: str) -> Decision:
    """A planner or buyer turns a proposal down, saying why; nothing is made."""
    if not reason.strip():
        raise InvalidInput("say why the proposal is rejected", field="reason", expected="a reason")
    decision = get_decision(session, decision_id, lock=True)
    transition(decision, DecisionStatus.rejected, actor=actor, at=utcnow(), reason=reason.strip())
    session.flush()
    return decision


def pending(session: Session, kind: str) -> list[Decision]:
    """Proposals of a kind still waiting for a person."""
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.kind == kind, Decision.status == DecisionStatus.proposed)
            .order_by(Decision.id)
        )
    )
