"""Reactions: a domain subscribes to another domain's events instead of being called by it.

A domain that records an event calls `publish(session, topic, **data)` inside its
transaction. Subscribers registered for the topic with `in_transaction` run right there, in
the same transaction: only what must commit or roll back with the event (its outbox rows).
Subscribers registered with `after_commit` run once the transaction is durable, in the
committing thread, with every fact the transaction published; they must be quick (wake a
projector's thread, set a flag) because the caller is still waiting for its answer. Facts of
a transaction that rolls back are dropped.

Domains subscribe at start-up in the composition root (`isom.composition`), so no domain
imports the one that reacts to it, and the platform imports none of them.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "isom.reactions.pending"


@dataclass(frozen=True)
class Fact:
    """Something a domain recorded: a dotted topic (`production.consume`) and its data."""

    topic: str
    data: Mapping[str, Any] = field(default_factory=dict)


InTransaction = Callable[[Session, Fact], None]
AfterCommit = Callable[[list[Fact]], None]


class Registry:
    """Who reacts to which topics (glob patterns such as `production.*`)."""

    def __init__(self) -> None:
        self.now: dict[str, list[InTransaction]] = defaultdict(list)
        self.later: dict[str, list[AfterCommit]] = defaultdict(list)

    def in_transaction(self, pattern: str, handler: InTransaction) -> None:
        """Run `handler(session, fact)` inside the publishing transaction (once per handler)."""
        if handler not in self.now[pattern]:
            self.now[pattern].append(handler)

    def after_commit(self, pattern: str, handler: AfterCommit) -> None:
        """Run `handler(facts)` after the publishing transaction commits (once per handler)."""
        if handler not in self.later[pattern]:
            self.later[pattern].append(handler)

    def unsubscribe(self, handler: InTransaction | AfterCommit) -> None:
        """Stop calling `handler` (a projector or scheduler that stops)."""
        for table in (self.now, self.later):
            for handlers in table.values():
                while handler in handlers:
                    handlers.remove(handler)  # type: ignore[arg-type]

    def clear(self) -> None:
        self.now.clear()
        self.later.clear()

    def handlers_now(self, topic: str) -> list[InTransaction]:
        return [h for p, hs in self.now.items() if fnmatch.fnmatchcase(topic, p) for h in hs]

    def wants_later(self, topic: str) -> bool:
        return any(fnmatch.fnmatchcase(topic, p) for p in self.later)

    def deliver(self, facts: list[Fact]) -> None:
        """Hand committed facts to their after-commit handlers; one failing does not stop
        the others (the event is committed whatever a projection does)."""
        for pattern, handlers in list(self.later.items()):
            mine = [f for f in facts if fnmatch.fnmatchcase(f.topic, pattern)]
            for handler in handlers if mine else []:
                try:
                    handler(mine)
                except Exception:  # noqa: BLE001 - the event stands; log the reaction's failure
                    log.exception("after-commit reaction %r failed", handler)


registry = Registry()


def publish(session: Session, topic: str, **data: Any) -> None:
    """Record that `topic` happened in this transaction: run the in-transaction subscribers
    now, and keep the fact for the after-commit subscribers."""
    fact = Fact(topic, data)
    for handler in registry.handlers_now(topic):
        handler(session, fact)
    if registry.wants_later(topic):
        session.info.setdefault(_PENDING, []).append(fact)


def pending_count(session: Session) -> int:
    """How many facts wait for this transaction's commit: a mark for `forget_since`."""
    return len(session.info.get(_PENDING, ()))


def forget_since(session: Session, mark: int) -> None:
    """Drop the facts published since `mark`: their savepoint was rolled back."""
    pending = session.info.get(_PENDING)
    if pending is not None:
        del pending[mark:]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    facts = session.info.pop(_PENDING, None)
    if facts:
        registry.deliver(facts)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


class Bell:
    """Rings when facts of the given topics commit in this process, so a background loop
    (the agents, the re-planner, a projector) sleeps until something happens instead of
    polling other domains' tables. `outside`, read at most every `every` seconds, is what
    tells of events committed by other processes (the ends of the logs)."""

    def __init__(
        self,
        *patterns: str,
        outside: Callable[[], Hashable] | None = None,
        every: float = 5.0,
    ) -> None:
        self.patterns, self.outside, self.every = patterns, outside, every
        self.count = 0
        self._event = threading.Event()
        self._outside: Hashable = None
        self._read_at = -float("inf")

    def ring(self, facts: list[Fact]) -> None:
        """After-commit subscriber; also called with no facts to wake the loop (stop, run now)."""
        self.count += len(facts)
        self._event.set()

    def open(self) -> None:
        for pattern in self.patterns:
            registry.after_commit(pattern, self.ring)

    def close(self) -> None:
        registry.unsubscribe(self.ring)
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until a ring or `timeout`; whether it rang."""
        rang = self._event.wait(timeout)
        self._event.clear()
        return rang

    def mark(self, *, fresh: bool = False) -> tuple[int, Hashable]:
        """Where things stand: changes when an event committed here or (read every `every`
        seconds, or now with `fresh`) elsewhere."""
        now = time.monotonic()
        if self.outside is not None and (fresh or now - self._read_at >= self.every):
            self._outside, self._read_at = self.outside(), now
        return self.count, self._outside


class Follower:
    """A background loop woken by its bell (the agents' scheduler, the re-planner): `start`
    subscribes and starts its thread once, `stop` ends it after the pass under way."""

    name = "isom-follower"

    def __init__(self, bell: Bell) -> None:
        self.bell = bell
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Subscribe and start the background thread (idempotent)."""
        if not self.running:
            self._stop.clear()
            self.bell.open()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the pass under way."""
        self._stop.set()
        self.bell.close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        raise NotImplementedError  # each follower's own loop
