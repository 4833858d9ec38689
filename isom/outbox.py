"""The outbox: messages for the ERP feed and devices, written in the transaction of what they
tell, sent after it (the integration feed sequences and delivers them).

A platform service: any domain enqueues into it, from its own transaction or from a reaction
subscribed to another domain's events (`isom.reactions`); nobody else writes the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypedDict, cast

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Table, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from isom.db import Base
from isom.types import JsonType, UtcDateTime, utcnow


class Outbox(Base):
    """A message for the ERP feed or a device, written in the event's transaction, sent after it."""

    __tablename__ = "ledger_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: The ledger event the message tells of; empty for messages of other domains.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_event.id"), index=True)
    topic: Mapped[str] = mapped_column(String(100))
    message_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


OUTBOX_TABLE = cast(Table, Outbox.__table__)


class Message(TypedDict, total=False):
    """One message to enqueue: topic, the key whose order is kept, payload (event id, time)."""

    topic: str
    message_key: str
    payload: dict[str, Any]
    event_id: int | None
    created_at: dt.datetime


def enqueue(session: Session, messages: Sequence[Message]) -> None:
    """Add messages to the outbox in the caller's transaction, in one `executemany`."""
    if not messages:
        return
    now = utcnow()
    rows = [
        {"event_id": None, "created_at": now, **m}  # a message's own fields win
        for m in messages
    ]
    session.connection().execute(insert(OUTBOX_TABLE), rows)
