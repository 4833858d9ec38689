"""Feed benchmark: outbox -> webhook and outbox -> NATS JetStream, and the lag to delivery.

    .venv/bin/python bench/feed.py [--events 2000] [--jobs 100] [--store sqlite|postgresql|both]

For each store: a fresh, migrated database with the bench plant of `bench/ledger.py`, then

1. a backlog: `--events` receives through the real ledger service (each writes 2 outbox
   messages: `ledger.receive` and one `inventory.changed`);
2. webhook throughput: `deliver_once` in a loop until the subscriber has everything, to a
   local HTTP receiver (the test ERP of `tests/integration/fake_erp.py`, which checks every
   HMAC signature and deduplicates), with batches of 100 and of 1 message per POST;
3. NATS throughput: `relay_once` in a loop to a fresh JetStream stream, each publish acked
   before the next (the order-keeping mode the relay uses);
4. lag: a writer applies receives at a steady rate for a few seconds while `isom feed deliver`
   and `isom feed relay` run as their own processes; the lag of a message is the time from its
   event's `recorded_at` to its arrival at the webhook receiver, and at a JetStream consumer
   of the stream ISOM_FEED (median, p95, max).

5. production messages on the scan path (`--jobs`, 0 to skip): on a fresh store with the demo
   plant's master data, `--jobs` one-step jobs are started, fed wire and stopped through the
   production services, as the scan endpoints call them; for each kind of scan it prints the
   time per scan and the part of it spent writing the scan's feed messages
   (`production_feed.react`: results, labour and machine time, queuing the job's cost) in its
   transaction; the job-cost projector runs beside the scans, as in the server, and the lag of
   each `job.cost` message (from its scan's `recorded_at` to the projector's insert) is printed
   (median, p95, max): for the first half of the jobs, scanned back to back (times per scan are
   of this half), and for the second half, paced at half the rate the first half reached (a
   busy floor below saturation; back to back, SQLite's one writer starves the projector).

Figures are printed and written to `bench/out/feed-<time>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import (  # noqa: E402
    console,
    postgres_available,
    postgres_store,
    seed,
    sqlite_store,
)
from isom import schema  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.integration import delivery, feed, nats_relay  # noqa: E402
from isom.ledger import services as ledger  # noqa: E402
from isom.ledger.schemas import ReceiveCommand, ReceiveLine  # noqa: E402
from tests.integration.fake_erp import FakeErp  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
ACTOR = ledger.Actor(name="bench", device="bench")
NATS_URL = "nats://127.0.0.1:4222"


def receive(db: Database, n: int, bins: list[str]) -> None:
    cmd = ReceiveCommand(
        container=None,
        location=bins[n % len(bins)],
        supplier="SUP",
        lines=[ReceiveLine(item="ITEM-00", quantity=1 + n % 7)],  # type: ignore[arg-type]
    )
    key = uuid.uuid4().hex
    db.write(lambda s: ledger.receive(s, ACTOR, key, cmd))


def webhook_rate(
    db: Database, erp: FakeErp, batch: int, name: str, most: int | None = None
) -> dict[str, Any]:
    data = delivery.SubscriberIn(
        name=name, url=erp.url, secret=SECRET, start="beginning", batch_size=batch
    )
    db.write(lambda s: delivery.create_subscriber(s, data))
    before = len(erp.applied)
    t0 = time.perf_counter()
    while True:
        report = delivery.deliver_once(db)
        if report.failed:
            raise RuntimeError(report.errors)
        view = db.read(lambda s: delivery.get_subscriber(s, name))
        if view.cursor >= view.head or (most is not None and view.delivered >= most):
            break
    elapsed = time.perf_counter() - t0
    db.write(lambda s: delivery.set_paused(s, name, True))
    n = view.delivered
    return {
        "batch": batch,
        "messages": n,
        "seconds": elapsed,
        "per_second": n / elapsed,
        "new_at_erp": len(erp.applied) - before,
    }


async def nats_rate(db: Database, tag: str, pipeline: bool) -> dict[str, Any]:
    import nats

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    stream, prefix, cursor = f"ISOM_BENCH_{tag}", f"isombench{tag}", f"relay.bench.{tag}"
    await nats_relay.ensure_stream(js, stream, prefix)
    t0 = time.perf_counter()
    total = 0
    try:
        while True:
            n, _ = await nats_relay.relay_once(
                db, js, cursor_name=cursor, stream=stream, prefix=prefix, pipeline=pipeline
            )
            total += n
            if n == 0:
                break
        elapsed = time.perf_counter() - t0
        info = await js.stream_info(stream)
        return {
            "messages": total,
            "seconds": elapsed,
            "per_second": total / elapsed,
            "in_stream": info.state.messages,
        }
    finally:
        await js.delete_stream(stream)
        await nc.close()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def lag(db: Database, erp: FakeErp, bins: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """Steady writes while `isom feed deliver` and `isom feed relay` run as their own
    processes (as in production); lag per message, in ms, from the event's `recorded_at` to
    its arrival at the webhook receiver and at a JetStream consumer."""
    import nats
    from nats.js.api import DeliverPolicy

    name = f"lag-{uuid.uuid4().hex[:6]}"
    data = delivery.SubscriberIn(name=name, url=erp.url, secret=SECRET, start="now")
    db.write(lambda s: delivery.create_subscriber(s, data))
    # the relay starts from now too (earlier messages were measured above)
    db.write(lambda s: feed.set_state(s, nats_relay.CURSOR, feed.head(s)))
    web: dict[str, float] = {}
    orig = erp.handle

    def handle(body: bytes, signature: str, stamp: str) -> int:
        now = time.time()
        for m in json.loads(body)["messages"]:
            web.setdefault(m["id"], now - _recorded(m))
        return orig(body, signature, stamp)

    erp.handle = handle  # type: ignore[method-assign]
    nats_lag: dict[str, float] = {}
    stored: dict[str, float] = {}  # until JetStream stored it
    env = {**os.environ, "ISOM_DATABASE_URL": db.url}
    isom = str(Path(sys.executable).parent / "isom")
    workers = [
        subprocess.Popen([isom, "feed", "deliver", "--idle-sleep", "0.02"], env=env),
        subprocess.Popen([isom, "feed", "relay", "--idle-sleep", "0.02"], env=env),
    ]
    stop = threading.Event()
    ready = threading.Event()
    created = {"stream": False}

    def consume() -> None:
        async def run() -> None:
            nc = await nats.connect(NATS_URL)
            js = nc.jetstream()
            try:
                await js.stream_info(nats_relay.STREAM)
            except Exception:  # noqa: BLE001 - missing: make it, and remove it afterwards
                created["stream"] = True
                await nats_relay.ensure_stream(js)

            async def on_msg(msg: Any) -> None:
                m = json.loads(msg.data)
                nats_lag.setdefault(m["id"], time.time() - _recorded(m))
                stored[m["id"]] = msg.metadata.timestamp.timestamp() - _recorded(m)

            sub = await js.subscribe(
                f"{nats_relay.SUBJECT_PREFIX}.>",
                cb=on_msg,
                deliver_policy=DeliverPolicy.NEW,
                ordered_consumer=True,
            )
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await sub.unsubscribe()
            if created["stream"]:
                await js.delete_stream(nats_relay.STREAM)
            await nc.close()

        asyncio.run(run())

    consumer = threading.Thread(target=consume)
    consumer.start()
    ready.wait(10)
    # warm up: wait until both workers have delivered a first event, then measure
    receive(db, 0, bins)
    deadline = time.perf_counter() + 60
    while (len(web) < 2 or len(nats_lag) < 2) and time.perf_counter() < deadline:
        time.sleep(0.05)
    web.clear()
    nats_lag.clear()
    stored.clear()
    n = 0
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < seconds:
            receive(db, n, bins)
            n += 1
            time.sleep(max(0.0, t0 + n / rate - time.perf_counter()))
        deadline = time.perf_counter() + 60
        while (len(web) < 2 * n or len(nats_lag) < 2 * n) and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)
        stop.set()
        consumer.join()
        erp.handle = orig  # type: ignore[method-assign]
    return {
        "events": n,
        "target_events_per_second": rate,
        "achieved_events_per_second": n / seconds,
        "webhook_ms": summary(list(web.values())),
        "nats_ms": summary(list(nats_lag.values())),
        "nats_stored_ms": summary(list(stored.values())),
    }


def summary(seconds: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in seconds]
    if not ms:
        return {"messages": 0}
    return {
        "messages": len(ms),
        "median": statistics.median(ms),
        "p95": pct(ms, 0.95),
        "max": max(ms),
    }


def _recorded(m: dict[str, Any]) -> float:
    return _stamp(m["payload"]["recorded_at"])


def _stamp(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def bench_store(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    schema.upgrade(db)
    plant = seed(db)
    t0 = time.perf_counter()
    for n in range(args.events):
        receive(db, n, plant.bins)
    write_s = time.perf_counter() - t0
    out: dict[str, Any] = {"events": args.events, "events_write_per_second": args.events / write_s}
    t0 = time.perf_counter()
    while db.write(lambda s: feed.sequence(s)):
        pass
    out["sequencer_per_second"] = db.read(feed.head) / (time.perf_counter() - t0)
    with FakeErp(SECRET) as erp:
        out["webhook_batch100"] = webhook_rate(db, erp, 100, "b100")
        out["webhook_batch1"] = webhook_rate(db, erp, 1, "b1", most=500)
        out["nats_acked_each"] = asyncio.run(nats_rate(db, uuid.uuid4().hex[:8], False))
        out["nats_pipelined"] = asyncio.run(nats_rate(db, uuid.uuid4().hex[:8], True))
        out["lag"] = lag(db, erp, plant.bins, args.rate, args.seconds)
    return out


def production_messages(db: Database, jobs: int) -> dict[str, Any]:
    """Time per scan, and the part of it that writes the scan's feed messages."""
    from decimal import Decimal

    from rich.progress import track
    from sqlalchemy import func, select

    from isom import reactions
    from isom.integration import job_cost_feed, production_feed
    from isom.ledger.models import Outbox
    from isom.production import services as production
    from isom.production.schemas import ConsumeScan, StepScan, StopScan
    from tests.production.support import DAY, at, create, demo_masterdata, scan
    from tests.production.support import receive as receive_one

    schema.upgrade(db)
    demo_masterdata(db)
    receive_one(db, "W-RD", "WIRE-0.5-RD", str(4 * jobs), "0.20", "A-01", lot="W-RD-1")
    for _ in track(range(jobs), description="releasing jobs", console=console):
        create(db, "LEAD-RD-300", "10", DAY)
    writing: dict[str, float] = {}

    def timed(session: Any, fact: reactions.Fact) -> None:
        t = time.perf_counter()
        production_feed.react(session, fact)
        kind = fact.data["event"].kind
        writing[kind] = writing.get(kind, 0.0) + time.perf_counter() - t

    reactions.registry.unsubscribe(production_feed.react)
    reactions.registry.in_transaction("production.*", timed)
    projector = job_cost_feed.Projector(db)
    projector.start()
    total: dict[str, float] = {}
    before = db.read(lambda s: s.scalar(select(func.count()).select_from(Outbox)) or 0)
    half, paced = jobs // 2, {"rate": 0.0, "next": 0.0}
    try:
        for i in track(range(jobs), description="start, consume, stop", console=console):
            wo, when = f"WO-{i + 1:06d}", at(8, i % 60)
            if i == half:  # the second half at half the rate the first half reached
                done = sum(total.values())
                paced["rate"] = 0.5 * 3 * half / done if done else 1.0
                while db.read(job_cost_feed.pending):  # the paced half starts from no backlog
                    time.sleep(0.05)
                paced["next"] = time.perf_counter()
            for kind, operation, command in (
                (
                    "start",
                    production.start_step,
                    StepScan(
                        badge="B1001", work_order=wo, step=10, workstation="CUT-1", occurred_at=when
                    ),
                ),
                (
                    "consume",
                    production.consume_scan,
                    ConsumeScan(
                        work_order=wo,
                        step=10,
                        container="W-RD",
                        item="WIRE-0.5-RD",
                        lot="W-RD-1",
                        quantity=Decimal("3.05"),
                        occurred_at=when,
                    ),
                ),
                (
                    "stop",
                    production.stop_step,
                    StopScan(
                        badge="B1001",
                        work_order=wo,
                        step=10,
                        good_quantity=Decimal(10),
                        occurred_at=at(9, i % 60),
                    ),
                ),
            ):
                if i >= half:
                    time.sleep(max(0.0, paced["next"] - time.perf_counter()))
                    paced["next"] += 1 / paced["rate"]
                t = time.perf_counter()
                scan(db, operation, command)
                if i < half:
                    total[kind] = total.get(kind, 0.0) + time.perf_counter() - t
        while db.read(job_cost_feed.pending):
            time.sleep(0.05)
    finally:
        projector.stop()
        reactions.registry.unsubscribe(timed)
        reactions.registry.in_transaction("production.*", production_feed.react)
    after = db.read(lambda s: s.scalar(select(func.count()).select_from(Outbox)) or 0)
    out: dict[str, Any] = {"jobs": jobs, "outbox_rows_per_job": round((after - before) / jobs, 1)}
    lags = db.read(
        lambda s: [
            (
                int(payload["work_order"].split("-")[1]),
                created.timestamp() - _stamp(payload["recorded_at"]),
            )
            for created, payload in s.execute(
                select(Outbox.created_at, Outbox.payload).where(Outbox.topic == "job.cost")
            )
        ]
    )
    out["job_cost_lag_ms_back_to_back"] = summary([lag for n, lag in lags if n <= half])
    out["paced_scans_per_s"] = round(paced["rate"], 1)
    out["job_cost_lag_ms_paced"] = summary([lag for n, lag in lags if n > half])
    for kind, seconds in total.items():
        out[kind] = {
            "scans_per_s": round(half / seconds, 1),
            "ms_per_scan": round(seconds / half * 1000, 2),
            "ms_writing_feed": round(writing.get(kind, 0.0) / jobs * 1000, 2),
            "feed_share_pct": round(writing.get(kind, 0.0) / jobs / (seconds / half) * 100),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000, help="backlog size; 0 skips 1-4")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=float, default=50.0, help="events/s in the lag run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the lag run")
    parser.add_argument("--jobs", type=int, default=100, help="jobs in the scan run; 0 skips it")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat()}
    if args.events > 0 and args.store in ("sqlite", "both"):
        with sqlite_store() as db:
            figures["sqlite"] = bench_store(db, args)
            console.print_json(json.dumps({"sqlite": figures["sqlite"]}, indent=1))
    if args.events > 0 and args.store in ("postgresql", "both") and postgres_available():
        with postgres_store() as db:
            figures["postgresql"] = bench_store(db, args)
            console.print_json(json.dumps({"postgresql": figures["postgresql"]}, indent=1))
    if args.jobs > 0:
        stores = [("sqlite", sqlite_store)] if args.store in ("sqlite", "both") else []
        if args.store in ("postgresql", "both") and postgres_available():
            stores.append(("postgresql", postgres_store))
        for name, store in stores:
            with store() as db:
                figures[f"{name}_production"] = production_messages(db, args.jobs)
            console.print_json(json.dumps({f"{name}_production": figures[f"{name}_production"]}))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    path = out / f"feed-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(figures, indent=1))
    console.print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
