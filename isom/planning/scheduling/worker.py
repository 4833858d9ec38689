"""Following the floor in the background: a debounced re-plan after events, then CP-SAT.

The loop wakes when a production or order event commits (a subscription) and reads those logs
after the positions the plan in force has seen (stored with it, so a restart picks up where it
stopped). When something landed it waits for
a quiet moment (`debounce` seconds without a new event, at most `patience`), publishes the
instant repair (one unit of work), then lets CP-SAT improve that plan outside any transaction
and publishes the result only if it is better and still based on the plan in force (an event
in between makes it stale: the next repair comes first). Requests never wait for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session

from isom import reactions
from isom.db import Database
from isom.planning import sources
from isom.planning.scheduling import services
from isom.planning.scheduling.model import score

log = logging.getLogger(__name__)
ROBOT = "scheduler"


def _seen(db: Database) -> tuple[int, int, int | None]:
    """The log positions the plan in force has seen, and its id."""

    def read(session: Session) -> tuple[int, int, int | None]:
        run = services.current(session)
        if run is None:
            return 0, 0, None
        return int(run.seen.get("production", 0)), int(run.seen.get("orders", 0)), run.id

    return db.read(read)


def replan_once(db: Database, *, improve_seconds: float = 0, workers: int = 2) -> int | None:
    """If events landed since the plan in force (or there is none), publish the repair, then
    CP-SAT's improvement within `improve_seconds`. The id of the last plan published, or None."""
    prod, orders, run_id = _seen(db)
    prod_end, orders_end, said = db.read(lambda s: sources.floor_events_after(s, prod, orders))
    if run_id is not None and not said:
        return None
    reason = "first plan" if run_id is None else "events: " + _summary(said)
    seen: dict[str, object] = {"production": prod_end, "orders": orders_end}

    def repair(session: Session) -> tuple[int, services.Made]:
        made = services.repaired(session)
        return services.publish(session, made, reason=reason, actor=ROBOT, seen=seen).id, made

    published, made = db.write(repair)
    if improve_seconds <= 0:
        return published
    return _improve(db, published, made, improve_seconds, workers, seen) or published


def _improve(
    db: Database,
    published: int,
    made: services.Made,
    seconds: float,
    workers: int,
    seen: dict[str, object],
) -> int | None:
    """Publish CP-SAT's plan if it is better and the plan it improves is still in force."""
    better = services.improved(made, seconds=seconds, workers=workers).plan
    problem = made.floor.problem
    worse = score(problem, better).weighted_tardiness > score(problem, made.plan).weighted_tardiness
    if worse or better == made.plan:
        return None

    def write(session: Session) -> int | None:
        now = services.current(session)
        if now is None or now.id != published:
            return None  # an event came in between: the next repair goes first
        base = services.get_run(session, published)
        result = services.Made(made.floor, better, base, made.plan, "cp-sat")
        return services.publish(
            session, result, reason=f"CP-SAT improved plan {published}", actor=ROBOT, seen=seen
        ).id

    return db.write(write)


def _summary(said: list[str]) -> str:
    shown = ", ".join(said[:8])
    return shown + (f" and {len(said) - 8} more" if len(said) > 8 else "")


class Replanner(reactions.Follower):
    """The background thread: re-plans after events, debounced; CP-SAT after each repair.

    It sleeps until a production or order event commits in this process (a subscription,
    `isom.reactions`); events of other processes it sees by reading the ends of the logs
    every `poll` seconds."""

    name = "isom-replan"

    def __init__(
        self,
        db: Database,
        *,
        debounce: float = 2.0,
        patience: float = 10.0,
        improve_seconds: float = 5.0,
        poll: float = 5.0,
    ) -> None:
        super().__init__(
            reactions.Bell(
                "production.*", "orders.*", outside=lambda: db.read(sources.log_ends), every=poll
            )
        )
        self.db, self.debounce, self.patience = db, debounce, patience
        self.improve_seconds = improve_seconds
        self.plans = 0

    def _quiet(self) -> None:
        """Wait until no event landed for `debounce` seconds (at most `patience`)."""
        began, last = time.monotonic(), self.bell.mark(fresh=True)
        while time.monotonic() - began < self.patience and not self._stop.is_set():
            self._stop.wait(self.debounce)
            now = self.bell.mark(fresh=True)
            if now == last:
                return
            last = now

    def _loop(self) -> None:
        checked: object = None
        while not self._stop.is_set():
            try:
                if self.bell.mark() != checked:
                    self._quiet()
                    checked = self.bell.mark(fresh=True)
                    if replan_once(self.db, improve_seconds=self.improve_seconds):
                        self.plans += 1
            except Exception:  # noqa: BLE001 - keep following the floor; log why
                log.exception("re-plan failed")
            self.bell.wait(self.bell.every)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Follow the floor inside the app when `ISOM_SCHEDULER` is on (by default it follows
    `ISOM_AGENTS`: on with `isom serve`, off in tests)."""
    import os

    replanner = None
    on = os.environ.get("ISOM_SCHEDULER", os.environ.get("ISOM_AGENTS", "off"))
    if on.lower() in ("1", "on", "true", "yes"):
        replanner = Replanner(app.state.db)
        replanner.start()
    app.state.replanner = replanner
    try:
        yield
    finally:
        if replanner is not None:
            replanner.stop()
