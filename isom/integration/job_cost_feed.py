"""The job-cost projector: `job.cost` feed messages computed after the scan, not inside it.

A production event that changes a job's cost queues the job in its own transaction
(`due`: one small row per job). After the commit, the reaction registry wakes the projector,
which computes the job's cost as of the event from what is committed and enqueues the
`job.cost` message and deletes the queued row. The costing runs in a read (it holds no write
lock, so scans go on beside it); a short write then takes the rows off the queue and enqueues
their messages. Queued rows are taken in id order, and the scan locked the job before queuing
it, so a job's cost messages keep the order of its events (with one projector process; two
would still write each message once). A crash between the commit and the projection loses
nothing: the next pass finds the row. Jobs queued by another process are found by the slow
timer.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from isom import outbox, reactions
from isom.costing import services as costing
from isom.db import Database
from isom.integration.models import JobCostDue

log = logging.getLogger(__name__)
_PG_LOCK = 7_240_002


def due(
    session: Session, numbers: list[str], at: dt.datetime, header: dict[str, Any], part: int
) -> None:
    """Queue the jobs whose cost the event changed; their messages follow its `part` ones."""
    if numbers:
        session.execute(
            insert(JobCostDue),
            [
                {"work_order": n, "at": at, "header": header, "part": part + i}
                for i, n in enumerate(numbers)
            ],
        )


def compute(session: Session, *, batch: int = 50) -> list[tuple[int, outbox.Message]]:
    """The `job.cost` messages of up to `batch` queued jobs, oldest first, with their queue
    ids: a read, so the costing (the dear part) holds no write lock."""
    rows = session.scalars(select(JobCostDue).order_by(JobCostDue.id).limit(batch)).all()
    out: list[tuple[int, outbox.Message]] = []
    for row in rows:
        cost = costing.job_cost(session, row.work_order, at=row.at)
        message: outbox.Message = {
            "topic": "job.cost",
            "message_key": f"job:{row.work_order}",
            "payload": {**row.header, "part": row.part, **cost.model_dump(mode="json")},
        }
        out.append((row.id, message))
    return out


def publish(session: Session, computed: list[tuple[int, outbox.Message]]) -> int:
    """Take the computed jobs off the queue and enqueue their messages, in one short write;
    a job another projector took meanwhile is skipped, so no message is written twice."""
    if not computed:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    taken = set(
        session.scalars(
            delete(JobCostDue)
            .where(JobCostDue.id.in_([i for i, _ in computed]))
            .returning(JobCostDue.id)
        )
    )
    outbox.enqueue(session, [m for i, m in computed if i in taken])
    return len(taken)


def project(db: Database, *, batch: int = 50) -> int:
    """Project up to `batch` queued jobs: compute in a read, publish in a write."""
    computed = db.read(lambda s: compute(s, batch=batch))
    return db.write(lambda s: publish(s, computed)) if computed else 0


def project_all(db: Database) -> int:
    """Project every queued job, a batch at a time; returns how many."""
    total = 0
    while done := project(db):
        total += done
    return total


def pending(session: Session) -> bool:
    """Whether some job's cost message is still to write."""
    return session.scalar(select(JobCostDue.id).limit(1)) is not None


class Projector:
    """The projector's thread: woken after each commit that queued a job, and every
    `fallback` seconds for jobs queued by other processes (one indexed read)."""

    def __init__(self, db: Database, *, fallback: float = 5.0) -> None:
        self.db, self.fallback = db, fallback
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notice(self, facts: list[reactions.Fact]) -> None:
        """After-commit subscriber: a production event committed; project soon."""
        self._wake.set()

    def start(self) -> None:
        """Subscribe and start the thread (idempotent)."""
        reactions.registry.after_commit("production.*", self.notice)
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="isom-job-cost", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        reactions.registry.unsubscribe(self.notice)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                if first or self._wake.is_set() or self.db.read(pending):
                    self._wake.clear()
                    project_all(self.db)
                first = False
            except Exception:  # noqa: BLE001 - keep projecting; the rows wait for the next pass
                log.exception("job cost projection failed")
            self._wake.wait(self.fallback)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the projector inside the app when `ISOM_PROJECTORS` is on (`isom serve` turns it
    on; tests run it themselves)."""
    import os

    projector = None
    if os.environ.get("ISOM_PROJECTORS", "off").lower() in ("1", "on", "true", "yes"):
        projector = Projector(app.state.db)
        projector.start()
    app.state.job_cost_projector = projector
    try:
        yield
    finally:
        if projector is not None:
            projector.stop()
