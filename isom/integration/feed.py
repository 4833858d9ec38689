"""The outbound feed: the ledger's outbox as an ordered, replayable log of messages.

Every committed `ledger_outbox` row gets a sequence number in `feed_message` (the sequencer),
in the order it became visible, so a cursor never skips a row that committed late (on
PostgreSQL two transactions can commit in the other order than they took outbox ids). Each
message has a stable id (from its event's idempotency key: the ledger event's, or for the
production messages of `production_feed.py` the production event's), a key whose order is kept
(`item@location` for inventory changes, `event:<id>` for the event itself, `job:<work order>`
for production), and a time.
Readers page by `seq`: the pull API, the webhook subscribers (`delivery.py`) and the NATS
relay (`nats_relay.py`).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import time
import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, aliased

from isom.auth import sites
from isom.db import Database, row_view
from isom.errors import InvalidInput
from isom.integration.models import FeedMessage, FeedState
from isom.ledger import queries as ledger_queries
from isom.outbox import Outbox
from isom.types import utcnow

#: No ledger transaction lasts longer than this: rows older than it are final.
SEQUENCER_GRACE = dt.timedelta(seconds=60)
LOW_WATER = "sequencer.low_water"
_PG_LOCK = 7_240_001


class Message(BaseModel):
    """One feed message as every consumer sees it."""

    id: str
    seq: int
    outbox_id: int
    topic: str
    key: str
    time: dt.datetime
    event_id: int | None
    #: The code of the site where the ledger event happened (None: not a site's event).
    site: str | None = None
    payload: dict[str, Any]


class FeedPage(BaseModel):
    messages: list[Message]
    next_cursor: int
    has_more: bool


_ID_NS = uuid.UUID("0b6f3c52-4a55-4bb5-a4f4-2f6f9f1e8d20")


def message_id(event_key: str | None, rank: int, outbox_id: int) -> str:
    """The stable, unique id of a message: what consumers deduplicate on.

    Derived from the event's idempotency key and the message's place among the event's
    messages, not from the outbox id: after a restore from backup the outbox ids are given
    again to new events, and an ERP that remembers ids would drop those as duplicates.
    """
    if not event_key:
        return f"isom-outbox:{outbox_id}"
    return str(uuid.uuid5(_ID_NS, f"{event_key}\x00{rank}"))


def get_state(session: Session, name: str) -> int:
    row = session.get(FeedState, name)
    return row.value if row else 0


def set_state(session: Session, name: str, value: int) -> None:
    row = session.get(FeedState, name)
    if row is None:
        session.add(FeedState(name=name, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()
    session.flush()


def sequence(session: Session, *, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Give the next committed outbox rows their feed sequence numbers; returns how many.

    One sequencer at a time (an advisory lock on PostgreSQL, the write lock on SQLite), so
    `seq` order is commit-visibility order. Rows above the low-water mark that are not yet
    sequenced are picked up even when a higher id was sequenced before them.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    low = get_state(session, LOW_WATER)
    rows = session.execute(
        select(Outbox.id, Outbox.topic, Outbox.message_key, Outbox.created_at)
        .outerjoin(FeedMessage, FeedMessage.outbox_id == Outbox.id)
        .where(Outbox.id > low, FeedMessage.seq.is_(None))
        .order_by(Outbox.id)
        .limit(batch)
    ).all()
    if rows:
        top = session.scalar(select(func.max(FeedMessage.seq))) or 0
        stamp = utcnow()
        session.add_all(
            FeedMessage(
                seq=top + i,
                outbox_id=r.id,
                topic=r.topic,
                message_key=r.message_key,
                created_at=r.created_at,
                sequenced_at=stamp,
            )
            for i, r in enumerate(rows, start=1)
        )
        session.flush()
    if len(rows) < batch:
        cutoff = (now or utcnow()) - SEQUENCER_GRACE
        new_low = session.scalar(
            select(func.max(FeedMessage.outbox_id)).where(
                FeedMessage.outbox_id > low, FeedMessage.created_at < cutoff
            )
        )
        if new_low is not None and new_low > low:
            set_state(session, LOW_WATER, new_low)
    return len(rows)


_last_full_pass: dict[str, float] = {}


def sync(db: Database, *, full_every: float = 1.0) -> int:
    """Sequence new outbox rows, writing only when there is something to do.

    A read first compares the highest outbox id with the highest sequenced one; only when
    they differ (or every `full_every` seconds, to catch a row that committed late below the
    highest one, which only PostgreSQL can produce) does it run `sequence` in a write.
    """
    now = time.monotonic()
    due = now - _last_full_pass.get(db.url, 0.0) >= full_every

    def behind(s: Session) -> bool:
        top = s.scalar(select(func.max(Outbox.id))) or 0
        done = s.scalar(select(func.max(FeedMessage.outbox_id))) or 0
        return top != done

    if not due and not db.read(behind):
        return 0
    count = db.write(lambda s: sequence(s))
    _last_full_pass[db.url] = now
    return count


def matches(topic: str, patterns: list[str] | None) -> bool:
    """Whether a topic passes a filter of glob patterns (`inventory.*`); no filter passes all."""
    return not patterns or any(fnmatch.fnmatchcase(topic, p) for p in patterns)


def check_patterns(patterns: list[str] | None, field: str = "topics") -> list[str]:
    out = [p.strip() for p in patterns or [] if p.strip()]
    for p in out:
        if len(p) > 100 or not all(c.isalnum() or c in "._-*?" for c in p):
            raise InvalidInput(
                f"topic filter {p!r} is not valid",
                field=field,
                expected="glob patterns of topics such as 'inventory.*' or 'ledger.receive'",
            )
    return out


def _message(
    fm: FeedMessage, mid: str, event_id: int | None, site: str | None, payload: dict[str, Any]
) -> Message:
    return row_view(
        Message, fm, id=mid, key=fm.message_key, time=fm.created_at, event_id=event_id,
        site=site, payload=payload,
    )  # fmt: skip


def read_after(
    session: Session, after: int, limit: int, topics: list[str] | None = None
) -> tuple[list[Message], int, bool]:
    """Messages with `seq > after`, in order: (matching messages, last seq scanned, more?)."""
    if after < 0:
        raise InvalidInput(
            "the cursor must be 0 or more", field="after", expected="an integer >= 0"
        )
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit out of range", field="limit", expected="1 to 10000")
    out: list[Message] = []
    cursor = after
    scan = max(limit, 500) if topics else limit
    while len(out) < limit:
        sibling = aliased(Outbox)
        rank = (
            select(func.count())
            .where(sibling.event_id == Outbox.event_id, sibling.id < Outbox.id)
            .correlate(Outbox)
            .scalar_subquery()
        )
        where = ledger_queries.event_sites()
        rows = session.execute(
            select(FeedMessage, Outbox.event_id, Outbox.payload, rank, where.c.site)
            .join(Outbox, Outbox.id == FeedMessage.outbox_id)
            .outerjoin(where, where.c.event_id == Outbox.event_id)
            .where(FeedMessage.seq > cursor, sites.within(where.c.site_id))
            .order_by(FeedMessage.seq)
            .limit(scan)
        ).all()
        if not rows:
            return out, cursor, False
        for fm, event_id, payload, place, site in rows:
            if len(out) >= limit:
                break
            cursor = fm.seq
            if matches(fm.topic, topics):
                if event_id is not None:
                    mid = message_id(payload.get("event_key"), place, fm.outbox_id)
                elif "source" in payload and "part" in payload:
                    mid = message_id(
                        f"{payload['source']}:{payload.get('event_key')}",
                        payload["part"],
                        fm.outbox_id,
                    )
                else:
                    mid = message_id(None, 0, fm.outbox_id)
                out.append(_message(fm, mid, event_id, site, payload))
        if len(rows) < scan and len(out) < limit:
            return out, cursor, False
    more = session.scalar(select(FeedMessage.seq).where(FeedMessage.seq > cursor).limit(1))
    return out, cursor, more is not None


def page(
    session: Session, after: int = 0, limit: int = 100, topics: list[str] | None = None
) -> FeedPage:
    """One page of the pull feed; pass `next_cursor` as `after` to get the next one."""
    messages, cursor, more = read_after(session, after, limit, check_patterns(topics, "topic"))
    return FeedPage(messages=messages, next_cursor=cursor, has_more=more)


def head(session: Session) -> int:
    """The highest sequence number given so far."""
    return session.scalar(select(func.max(FeedMessage.seq))) or 0
