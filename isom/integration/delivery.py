"""Webhook delivery: each subscriber gets the feed in `seq` order, signed, at least once.

A subscriber's `cursor` is the last `seq` it has acknowledged (or that was dead-lettered).
One pass (`deliver_once`) reads which subscribers are due, posts the next batch of matching
messages, and on a 2xx moves the cursor past them with a conditional update: if another
worker (or a replay) moved the subscriber meanwhile, this worker's result is dropped, so two
workers can at worst send a batch twice, which receivers drop by message id. On a failure it
retries the head message alone with exponential backoff, capped. A receiver that does not
take messages now (no answer, a 5xx, or a 4xx that means "not now" or "not here") is retried
for as long as that lasts, so an outage of any length is caught up in order. Only a message
the receiver refuses (any other 4xx) `max_attempts` times goes to the dead-letter list, and
the cursor moves on; a dead letter is re-sent alone (`resend_dead_letter`) and then cleared.
Pause stops delivery, resume restarts it, replay sets the cursor back to any point.
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

from isom.db import Database, row_view
from isom.errors import Conflict, InvalidInput, IsomError, NotFound
from isom.integration import feed
from isom.integration.models import DeadLetter, Subscriber
from isom.types import utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Isom-Signature"
TIMESTAMP_HEADER = "X-Isom-Timestamp"
BACKOFF_BASE = dt.timedelta(seconds=1)
BACKOFF_CAP = dt.timedelta(minutes=5)
#: 4xx answers that say "not now" or "not here" (credentials, address, rate) rather than
#: "not this message": retried like an outage, never dead-lettered.
NOT_NOW = frozenset({401, 403, 404, 405, 408, 421, 425, 429})


class ReceiverFailed(IsomError):
    """The subscriber's endpoint did not take a re-sent message."""

    status_code = 502
    code = "receiver_failed"
    title = "The receiver did not take the message"


def refused(status: int | None) -> bool:
    """Whether an answer refuses the message itself (a 4xx other than `NOT_NOW`)."""
    return status is not None and 400 <= status < 500 and status not in NOT_NOW


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
    resent_at: dt.datetime | None = None  # set when a re-send was taken: the letter is cleared


