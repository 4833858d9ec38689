"""Running the agents: one unit of work per agent in priority order, and the in-app scheduler.

Intake runs first (it reserves and makes jobs), then purchasing (it buys for those jobs), then
shipping (it releases what is reserved), then alerts. Each agent reads the situation fresh, so
one sees what the one before it decided; only master data is read once per run and shared by
the steps (`master.py`). After them, the projections of the items the run touched are
refreshed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from isom import reactions
from isom.agents import alerts, intake, master, purchasing, releasing, shipping
from isom.agents import appliers as _appliers  # noqa: F401 - registers how decisions apply
from isom.agents import services as agents
from isom.db import Database
from isom.ledger import queries as ledger_queries
from isom.orders import queries as orders_queries
from isom.planning import projection
from isom.production import rows as production_rows
from isom.types import utcnow

log = logging.getLogger(__name__)

Rule = Callable[[Session, agents.Actor, dt.date], list[Any]]
#: The steps of a run, in order, each an agent's unit of work, and whether it runs only when
#: the step before it decided something. Intake releases after purchasing has bought for its
#: new jobs, so a job whose inputs come in time is released in the run that made it; a job
#: whose inputs come late is moved instead, and purchasing then brings its orders in line
#: with the moved dates, in the same run.
STEPS: list[tuple[str, Rule, bool]] = [
    ("intake", intake.run, False),
    ("purchasing", purchasing.run, False),
    ("intake", releasing.release_ready, False),
    ("purchasing", purchasing.run, True),
    ("shipping", shipping.run, False),
    ("alerts", alerts.run, False),
]
#: Agents in the order they run (by their first step).
AGENTS: list[str] = list(dict.fromkeys(name for name, _, _ in STEPS))
ROBOT = agents.Actor(name="agents", device="agents")


@dataclass
class AgentRun:
    """What one agent did in one run."""

    agent: str
    decisions: int
    applied: int
    proposed: int
    failed: int
    noted: int

    def __add__(self, other: AgentRun) -> AgentRun:
        """Two steps of one agent's run, counted as one."""
        return AgentRun(
            self.agent,
            self.decisions + other.decisions,
            self.applied + other.applied,
            self.proposed + other.proposed,
            self.failed + other.failed,
            self.noted + other.noted,
        )


def hold_loaded(session: Session) -> None:
    """Keep every row the session loads or writes until it closes (SQLAlchemy's identity map
    holds them weakly): an agent's run reads the same items, routes and jobs for hundreds of
    decisions, and each dropped row would be read again."""
    held: list[object] = session.info.setdefault("isom.held", [])

    def hold(_session: Session, instance: object) -> None:
        held.append(instance)

    for name in ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent"):
        event.listen(session, name, hold)


def run_agent(
    db: Database,
    name: str,
    rule: Rule,
    today: dt.date,
    actor: agents.Actor,
    *,
    cache: dict[str, Any] | None = None,
) -> AgentRun:
    """Run one agent in its own unit of work (the agent wrapper is one of the three that commit);
    `cache` is the master data of the run it is a step of (`master.py`)."""

    def work(session: Session) -> AgentRun:
        hold_loaded(session)
        if cache is not None:
            master.share(session, cache)
        if not agents.enabled(session, name):
            return AgentRun(name, 0, 0, 0, 0, 0)
        made = rule(session, actor, today)
        count = {
            s: sum(1 for d in made if d.status.value == s)
            for s in ("applied", "proposed", "failed", "noted")
        }
        return AgentRun(
            name, len(made), count["applied"], count["proposed"], count["failed"], count["noted"]
        )

    return db.write(work)


def run_all(
    db: Database,
    *,
    today: dt.date | None = None,
    actor: agents.Actor = ROBOT,
    progress: Callable[[AgentRun], None] | None = None,
) -> list[AgentRun]:
    """Run the steps of every agent in order (`STEPS`), then refresh the touched projections;
    answer what each agent did over its steps."""
    day = today or utcnow().date()
    runs: dict[str, AgentRun] = {}
    last = {name: n for n, (name, _, _) in enumerate(STEPS)}
    result: AgentRun | None = None
    cache: dict[str, Any] = {}
    for n, (name, rule, after_changes) in enumerate(STEPS):
        if not after_changes or result is not None and result.decisions:
            result = run_agent(db, name, rule, day, actor, cache=cache)
            runs[name] = result if name not in runs else runs[name] + result
        else:
            result = AgentRun(name, 0, 0, 0, 0, 0)
        if progress and last[name] == n:
            progress(runs[name])
    db.write(lambda s: projection.refresh_dirty(s, day))
    return list(runs.values())


