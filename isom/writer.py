"""Group commit: one writer per process applies concurrent commands in one transaction.

A commit costs a disk flush (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit`), and
one flush per command caps a store at its single-row commit rate whatever the CPU. Doors that
take commands from many callers at once (the ledger's HTTP routes and batch door, MQTT scans)
hand each one to the process's writer instead of committing it themselves. The writer thread
takes every command waiting (up to `GROUP_LIMIT`; alone, it lingers a fraction of a millisecond
for company), applies each in its own SAVEPOINT so a refused one fails alone and changes
nothing (its refusal is still stored under its key by the command frame), commits once and
only then answers every caller: nobody is told "applied" before the flush that holds it.

On PostgreSQL a writer has several lanes (`ISOM_WRITER_LANES`, threads with a connection each,
taking groups from the one queue): every statement is a round trip to the server, and one lane
would apply its group's commands one round trip after another while the server idles. Lanes,
like several API processes each with its own writer, are ordered by row locks like any two
transactions. A command caught in a deadlock or a key race with another lane or process is
rolled back to its savepoint and applied again in its lane's next group. SQLite takes one
writer at a time: one lane.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from isom import reactions
from isom.db import ONE_COMMAND, Database, conflict_from, is_retryable
from isom.errors import IsomError, ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Most commands (or batches) one transaction holds: enough to amortise the flush, few enough
#: that the first caller of a full group is not kept long.
GROUP_LIMIT = 256
#: How long a writer with one command waits for another before committing it alone (seconds).
LINGER = 0.0003
#: An idle writer thread ends after this long; the next command starts another.
IDLE_EXIT = 10.0
#: How often one command is tried again after a deadlock or a key race before giving up.
ATTEMPTS = 12


@dataclass
class _Pending:
    """One command handed to the writer: its unit of work and the caller's future."""

    work: Callable[[Session], Any]
    one_command: bool
    future: Future[Any] = field(default_factory=Future)
    #: The caller's context (who acts, in which sites), so the writer applies the command as
    #: the request that sent it would have.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    attempts: int = 0


@dataclass
class _Outcome:
    """What one command of a group came to; the future is resolved only after the commit."""

    pending: _Pending
    result: Any = None
    error: BaseException | None = None
    again: bool = False  # rolled back for a transient reason: apply in the next group


