"""Webhook delivery: each subscriber gets the feed in `seq` order, signed, at least once.

A subscriber's `cursor` is the last `seq` it has acknowledged (or that was dead-lettered).
One pass (`deliver_once`) reads which subscribers are due, posts the next batch of matching
messages, and on a 2xx moves the cursor past them with a conditional update: if another
worker (or a replay) moved the subscriber meanwhile, this worker's result is dropped, so two
workers can at worst send a batch twice, which receivers drop by message id. On a failure it
retries the head message alone with exponential backoff; after `max_attempts` failures that
message goes to the dead-letter list and the cursor moves on. Order is the feed's order, so
per-key order holds (except around a dead letter, which a person replays). Pause stops
delivery, resume restarts it, replay sets the cursor back to any point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from isom.db import Database
from isom.errors import Conflict, InvalidInput, NotFound
from isom.integration import feed
from isom.integration.models import DeadLetter, Subscriber
from isom.types import utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Isom-Signature"
TIMESTAMP_HEADER = "X-Isom-Timestamp"
BACKOFF_BASE = dt.timedelta(seconds=1)
BACKOFF_CAP = dt.timedelta(minutes=5)


# --- subscribers -------------------------------------------------------------------------


class SubscriberIn(BaseModel):
    name: str
    url: str
    secret: str | None = None
    topics: list[str] = []
    batch_size: int = Field(100, ge=1, le=10_000)
    max_attempts: int = Field(8, ge=1, le=1000)
    start: str = "now"  # "now" (only new messages) or "beginning"


class SubscriberView(BaseModel):
    name: str
    url: str
    topics: list[str]
    paused: bool
    cursor: int
    head: int
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    delivered: int
    dead_letters: int
    batch_size: int
    max_attempts: int
    secret: str | None = None  # only in the answer to the creation


class DeadLetterView(BaseModel):
    id: int
    seq: int
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    message: dict[str, Any]


def _view(session: Session, sub: Subscriber, secret: str | None = None) -> SubscriberView:
    dead = session.query(DeadLetter).filter(DeadLetter.subscriber_id == sub.id).count()
    return SubscriberView(
        name=sub.name,
        url=sub.url,
        topics=list(sub.topics or []),
        paused=sub.paused,
        cursor=sub.cursor,
        head=feed.head(session),
        attempts=sub.attempts,
        next_attempt_at=sub.next_attempt_at,
        last_error=sub.last_error,
        delivered=sub.delivered,
        dead_letters=dead,
        batch_size=sub.batch_size,
        max_attempts=sub.max_attempts,
        secret=secret,
    )


def _get(session: Session, name: str) -> Subscriber:
    sub = session.scalar(select(Subscriber).where(Subscriber.name == name))
    if sub is None:
        raise NotFound(f"no subscriber named {name!r}", field="name")
    return sub


def create_subscriber(session: Session, data: SubscriberIn) -> SubscriberView:
    """Register a webhook endpoint; the answer carries its signing secret once."""
    if not data.name.strip() or len(data.name) > 100:
        raise InvalidInput("the name is empty or too long", field="name", expected="1-100 chars")
    if not data.url.startswith(("http://", "https://")) or len(data.url) > 1000:
        raise InvalidInput(
            "the url is not an http(s) URL", field="url", expected="http://... or https://..."
        )
    if not 1 <= data.batch_size <= 1000:
        raise InvalidInput("batch size out of range", field="batch_size", expected="1 to 1000")
    if not 1 <= data.max_attempts <= 100:
        raise InvalidInput("out of range", field="max_attempts", expected="1 to 100")
    if data.start not in ("now", "beginning"):
        raise InvalidInput("unknown start", field="start", expected="'now' or 'beginning'")
    if session.scalar(select(Subscriber.id).where(Subscriber.name == data.name)) is not None:
        raise Conflict(f"a subscriber named {data.name!r} exists", field="name")
    secret = data.secret or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise InvalidInput("the secret is too short", field="secret", expected=">= 16 characters")
    feed.sequence(session)
    sub = Subscriber(
        name=data.name,
        url=data.url,
        secret=secret,
        topics=feed.check_patterns(data.topics),
        paused=False,
        cursor=feed.head(session) if data.start == "now" else 0,
        batch_size=data.batch_size,
        max_attempts=data.max_attempts,
        attempts=0,
        delivered=0,
        created_at=utcnow(),
    )
    session.add(sub)
    session.flush()
    return _view(session, sub, secret=secret)


def list_subscribers(session: Session) -> list[SubscriberView]:
    return [
        _view(session, s) for s in session.scalars(select(Subscriber).order_by(Subscriber.name))
    ]


def get_subscriber(session: Session, name: str) -> SubscriberView:
    return _view(session, _get(session, name))


def set_paused(session: Session, name: str, paused: bool) -> SubscriberView:
    sub = _get(session, name)
    sub.paused = paused
    if not paused:
        sub.next_attempt_at = None
    session.flush()
    return _view(session, sub)


def replay(session: Session, name: str, after: int) -> SubscriberView:
    """Deliver again everything after `after` (0 = from the beginning)."""
    if after < 0:
        raise InvalidInput("the cursor must be 0 or more", field="after", expected=">= 0")
    sub = _get(session, name)
    sub.cursor = after
    sub.attempts = 0
    sub.next_attempt_at = None
    sub.last_error = None
    session.flush()
    return _view(session, sub)


def dead_letters(session: Session, name: str) -> list[DeadLetterView]:
    sub = _get(session, name)
    rows = session.scalars(
        select(DeadLetter).where(DeadLetter.subscriber_id == sub.id).order_by(DeadLetter.id)
    )
    return [
        DeadLetterView(
            id=d.id,
            seq=d.seq,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
            message=d.payload,
        )
        for d in rows
    ]


def delete_subscriber(session: Session, name: str) -> None:
    sub = _get(session, name)
    session.query(DeadLetter).filter(DeadLetter.subscriber_id == sub.id).delete()
    session.delete(sub)
    session.flush()


# --- signing and posting -----------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


#: Posts (url, body, headers, timeout) and returns the HTTP status, or raises on no answer.
Poster = Callable[[str, bytes, dict[str, str], float], int]


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - admin-set URL
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


# --- the delivery pass -------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def progressed(self) -> bool:
        return bool(self.delivered or self.dead_lettered or self.skipped)


def backoff(attempts: int, base: dt.timedelta = BACKOFF_BASE) -> dt.timedelta:
    return min(base * (1 << min(max(attempts - 1, 0), 20)), BACKOFF_CAP)


@dataclass(frozen=True)
class _Sub:
    name: str
    url: str
    secret: str
    cursor: int
    attempts: int
    max_attempts: int
    delivered: int


def _due(head: int, now: dt.datetime) -> Any:
    return (
        select(Subscriber.id)
        .where(
            Subscriber.paused.is_(False),
            Subscriber.cursor < head,
            or_(Subscriber.next_attempt_at.is_(None), Subscriber.next_attempt_at <= now),
        )
        .order_by(Subscriber.id)
    )


def _claim(db: Database, now: dt.datetime) -> list[int]:
    """The subscribers with something to send now: a read, so an idle pass writes nothing."""
    feed.sync(db)
    return db.read(lambda s: list(s.scalars(_due(feed.head(s), now))))


def _deliver_one(
    db: Database,
    sub_id: int,
    now: dt.datetime,
    post: Poster,
    timeout: float,
    base: dt.timedelta,
    report: DeliveryReport,
) -> None:
    def load(s: Session) -> tuple[_Sub, list[feed.Message], int]:
        row = s.get(Subscriber, sub_id)
        assert row is not None
        sub = _Sub(
            row.name, row.url, row.secret, row.cursor, row.attempts, row.max_attempts, row.delivered
        )
        size = 1 if row.attempts > 0 else row.batch_size
        msgs, scanned, _ = feed.read_after(s, row.cursor, size, list(row.topics or []))
        return sub, msgs, scanned

    sub, msgs, scanned = db.read(load)

    def finish(s: Session, **values: Any) -> bool:
        """Move the subscriber on, unless someone else did first (another worker, a replay)."""
        if not values:
            return False
        done = s.execute(
            update(Subscriber)
            .where(
                Subscriber.id == sub_id,
                Subscriber.cursor == sub.cursor,
                Subscriber.attempts == sub.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    if not msgs:
        if scanned > sub.cursor:
            report.skipped += scanned - sub.cursor
            db.write(lambda s: finish(s, cursor=scanned))
        return
    body = json.dumps(
        {"subscriber": sub.name, "messages": [m.model_dump(mode="json") for m in msgs]},
        separators=(",", ":"),
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(sub.secret, stamp, body),
        TIMESTAMP_HEADER: stamp,
        "X-Isom-Subscriber": sub.name,
    }
    error: str | None
    try:
        status = post(sub.url, body, headers, timeout)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # noqa: BLE001 - any failure to deliver is retried
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        report.delivered += len(msgs)
        db.write(
            lambda s: finish(
                s,
                cursor=scanned,
                attempts=0,
                next_attempt_at=None,
                last_error=None,
                delivered=sub.delivered + len(msgs),
            )
        )
        return
    report.failed += 1
    report.errors.append(f"{sub.name}: {error}")
    attempts = sub.attempts + 1
    if attempts >= sub.max_attempts and len(msgs) == 1:
        head = msgs[0]

        def dead(s: Session) -> None:
            if finish(s, cursor=head.seq, attempts=0, next_attempt_at=None, last_error=error):
                s.add(
                    DeadLetter(
                        subscriber_id=sub_id,
                        seq=head.seq,
                        attempts=attempts,
                        last_error=error,
                        payload=head.model_dump(mode="json"),
                        created_at=utcnow(),
                    )
                )
                s.flush()

        report.dead_lettered += 1
        db.write(dead)
        return
    db.write(
        lambda s: finish(
            s, attempts=attempts, next_attempt_at=now + backoff(attempts, base), last_error=error
        )
    )


def deliver_once(
    db: Database,
    *,
    now: dt.datetime | None = None,
    post: Poster = urllib_post,
    timeout: float = 10.0,
    backoff_base: dt.timedelta = BACKOFF_BASE,
) -> DeliveryReport:
    """One pass: every due, unpaused subscriber gets at most one batch (or one retry)."""
    at = now or utcnow()
    report = DeliveryReport()
    for sub_id in _claim(db, at):
        _deliver_one(db, sub_id, at, post, timeout, backoff_base, report)
    return report


def deliver_forever(
    db: Database, *, idle_sleep: float = 0.5, stop: Callable[[], bool] = lambda: False
) -> None:
    """`isom feed deliver`: keep delivering; sleep a little when there is nothing to do."""
    while not stop():
        report = deliver_once(db)
        for err in report.errors:
            log.warning("delivery failed: %s", err)
        if not report.progressed:
            time.sleep(idle_sleep)
