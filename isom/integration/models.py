"""Tables of the outbound feed: the ordered message log, subscribers, and their dead letters.

`feed_message` gives every committed outbox row a gap-free, commit-ordered sequence number
(`seq`): the cursor of the pull feed, of every webhook subscriber and of the NATS relay.
The outbox (`isom.outbox`) is read here; `feed_job_cost_due` queues the jobs whose cost
message is still to write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import JsonType, UtcDateTime, utcnow


class FeedMessage(Base):
    """One outbox row, in the order it became visible: `seq` is the feed's cursor."""

    __tablename__ = "feed_message"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("ledger_outbox.id"), unique=True)
    topic: Mapped[str] = mapped_column(String(100))
    message_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    sequenced_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedState(Base):
    """Named integers: the sequencer's low-water mark and the relays' cursors."""

    __tablename__ = "feed_state"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Subscriber(Base):
    """A webhook endpoint of the ERP (or anyone): where, which topics, and how far it has got."""

    __tablename__ = "feed_subscriber"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(JsonType, default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    batch_size: Mapped[int] = mapped_column(Integer, default=100)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Of `attempts`, how many the receiver answered with a refusal (not an outage).
    refusals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class DeadLetter(Base):
    """A message a subscriber refused `max_attempts` times: kept until it is re-sent and taken
    (`replayed_at`)."""

    __tablename__ = "feed_dead_letter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("feed_subscriber.id"), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    replayed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CapturedEvent(Base):
    """An EPCIS event captured from outside, once per eventID: what it applied in the ledger.

    `declaration` is False for the event itself and True for its errorDeclaration, so an event
    and the declaration that corrects it (which carry the same eventID) are one row each.
    """

    __tablename__ = "epcis_captured_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(500))
    declaration: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    biz_step: Mapped[str | None] = mapped_column(String(100))
    ledger_events: Mapped[list[int]] = mapped_column(JsonType, default=list)
    capture_id: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    captured_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("event_id", "declaration"),)


class Reconciliation(Base):
    """The ERP's inventory as loaded, and its differences with the containers at that moment."""

    __tablename__ = "recon_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    feed_head: Mapped[int] = mapped_column(BigInteger, default=0)
    erp_rows: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class JobCostDue(Base):
    """A job whose cost a committed production event changed: the job-cost projector
    (`job_cost_feed.py`) writes its `job.cost` message after the event and deletes the row.

    Written in the event's transaction (a small insert instead of the whole cost), so a
    crash between the commit and the projection loses no message: the projector finds it.
    """

    __tablename__ = "feed_job_cost_due"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    work_order: Mapped[str] = mapped_column(String(40))
    #: The event's time: the cost is the job's cost as of then.
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: The message header of the production event (source, event key, kind, times, actor).
    header: Mapped[dict[str, Any]] = mapped_column(JsonType)
    #: The message's place among the event's messages (its stable id derives from it).
    part: Mapped[int] = mapped_column(Integer)