class GroupWriter:
    """The writer thread of one database in this process, fed by a queue of pending commands."""

    def __init__(
        self, db: Database, *, limit: int = GROUP_LIMIT, linger: float = LINGER, lanes: int = 1
    ) -> None:
        self._db = weakref.ref(db)  # a writer does not keep a closed store alive
        self.limit, self.linger, self.lanes = limit, linger, max(1, lanes)
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = 0  # lanes (threads) under way
        #: Transactions committed, commands they held, and the most one held (for the bench).
        self.groups = self.commands = self.largest = 0

    def submit(self, work: Callable[[Session], T], *, one_command: bool = True) -> Future[T]:
        """Queue `work` (a command through the command frame); its future resolves once the
        transaction holding it is durable, with its answer or its refusal.

        `one_command`: `work` is one command, so its frame may leave the savepoint to the
        writer; a batch (many frames, each with its own savepoint) passes False."""
        pending = _Pending(work, one_command)
        with self._lock:
            self._queue.put(pending)
            if self._running < self.lanes:
                self._running += 1
                threading.Thread(target=self._loop, name="isom-writer", daemon=True).start()
        return pending.future

    def run(self, work: Callable[[Session], T], *, one_command: bool = True) -> T:
        """Submit `work` and wait for its durable answer (from a thread, not the event loop)."""
        return self.submit(work, one_command=one_command).result()

    def _loop(self) -> None:
        """One lane: groups one after another, each retrying what its previous one could not."""
        again: list[_Pending] = []
        while True:
            group = self._take(again)
            if group is None:
                return
            again = self._apply(group) if group else []

    def _take(self, again: list[_Pending]) -> list[_Pending] | None:
        """The next group: commands to try again first, then all that wait; None to end."""
        fresh: list[_Pending] = []
        if not again:
            try:
                fresh.append(self._queue.get(timeout=IDLE_EXIT))
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._running -= 1
                        return None
                return []
        self._drain(fresh, self.limit - len(again))
        if len(again) + len(fresh) == 1 and self.linger > 0:
            try:
                fresh.append(self._queue.get(timeout=self.linger))
            except queue.Empty:
                pass
            self._drain(fresh, self.limit - len(again))
        # A caller that gave up (its request was cancelled) before its turn is not applied;
        # once running, its future can no longer be cancelled, so its answer always lands.
        return again + [p for p in fresh if p.future.set_running_or_notify_cancel()]

    def _drain(self, group: list[_Pending], room: int) -> None:
        while len(group) < room:
            try:
                group.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def _apply(self, group: list[_Pending]) -> list[_Pending]:
        """One transaction for the group (retried whole if the store is busy), then answers;
        the commands to apply again in the next group."""
        again: list[_Pending] = []
        try:
            db = self._db()
            if db is None:
                raise ServiceUnavailable("the store is closed; nothing was applied")
            outcomes = db.write(lambda session: [_one(session, p) for p in group])
        except BaseException as exc:  # noqa: BLE001 - the store failed: every caller hears of it
            for pending in group:
                pending.future.set_exception(exc)
            return again
        with self._lock:
            self.groups += 1
            self.commands += len(group)
            self.largest = max(self.largest, len(group))
        for outcome in outcomes:
            pending = outcome.pending
            if outcome.again and pending.attempts < ATTEMPTS:
                pending.attempts += 1
                again.append(pending)
            elif outcome.again:
                pending.future.set_exception(
                    ServiceUnavailable("the database stayed busy; nothing was applied, retry")
                )
            elif outcome.error is not None:
                pending.future.set_exception(outcome.error)
            else:
                pending.future.set_result(outcome.result)
        return again


def _one(session: Session, pending: _Pending) -> _Outcome:
    """Apply one command in its own savepoint; a refusal or failure undoes only it."""
    session.expire_all()  # rows another process changed since an earlier command read them
    facts = reactions.pending_count(session)
    savepoint = session.begin_nested()
    if pending.one_command:
        session.info[ONE_COMMAND] = True  # the frame leaves its savepoint to this one
    try:
        result = pending.context.run(pending.work, session)
        savepoint.commit()
        return _Outcome(pending, result=result)
    except IsomError as refusal:
        savepoint.rollback()
        reactions.forget_since(session, facts)
        return _kept(session, pending, refusal)
    except Exception as exc:
        savepoint.rollback()
        reactions.forget_since(session, facts)
        if is_retryable(exc):
            return _Outcome(pending, again=True)
        log.exception("a command failed in the writer")
        return _Outcome(pending, error=conflict_from(exc))
    finally:
        session.info.pop(ONE_COMMAND, None)


def _kept(session: Session, pending: _Pending, refusal: IsomError) -> _Outcome:
    """Store the refusal as its key's answer (`IsomError.keep`), in a savepoint of its own:
    another process that stored the same key first makes it a replay next time."""
    if refusal.keep is None:
        return _Outcome(pending, error=refusal)
    savepoint = session.begin_nested()
    try:
        refusal.keep(session)
        savepoint.commit()
    except Exception as exc:
        savepoint.rollback()
        if is_retryable(exc):
            return _Outcome(pending, again=True)
        raise
    refusal.keep = None
    return _Outcome(pending, error=refusal)


_WRITERS: weakref.WeakKeyDictionary[Database, GroupWriter] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def writer_for(db: Database) -> GroupWriter:
    """The one writer of `db` in this process."""
    with _WRITERS_LOCK:
        found = _WRITERS.get(db)
        if found is None:
            lanes = 1 if db.is_sqlite else db.settings.writer_lanes
            found = _WRITERS[db] = GroupWriter(db, lanes=lanes)
        return found


def group_commit(db: Database) -> bool:
    """Whether this process applies doors' commands through the writer (ISOM_GROUP_COMMIT)."""
    return db.settings.group_commit