def log_positions(session: Session) -> tuple[int, int, int]:
    """The ends of the ledger, production and order logs: a change means an event landed
    (read only every few seconds, for events committed by other processes)."""
    return (
        ledger_queries.last_event_id(session) or 0,
        production_rows.last_event_id(session) or 0,
        orders_queries.last_event_id(session) or 0,
    )


class Debounce:
    """When to run after events: once the logs have been quiet for `quiet` seconds, or at the
    latest `most` seconds after the first unseen event, so a burst of orders is planned once
    at its end instead of once per order (the plan is only as good as what it has seen)."""

    def __init__(self, quiet: float, most: float) -> None:
        self.quiet, self.most = quiet, most
        self.seen: Hashable = None
        self.last: Hashable = None
        self.first_at: float | None = None
        self.moved_at = 0.0

    def due(self, positions: Hashable, now: float) -> bool:
        """Whether to run now, given where the logs stand at `now`."""
        if positions == self.seen:
            self.first_at = None
            return False
        if self.first_at is None:
            self.first_at = now
        if positions != self.last:
            self.last, self.moved_at = positions, now
        return now - self.moved_at >= self.quiet or now - self.first_at >= self.most

    def ran(self, positions: Hashable) -> None:
        """What the run read: events landing during it cause another run."""
        self.seen, self.first_at = positions, None


#: The events the agents react to (`isom.reactions`): whatever lands in the three logs.
TOPICS = ("ledger.*", "production.*", "orders.*")


class Scheduler(reactions.Follower):
    """Runs the agents in a background thread every `interval` seconds, and after events land:
    it sleeps until an event commits in this process (a subscription, no polling) and waits
    for a burst to quiet down (`quiet` seconds without an event, at most `most` seconds);
    events of other processes it sees by reading the ends of the logs every `poll` seconds.
    It rebuilds every projection when it starts and once a day, as dates move on."""

    name = "isom-agents"

    def __init__(
        self,
        db: Database,
        *,
        interval: float = 60.0,
        poll: float = 5.0,
        quiet: float = 1.0,
        most: float = 10.0,
    ) -> None:
        bell = reactions.Bell(*TOPICS, outside=lambda: db.read(log_positions), every=poll)
        super().__init__(bell)
        self.db, self.interval = db, interval
        self.debounce = Debounce(quiet, most)
        self._now = threading.Event()
        self.runs = 0
        self.last_error: str | None = None

    def wake(self) -> None:
        """Run soon, e.g. right after a burst of orders."""
        self._now.set()
        self.bell.ring([])

    def _loop(self) -> None:
        last = -self.interval
        rebuilt: dt.date | None = None
        while not self._stop.is_set():
            if rebuilt != utcnow().date():  # dates move: rebuild every projection once a day
                try:
                    self.db.write(projection.refresh_all)
                    rebuilt = utcnow().date()
                except Exception:  # noqa: BLE001 - retried on the next tick
                    log.exception("projection rebuild failed")
            seen = self.bell.mark()
            now = time.monotonic()
            due = now - last >= self.interval or self.debounce.due(seen, now)
            if due or self._now.is_set():
                self._now.clear()
                self._run()
                # The agents' own writes cause one more run, which finds nothing new.
                self.debounce.ran(seen)
                last = time.monotonic()
            self.bell.wait(self._sleep(last))

    def _run(self) -> None:
        try:
            run_all(self.db)
            self.runs += 1
            self.last_error = None
        except Exception as exc:  # noqa: BLE001 - keep the scheduler alive, log why
            self.last_error = str(exc)
            log.exception("agent run failed")

    def _sleep(self, last: float) -> float:
        """Until the next periodic run or look at the other processes' events, or, while a
        burst is under way, until it may have quieted down."""
        until = min(self.bell.every, self.interval - (time.monotonic() - last))
        if self.debounce.first_at is not None:
            until = min(until, self.debounce.quiet / 4)
        return max(0.01, until)
