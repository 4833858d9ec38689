"""Relay of the feed to NATS JetStream: the scale-out path for many consumers.

Each message goes to `isom.feed.<topic>` on the stream `ISOM_FEED`, with its id as
`Nats-Msg-Id` (the broker drops a duplicate within its window) and its key as `Isom-Key`.
Messages are published one after another and each acknowledgement awaited, so the stream
holds them in feed order; the relay's cursor (`relay.nats` in `feed_state`) moves only after
the broker acknowledged, so a crash re-publishes at most one batch, which the broker drops.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from isom.db import Database
from isom.integration import feed

log = logging.getLogger(__name__)

STREAM = "ISOM_FEED"
SUBJECT_PREFIX = "isom.feed"
CURSOR = "relay.nats"
DEFAULT_URL = "nats://127.0.0.1:4222"


async def ensure_stream(js: Any, name: str = STREAM, prefix: str = SUBJECT_PREFIX) -> None:
    """Create the stream if it is missing (duplicate window: 2 minutes)."""
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(name=name, subjects=[f"{prefix}.>"], duplicate_window=120.0)
        )


async def relay_once(
    db: Database,
    js: Any,
    *,
    batch: int = 1000,
    cursor_name: str = CURSOR,
    prefix: str = SUBJECT_PREFIX,
    pipeline: bool = False,
) -> tuple[int, int]:
    """Publish the next batch; returns (published, of which the broker saw as duplicates).

    By default each publish waits for its acknowledgement, so a failure can never let a later
    message of a key into the stream before an earlier one. `pipeline=True` sends the whole
    batch on the one connection (in order) and then awaits the acknowledgements: much faster;
    the order can only break if the broker refuses one message and stores the next ones.
    """
    feed.sync(db)

    def load(s: Session) -> tuple[list[feed.Message], int]:
        msgs, scanned, _ = feed.read_after(s, feed.get_state(s, cursor_name), batch)
        return msgs, scanned

    msgs, scanned = db.read(load)
    duplicates = 0
    pending: list[Any] = []
    for m in msgs:
        body = json.dumps(m.model_dump(mode="json"), separators=(",", ":")).encode()
        subject = f"{prefix}.{m.topic}"
        headers = {"Nats-Msg-Id": m.id, "Isom-Key": m.key, "Isom-Seq": str(m.seq)}
        if pipeline:
            pending.append(await js.publish_async(subject, body, headers=headers))
        else:
            ack = await js.publish(subject, body, headers=headers)
            duplicates += int(bool(getattr(ack, "duplicate", False)))
    for future in pending:
        ack = await future
        duplicates += int(bool(getattr(ack, "duplicate", False)))
    if msgs:
        db.write(lambda s: feed.set_state(s, cursor_name, scanned))
    return len(msgs), duplicates


async def relay_forever(
    db: Database,
    url: str = DEFAULT_URL,
    *,
    idle_sleep: float = 0.5,
    pipeline: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """`isom feed relay`: connect, make sure the stream exists, and keep publishing."""
    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        while not stop():
            published, _ = await relay_once(db, js, pipeline=pipeline)
            if not published:
                await asyncio.sleep(idle_sleep)
    finally:
        await nc.drain()
