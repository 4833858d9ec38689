"""Prometheus metrics: what a plant's operator graphs and alerts on.

Two kinds. Counted by this process, as things happen: ledger events by kind, counted once their
transaction commits (`rate(isom_ledger_events_total[1m])` is events per second), and the HTTP
latency histogram of `isom.web.context`. Read from the store at scrape time, so the same in
every process: the feed's lag per consumer and the dead letters of device ingest and webhook
delivery.

Several worker processes: set `PROMETHEUS_MULTIPROC_DIR` to an empty directory writable by all
of them before they start; each process then writes its counters there and any one of them
answers a scrape with the sum (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Insert, event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from isom.db import Database
from isom.devices.models import DeadLetter as IngestDeadLetter
from isom.integration.models import DeadLetter as FeedDeadLetter
from isom.ledger.models import Event
from isom.ops.health import feed_lags

log = logging.getLogger(__name__)

LEDGER_EVENTS = Counter(
    "isom_ledger_events", "Ledger events committed by this process, by kind.", ["kind"]
)

_EVENTS = Event.__table__
_PENDING = "isom_metrics_pending_events"
_SAVEPOINTS = "isom_metrics_savepoints"
_TOKENS = itertools.count(1)

# The ledger writes its events with Core on the session's connection, so they are counted from
# the connection's events: noted when inserted, with the savepoints open around them, dropped
# when their savepoint or transaction rolls back, counted when the transaction commits.


def _executed(conn: Connection, clause: Any, multiparams: Any, params: Any, *_: Any) -> None:
    if not (isinstance(clause, Insert) and clause.table is _EVENTS):
        return
    rows: list[Any] = [*(multiparams or ()), *([params] if params else [])]
    flat = [r for row in rows for r in (row if isinstance(row, list | tuple) else [row])]
    where = tuple(conn.info.get(_SAVEPOINTS, ()))
    conn.info.setdefault(_PENDING, []).extend((where, str(r["kind"])) for r in flat)


def _savepoint(conn: Connection, _name: str | None) -> None:
    # SQLAlchemy names the savepoint after this event, so each gets a token of our own;
    # savepoints nest strictly, so the one that ends is always the innermost.
    stack = conn.info.setdefault(_SAVEPOINTS, [])
    stack.append(next(_TOKENS))


def _savepoint_ended(conn: Connection, rolled_back: bool) -> None:
    stack = conn.info.get(_SAVEPOINTS) or [None]
    token = stack.pop()
    conn.info[_PENDING] = [
        (tuple(t for t in where if t != token), kind)
        for where, kind in conn.info.get(_PENDING, [])
        if not (rolled_back and token in where)
    ]


def _committed(conn: Connection) -> None:
    for _where, kind in conn.info.pop(_PENDING, ()):
        LEDGER_EVENTS.labels(kind).inc()
    conn.info.pop(_SAVEPOINTS, None)


def _rolled_back(conn: Connection) -> None:
    conn.info.pop(_PENDING, None)
    conn.info.pop(_SAVEPOINTS, None)


def count_ledger_events() -> None:
    """Count every ledger event any connection of this process commits (idempotent)."""
    if event.contains(Engine, "commit", _committed):
        return
    listeners: list[tuple[str, Callable[..., None]]] = [
        ("after_execute", _executed),
        ("savepoint", _savepoint),
        ("rollback_savepoint", lambda c, _name, _ctx: _savepoint_ended(c, True)),
        ("release_savepoint", lambda c, _name, _ctx: _savepoint_ended(c, False)),
        ("commit", _committed),
        ("rollback", _rolled_back),
    ]
    for name, listener in listeners:
        event.listen(Engine, name, listener)


class StoreCollector(Collector):
    """Metrics read from the database when Prometheus scrapes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("isom_store_up", "1 when the database answered this scrape.")
        try:
            lags, dead = self.db.read(_store_figures)
        except Exception:  # noqa: BLE001 - a scrape must answer even when the store does not
            log.warning("metrics: the database does not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        seconds = GaugeMetricFamily(
            "isom_feed_lag_seconds",
            "Age of the oldest feed message a consumer has not taken yet (0: caught up).",
            labels=["consumer"],
        )
        messages = GaugeMetricFamily(
            "isom_feed_lag_messages",
            "Feed messages sequenced but not yet taken by a consumer.",
            labels=["consumer"],
        )
        for lag in lags:
            seconds.add_metric([lag.consumer], lag.seconds)
            messages.add_metric([lag.consumer], lag.messages)
        yield seconds
        yield messages
        letters = CounterMetricFamily(
            "isom_dead_letters",
            "Messages set aside unapplied: device ingest, or refused by a webhook subscriber.",
            labels=["source"],
        )
        for source, count in dead.items():
            letters.add_metric([source], count)
        yield letters


def _store_figures(session: Session) -> tuple[list[Any], dict[str, int]]:
    dead = {
        "ingest": session.scalar(select(func.count()).select_from(IngestDeadLetter)) or 0,
        "feed": session.scalar(select(func.count()).select_from(FeedDeadLetter)) or 0,
    }
    return feed_lags(session), dead


def exposition(db: Database) -> bytes:
    """The text Prometheus scrapes: this process's (or all processes') counters, then the
    figures read from the store."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        counted = generate_latest(processes)
    else:
        counted = generate_latest(REGISTRY)
    store = CollectorRegistry(auto_describe=False)
    store.register(StoreCollector(db))
    return counted + generate_latest(store)