def _view(session: Session, sub: Subscriber, secret: str | None = None) -> SubscriberView:
    dead = (
        session.query(DeadLetter)
        .filter(DeadLetter.subscriber_id == sub.id, DeadLetter.replayed_at.is_(None))
        .count()
    )
    return row_view(
        SubscriberView, sub, topics=list(sub.topics or []), head=feed.head(session),
        dead_letters=dead, secret=secret,
    )  # fmt: skip


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
    """Deliver again everything after `after` (0 = from the beginning).

    The dead letters after `after` are sent again with the rest, so they are cleared; one the
    receiver still refuses becomes a dead letter again.
    """
    if after < 0:
        raise InvalidInput("the cursor must be 0 or more", field="after", expected=">= 0")
    sub = _get(session, name)
    sub.cursor = after
    sub.attempts = 0
    sub.refusals = 0
    sub.next_attempt_at = None
    sub.last_error = None
    session.execute(
        update(DeadLetter)
        .where(
            DeadLetter.subscriber_id == sub.id,
            DeadLetter.seq > after,
            DeadLetter.replayed_at.is_(None),
        )
        .values(replayed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return _view(session, sub)


def _letter_view(d: DeadLetter) -> DeadLetterView:
    return row_view(DeadLetterView, d, message=d.payload, resent_at=d.replayed_at)


def dead_letters(session: Session, name: str) -> list[DeadLetterView]:
    """The subscriber's dead letters not yet taken by a re-send, oldest first."""
    sub = _get(session, name)
    rows = session.scalars(
        select(DeadLetter)
        .where(DeadLetter.subscriber_id == sub.id, DeadLetter.replayed_at.is_(None))
        .order_by(DeadLetter.id)
    )
    return [_letter_view(d) for d in rows]


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


def post_signed(
    post: Poster, url: str, secret: str, subscriber: str, messages: list[Any], timeout: float
) -> tuple[int | None, str | None]:
    """Post a batch signed; the HTTP status (None: no answer) and the error (None: a 2xx)."""
    body = json.dumps(
        {"subscriber": subscriber, "messages": messages}, separators=(",", ":")
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(secret, stamp, body),
        TIMESTAMP_HEADER: stamp,
        "X-Isom-Subscriber": subscriber,
    }
    try:
        status = post(url, body, headers, timeout)
    except Exception as exc:  # noqa: BLE001 - any failure to deliver is retried
        return None, f"{type(exc).__name__}: {exc}"
    return status, None if 200 <= status < 300 else f"HTTP {status}"


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


def backoff(
    attempts: int, base: dt.timedelta = BACKOFF_BASE, cap: dt.timedelta = BACKOFF_CAP
) -> dt.timedelta:
    """`base` doubled per failed attempt, at most `cap`: how long a failing head waits."""
    return min(base * (1 << min(max(attempts - 1, 0), 20)), cap)


@dataclass(frozen=True)
class Retry:
    """How a failing head is retried: the backoff's first wait and its cap."""

    base: dt.timedelta = BACKOFF_BASE
    cap: dt.timedelta = BACKOFF_CAP


@dataclass(frozen=True)
class _Sub:
    id: int
    name: str
    url: str
    secret: str
    cursor: int
    attempts: int
    refusals: int
    max_attempts: int
    delivered: int


def _snapshot(row: Subscriber) -> _Sub:
    return _Sub(
        row.id,
        row.name,
        row.url,
        row.secret,
        row.cursor,
        row.attempts,
        row.refusals,
        row.max_attempts,
        row.delivered,
    )


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


def _load(s: Session, sub_id: int) -> tuple[_Sub, list[feed.Message], int]:
    """The subscriber, its next batch (the head alone while it fails) and how far it reaches."""
    row = s.get(Subscriber, sub_id)
    assert row is not None
    sub = _snapshot(row)
    size = 1 if row.attempts > 0 else row.batch_size
    msgs, scanned, _ = feed.read_after(s, row.cursor, size, list(row.topics or []))
    return sub, msgs, scanned


def _finish(s: Session, sub: _Sub, **values: Any) -> bool:
    """Move the subscriber on, unless someone else did first (another worker, a replay)."""
    done = s.execute(
        update(Subscriber)
        .where(
            Subscriber.id == sub.id,
            Subscriber.cursor == sub.cursor,
            Subscriber.attempts == sub.attempts,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def _dead_letter(s: Session, sub: _Sub, head: feed.Message, error: str) -> None:
    """The head the receiver refused `max_attempts` times: kept, and the cursor moves past it."""
    if _finish(
        s, sub, cursor=head.seq, attempts=0, refusals=0, next_attempt_at=None, last_error=error
    ):
        s.add(
            DeadLetter(
                subscriber_id=sub.id,
                seq=head.seq,
                attempts=sub.attempts + 1,
                last_error=error,
                payload=head.model_dump(mode="json"),
                created_at=utcnow(),
            )
        )
        s.flush()


def _deliver_one(
    db: Database,
    sub_id: int,
    now: dt.datetime,
    post: Poster,
    timeout: float,
    retry: Retry,
    report: DeliveryReport,
) -> None:
    sub, msgs, scanned = db.read(lambda s: _load(s, sub_id))
    if not msgs:
        if scanned > sub.cursor:
            report.skipped += scanned - sub.cursor
            db.write(lambda s: _finish(s, sub, cursor=scanned))
        return
    status, error = post_signed(
        post, sub.url, sub.secret, sub.name, [m.model_dump(mode="json") for m in msgs], timeout
    )
    if error is None:
        report.delivered += len(msgs)
        delivered = sub.delivered + len(msgs)
        db.write(
            lambda s: _finish(
                s,
                sub,
                cursor=scanned,
                attempts=0,
                refusals=0,
                next_attempt_at=None,
                last_error=None,
                delivered=delivered,
            )
        )
        return
    report.failed += 1
    report.errors.append(f"{sub.name}: {error}")
    refusals = sub.refusals + int(refused(status))
    if refused(status) and refusals >= sub.max_attempts and len(msgs) == 1:
        report.dead_lettered += 1
        db.write(lambda s: _dead_letter(s, sub, msgs[0], error))
        return
    attempts = sub.attempts + 1
    wait = backoff(attempts, retry.base, retry.cap)
    db.write(
        lambda s: _finish(
            s,
            sub,
            attempts=attempts,
            refusals=refusals,
            next_attempt_at=now + wait,
            last_error=error,
        )
    )


def deliver_once(
    db: Database,
    *,
    now: dt.datetime | None = None,
    post: Poster = urllib_post,
    timeout: float = 10.0,
    retry: Retry = Retry(),
) -> DeliveryReport:
    """One pass: every due, unpaused subscriber gets at most one batch (or one retry)."""
    at = now or utcnow()
    report = DeliveryReport()
    for sub_id in _claim(db, at):
        _deliver_one(db, sub_id, at, post, timeout, retry, report)
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


# --- re-sending one dead letter ----------------------------------------------------------


def resend_dead_letter(
    db: Database, name: str, letter_id: int, *, post: Poster = urllib_post, timeout: float = 10.0
) -> DeadLetterView:
    """Send one dead letter again, alone; taken (2xx), it is cleared, else it stays (502).

    It goes out beside the subscriber's stream, not in its place: the receiver drops it by
    message id if it already has it, and a receiver that keeps the highest `seq` per key is
    not set back by it.
    """

    def load(s: Session) -> tuple[_Sub, dict[str, Any]]:
        sub = _get(s, name)
        letter = s.get(DeadLetter, letter_id)
        if letter is None or letter.subscriber_id != sub.id or letter.replayed_at is not None:
            raise NotFound(
                f"subscriber {name!r} has no open dead letter {letter_id}",
                field="letter_id",
                expected="the id of one of its dead letters",
            )
        return _snapshot(sub), dict(letter.payload)

    sub, message = db.read(load)
    _, error = post_signed(post, sub.url, sub.secret, sub.name, [message], timeout)

    def record(s: Session) -> DeadLetterView:
        row = s.get(DeadLetter, letter_id)
        assert row is not None
        row.attempts += 1
        row.last_error = error or row.last_error
        if error is None and row.replayed_at is None:
            row.replayed_at = utcnow()
        s.flush()
        return _letter_view(row)

    view = db.write(record)
    if error is not None:
        raise ReceiverFailed(
            f"{name} did not take dead letter {letter_id}: {error}",
            field="letter_id",
            expected="a receiver that takes the message (2xx); the letter stays until then",
        )
    return view
