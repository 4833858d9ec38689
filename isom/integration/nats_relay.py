"""Relay of the feed to NATS JetStream: the scale-out path for many consumers.

Each message goes to `isom.feed.<topic>` on the stream `ISOM_FEED`, with its id as
`Nats-Msg-Id`, its key as `Isom-Key` and its feed position as `Isom-Seq`. The stream is the
relay's alone, and it is the truth of how far the relay got: before a batch the relay reads the
`Isom-Seq` of the stream's last message and starts after it, whatever its own saved cursor
(`relay.nats` in `feed_state`) says. So a relay that crashed between the broker's ack and
saving its cursor never publishes a message twice, however late it comes back (the broker's
own duplicate window lasts two minutes). Each publish also says which stream sequence it
expects to follow (`Nats-Expected-Last-Sequence`): if the broker refuses one message, it
refuses the ones after it too, so the stream is always the feed's first n messages in order,
with or without pipelining.
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


async def ensure_stream(
    js: Any, name: str = STREAM, prefix: str = SUBJECT_PREFIX, duplicate_window: float = 120.0
) -> None:
    """Create the stream if it is missing (duplicate window: 2 minutes)."""
    from nats.js.api import StreamConfig
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(name=name, subjects=[f"{prefix}.>"], duplicate_window=duplicate_window)
        )


async def stream_position(js: Any, stream: str) -> tuple[int, int]:
    """The stream's last sequence, and the feed `seq` its last message carries (0: none)."""
    from nats.js.errors import NotFoundError

    last = int((await js.stream_info(stream)).state.last_seq or 0)
    if last == 0:
        return 0, 0
    try:
        msg = await js.get_msg(stream, seq=last)
    except NotFoundError:  # deleted by hand: the saved cursor is all there is to go on
        return last, 0
    seq = (msg.headers or {}).get("Isom-Seq", "")
    return last, int(seq) if seq.isdigit() else 0


async def relay_once(
    db: Database,
    js: Any,
    *,
    batch: int = 1000,
    cursor_name: str = CURSOR,
    stream: str = STREAM,
    prefix: str = SUBJECT_PREFIX,
    pipeline: bool = False,
) -> tuple[int, int]:
    """Publish the next batch; returns (published, of which the broker saw as duplicates).

    By default each publish waits for its acknowledgement. `pipeline=True` sends the whole
    batch on the one connection (in order) and then awaits the acknowledgements: much faster,
    and as safe, since a message refused makes every later one of the batch refused too.
    """
    feed.sync(db)

    def load(s: Session, after: int | None = None) -> tuple[list[feed.Message], int, int]:
        cursor = feed.get_state(s, cursor_name) if after is None else after
        msgs, scanned, _ = feed.read_after(s, cursor, batch)
        return msgs, scanned, cursor

    msgs, scanned, cursor = db.read(load)
    if not msgs:
        return 0, 0
    last, published = await stream_position(js, stream)
    if published > cursor:  # the stream got further than the saved cursor knows
        log.info("%s: the stream holds up to seq %d; resuming after it", stream, published)
        db.write(lambda s: feed.set_state(s, cursor_name, published))
        msgs, scanned, cursor = db.read(lambda s: load(s, published))
        if not msgs:
            return 0, 0
    duplicates = 0
    pending: list[Any] = []
    for n, m in enumerate(msgs):
        body = json.dumps(m.model_dump(mode="json"), separators=(",", ":")).encode()
        subject = f"{prefix}.{m.topic}"
        headers = {
            "Nats-Msg-Id": m.id,
            "Nats-Expected-Last-Sequence": str(last + n),
            "Isom-Key": m.key,
            "Isom-Seq": str(m.seq),
        }
        if pipeline:
            pending.append(await js.publish_async(subject, body, headers=headers))
        else:
            ack = await js.publish(subject, body, headers=headers)
            duplicates += int(bool(getattr(ack, "duplicate", False)))
    for future in pending:
        ack = await future
        duplicates += int(bool(getattr(ack, "duplicate", False)))
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
    """`isom feed relay`: connect, make sure the stream exists, and keep publishing.

    A batch the broker refused is tried again after `idle_sleep`, from where the stream ends.
    """
    import nats
    from nats.errors import Error as NatsError

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        while not stop():
            try:
                published, _ = await relay_once(db, js, pipeline=pipeline)
            except NatsError as exc:
                log.warning("relay batch not taken: %s", exc)
                published = 0
            if not published:
                await asyncio.sleep(idle_sleep)
    finally:
        await nc.drain()
