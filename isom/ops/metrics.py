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

import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from isom.db import Database
from isom.devices.models import DeadLetter as IngestDeadLetter
from isom.integration.models import DeadLetter as FeedDeadLetter
from isom.ledger.models import Event
from isom.ops.health import feed_lags

log = logging.getLogger(__name__)

LEDGER_EVENTS = Counter(
    "isom_ledger_events", "Ledger events committed by this process, by kind.", ["kind"]
)

_PENDING = "isom_metrics_pending_events"


def _flushed(session: Session, _context: Any) -> None:
    """Note the kinds of the events this flush wrote, with the (nested) transaction they are in."""
    kinds = [obj.kind for obj in session.new if isinstance(obj, Event)]
    if kinds:
        txn = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_PENDING, []).extend((txn, str(kind)) for kind in kinds)


def _within(txn: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while txn is not None:
        if txn is ancestor:
            return True
        txn = txn.parent
    return False


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Forget events written in a transaction (or savepoint) that was rolled back."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(t, k) for t, k in pending if not _within(t, previous)]


def _committed(session: Session) -> None:
    for _txn, kind in session.info.pop(_PENDING, ()):
        LEDGER_EVENTS.labels(kind).inc()


def count_ledger_events() -> None:
    """Count every ledger event any session of this process commits (idempotent)."""
    for name, listener in (
        ("after_flush", _flushed),
        ("after_soft_rollback", _rolled_back),
        ("after_commit", _committed),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


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
