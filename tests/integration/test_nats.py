"""The NATS JetStream relay: everything published once, in order, also after a restart behind
its saved cursor that comes later than the broker's duplicate window.

Needs NATS with JetStream on 127.0.0.1:4222: under CI=true a missing server fails the test,
elsewhere it skips with a message.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from isom.db import Database
from isom.integration import feed, nats_relay
from tests.integration.conftest import IN_CI, story
from tests.ledger.support import receive

NATS_URL = os.environ.get("ISOM_TEST_NATS_URL", "nats://127.0.0.1:4222")


async def _connect() -> Any:
    import nats

    try:
        return await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:  # noqa: BLE001 - any failure to reach it means "missing"
        message = f"NATS is not reachable at {NATS_URL}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)", pytrace=False)
        pytest.skip(f"{message}; start nats-server -js to run this test")


@dataclass(frozen=True)
class Relay:
    """A relay to a stream of its own, so parallel runs never share one."""

    js: Any
    stream: str
    prefix: str
    cursor: str

    async def once(self, db: Database, **kw: Any) -> tuple[int, int]:
        return await nats_relay.relay_once(
            db, self.js, cursor_name=self.cursor, stream=self.stream, prefix=self.prefix, **kw
        )

    async def stored(self) -> int:
        return int((await self.js.stream_info(self.stream)).state.messages)


@asynccontextmanager
async def fresh_stream(duplicate_window: float = 120.0) -> AsyncIterator[Relay]:
    """A new stream with its own subjects and relay cursor, deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    nc = await _connect()
    relay = Relay(nc.jetstream(), f"ISOM_FEED_T{tag}", f"isomtest{tag}", f"relay.test.{tag}")
    try:
        await nats_relay.ensure_stream(
            relay.js, relay.stream, relay.prefix, duplicate_window=duplicate_window
        )
        yield relay
    finally:
        try:
            await relay.js.delete_stream(relay.stream)
        finally:
            await nc.close()


@pytest.mark.parametrize("pipeline", [False, True], ids=["acked-each", "pipelined"])
def test_relay_publishes_in_order_once(pdb: Database, pipeline: bool) -> None:
    story(pdb)

    async def run() -> None:
        async with fresh_stream() as relay:
            published, dups = await relay.once(pdb, pipeline=pipeline)
            total = len(pdb.read(lambda s: feed.page(s, 0, 10_000)).messages)
            assert (published, dups) == (total, 0)
            assert await relay.stored() == total
            # read the stream back: ids unique, per-key order by seq
            sub = await relay.js.pull_subscribe(
                f"{relay.prefix}.>", durable=None, stream=relay.stream
            )
            got: list[dict[str, Any]] = []
            while len(got) < total:
                for msg in await sub.fetch(min(100, total - len(got)), timeout=5):
                    got.append(json.loads(msg.data))
                    assert msg.headers and msg.headers["Nats-Msg-Id"] == got[-1]["id"]
                    await msg.ack()
            assert len({m["id"] for m in got}) == total
            assert [m["seq"] for m in got] == sorted(m["seq"] for m in got)
            per_key: dict[str, list[int]] = defaultdict(list)
            for m in got:
                per_key[m["key"]].append(m["seq"])
            assert all(v == sorted(v) for v in per_key.values())

    asyncio.run(run())


def test_a_relay_restarted_behind_its_cursor_after_the_duplicate_window_adds_nothing(
    pdb: Database,
) -> None:
    story(pdb)

    async def run() -> None:
        async with fresh_stream(duplicate_window=0.5) as relay:
            while (await relay.once(pdb, batch=7))[0]:
                pass
            total = len(pdb.read(lambda s: feed.page(s, 0, 10_000)).messages)
            assert await relay.stored() == total
            # the relay crashed after the broker's acks and before saving its cursor, and comes
            # back after the duplicate window: the broker alone would store them all again
            pdb.write(lambda s: feed.set_state(s, relay.cursor, 3))
            await asyncio.sleep(1.0)
            for pipeline in (False, True):
                assert await relay.once(pdb, batch=7, pipeline=pipeline) == (0, 0)
            assert await relay.stored() == total
            assert pdb.read(lambda s: feed.get_state(s, relay.cursor)) == total
            # new messages follow on, once each
            receive(pdb, "AFTER-1")
            assert (await relay.once(pdb))[0] == 2
            assert await relay.stored() == total + 2

    asyncio.run(run())
