"""What a load balancer or orchestrator asks: is the process alive, and can it serve?

Ready means the database answers, the MQTT broker accepts connections when this process
ingests from it, and no consumer of the ERP feed is further behind than the configured lag.
Each check answers only ok or failing; why it failed goes to the log, not to the anonymous
caller.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from isom.db import Database
from isom.integration import delivery, feed, nats_relay
from isom.integration.models import FeedMessage, FeedState
from isom.ledger.models import Outbox
from isom.types import utcnow

log = logging.getLogger(__name__)

BROKER_TIMEOUT = 1.0


@dataclass(frozen=True)
class Lag:
    """How far one consumer of the feed is behind: messages sequenced but not taken, and the
    age of the oldest message it has not taken yet (0 when it is caught up)."""

    consumer: str
    messages: int
    seconds: float


def _oldest_after(session: Session, cursor: int) -> dt.datetime | None:
    """When the oldest message after `cursor` was written, counting outbox rows the lazy
    sequencer has not numbered yet."""
    sequenced = session.scalar(
        select(FeedMessage.created_at).where(FeedMessage.seq > cursor).order_by(FeedMessage.seq)
    )
    if sequenced is not None:
        return sequenced
    done = session.scalar(select(FeedMessage.outbox_id).order_by(FeedMessage.seq.desc())) or 0
    return session.scalar(select(Outbox.created_at).where(Outbox.id > done).order_by(Outbox.id))


def feed_lags(session: Session, now: dt.datetime | None = None) -> list[Lag]:
    """The lag of every active consumer: each webhook subscriber not paused, and the NATS relay
    once it has run. The pull feed keeps no cursor here, so it has no lag to report."""
    now = now or utcnow()
    head = feed.head(session)
    cursors = {
        f"webhook:{sub.name}": sub.cursor
        for sub in delivery.list_subscribers(session)
        if not sub.paused
    }
    relay = session.get(FeedState, nats_relay.CURSOR)
    if relay is not None:
        cursors["nats"] = relay.value
    lags = []
    for consumer, cursor in sorted(cursors.items()):
        oldest = _oldest_after(session, cursor)
        seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        lags.append(Lag(consumer, max(0, head - cursor), seconds))
    return lags


def database_ok(db: Database) -> bool:
    """The store answers a trivial query."""
    try:
        db.read(lambda s: s.execute(text("SELECT 1")).scalar_one())
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the log says which
        log.warning("readiness: the database does not answer", exc_info=True)
        return False


def broker_ok() -> bool | None:
    """The MQTT broker accepts a connection; None when this process does not ingest MQTT."""
    if os.environ.get("ISOM_MQTT_INGEST", "0") != "1":
        return None
    from isom.devices.mqtt import broker_address

    host, port = broker_address()
    try:
        with socket.create_connection((host, port), timeout=BROKER_TIMEOUT):
            return True
    except OSError:
        log.warning("readiness: the MQTT broker at %s:%s refuses connections", host, port)
        return False


def feed_ok(db: Database) -> bool:
    """No active feed consumer is behind by more than `ISOM_READY_FEED_LAG` seconds."""
    limit = db.settings.ready_feed_lag_seconds
    try:
        late = [lag for lag in db.read(feed_lags) if lag.seconds > limit]
    except Exception:  # noqa: BLE001 - the store went away since the database check
        log.warning("readiness: could not read the feed's lag", exc_info=True)
        return False
    for lag in late:
        log.warning(
            "readiness: feed consumer %s is %.0f s (%d messages) behind, more than %.0f s",
            lag.consumer,
            lag.seconds,
            lag.messages,
            limit,
        )
    return not late


def _verdict(passed: bool) -> str:
    return "ok" if passed else "failing"


def readiness(db: Database) -> dict[str, str]:
    """Each check's verdict: `ok`, `failing`, or `off` for a check that does not apply here."""
    database = database_ok(db)
    broker = broker_ok()
    return {
        "database": _verdict(database),
        "broker": "off" if broker is None else _verdict(broker),
        "feed_lag": _verdict(database and feed_ok(db)),
    }
