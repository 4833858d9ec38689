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


@pytest.mark.parametrize("pipeline", [False, True], ids=["acked-each", "pipelined"])
def test_relay_publishes_in_order_and_the_broker_drops_duplicates(
    pdb: Database, pipeline: bool
) -> None:
    story(pdb)
    tag = uuid.uuid4().hex[:10]
    stream, prefix, cursor = f"ISOM_FEED_T{tag}", f"isomtest{tag}", f"relay.test.{tag}"

    async def run() -> None:
        nc = await _connect()
        js = nc.jetstream()
        try:
            await nats_relay.ensure_stream(js, stream, prefix)
            published, dups = await nats_relay.relay_once(
                pdb, js, cursor_name=cursor, stream=stream, prefix=prefix, pipeline=pipeline
            )
            total = len(pdb.read(lambda s: feed.page(s, 0, 10_000)).messages)
            assert (published, dups) == (total, 0)
            info = await js.stream_info(stream)
            assert info.state.messages == total
            # read the stream back: ids unique, per-key order by seq
            sub = await js.pull_subscribe(f"{prefix}.>", durable=None, stream=stream)
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
        finally:
            try:
                await js.delete_stream(stream)
            finally:
                await nc.close()

    asyncio.run(run())


def test_a_relay_restarted_behind_its_cursor_after_the_duplicate_window_adds_nothing(
    pdb: Database,
) -> None:
    story(pdb)
    tag = uuid.uuid4().hex[:10]
    stream, prefix, cursor = f"ISOM_FEED_W{tag}", f"isomtest{tag}", f"relay.test.{tag}"

    async def run() -> None:
        nc = await _connect()
        js = nc.jetstream()

        async def relay() -> tuple[int, int]:
            return await nats_relay.relay_once(
                pdb, js, cursor_name=cursor, stream=stream, prefix=prefix, batch=7
            )

        try:
            await nats_relay.ensure_stream(js, stream, prefix, duplicate_window=0.5)
            while (await relay())[0]:
                pass
            total = len(pdb.read(lambda s: feed.page(s, 0, 10_000)).messages)
            assert (await js.stream_info(stream)).state.messages == total
            # the relay crashed after the broker's acks and before saving its cursor, and comes
            # back after the duplicate window: the broker would store every message again
            pdb.write(lambda s: feed.set_state(s, cursor, 3))
            await asyncio.sleep(1.0)
            assert await relay() == (0, 0)
            assert (await js.stream_info(stream)).state.messages == total
            assert pdb.read(lambda s: feed.get_state(s, cursor)) == total
            # new messages follow on, once each
            receive(pdb, "AFTER-1")
            published, _ = await relay()
            info = await js.stream_info(stream)
            assert published == 2 and info.state.messages == total + 2
        finally:
            try:
                await js.delete_stream(stream)
            finally:
                await nc.close()

    asyncio.run(run())
