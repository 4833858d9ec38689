"""MQTT ingest benchmark: scans per second end to end, and latency, on SQLite and PostgreSQL.

    .venv/bin/python bench/ingest.py [--events 900] [--rate 30] [--batch 50]
        [--store sqlite|postgresql|both]

For each store: a fresh database migrated with `isom.schema.upgrade`, the demo plant's master
data, its devices (`isom.devices.seed.seed_demo`), 8 bench scanners and 24 containers in the
store. An `IngestWorker` (the one `isom devices listen` runs) subscribes at the real broker
(127.0.0.1:1883): four lanes (threads) handing their messages to the process's writer (group
commit; one lane on SQLite with ISOM_GROUP_COMMIT=0); a device's events always take the same
lane, so they apply in order. A publisher sends scan events (`action: move`, one
ledger move each) from the 8 scanners with QoS 1 and listens on their reply topics. The worker
replies only after the event's transaction committed, so reply time - publish time bounds
"publish to committed event".

Three runs per store:
1. saturation: all events published at once; throughput = events / (last reply - first publish),
   latency includes the queue;
2. paced: events at a fixed rate below saturation; latency p50 / p95 / max;
3. batch: as many events again, sent as batch messages of `--batch` scans each
   (`isom/<site>/<device>/batch`), every scan answered on its own; latency per scan.
Figures are printed and written to `bench/out/ingest-<time>.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from isom import schema  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.demo import DATA  # noqa: E402
from isom.devices import services as devices  # noqa: E402
from isom.devices.models import DeviceKind  # noqa: E402
from isom.devices.mqtt import IngestWorker  # noqa: E402
from isom.devices.schemas import DeviceIn  # noqa: E402
from isom.devices.seed import seed_demo  # noqa: E402
from isom.ledger import services as ledger  # noqa: E402
from isom.ledger.schemas import ReceiveCommand, ReceiveLine  # noqa: E402
from isom.masterdata import imports as md_import  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BROKER = ("127.0.0.1", 1883)
#: This run's topic root: a running `isom devices listen` on the same broker sees nothing.
TOPIC_ROOT = os.environ.setdefault("ISOM_MQTT_ROOT", f"isombench-{uuid.uuid4().hex[:8]}")
CONTAINERS = 24
SCANNERS = 8
console = Console()


def fresh_db(store: str) -> tuple[Database, Any]:
    if store == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="isom-bench-ingest-")) / "isom.db"
        return Database(f"sqlite:///{path}"), None
    name = f"isom_bench_ingest_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"), drop


def prepare(db: Database) -> dict[str, str]:
    """Master data, the demo's devices, 8 bench scanners and containers; scanner tokens."""
    schema.upgrade(db)
    data = json.loads(DATA.read_text())

    def load(s: Session) -> dict[str, str]:
        for kind in md_import.KINDS:
            if data.get(kind):
                md_import.import_rows(s, kind, data[kind])
        seed_demo(s)
        tokens = {}
        for n in range(SCANNERS):
            made = devices.register_device(
                s, DeviceIn(code=f"SCN-B{n}", kind=DeviceKind.scanner, site="KW1")
            )
            tokens[made.code] = made.token or ""
        actor = ledger.Actor(name="bench")
        for n in range(CONTAINERS):
            cmd = ReceiveCommand(
                container=f"BT-{n:03d}",
                location="A-01",
                lines=[ReceiveLine(item="TERM-JST", quantity=100)],  # type: ignore[arg-type]
            )
            ledger.receive(s, actor, f"bench-rcv-{n}", cmd)
        return tokens

    return db.write(load)


class Publisher:
    """Publishes move scans and times each reply against its publish."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.devices = sorted(tokens)
        self.sent: dict[str, float] = {}
        self.answered: dict[str, float] = {}
        self.statuses: dict[str, int] = {}
        self.lock = threading.Lock()
        ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex}"
        )
        self.client.on_message = self._on_reply
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.max_inflight_messages_set(1000)
        self.client.connect(*BROKER)
        self.client.loop_start()
        self.client.subscribe(f"{TOPIC_ROOT}/KW1/+/reply", qos=1)
        ready.wait(5)
        self.n = 0

    def _on_reply(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        body = json.loads(msg.payload)
        with self.lock:
            self.answered.setdefault(body["eventID"], now)
            self.statuses[body["status"]] = self.statuses.get(body["status"], 0) + 1

    def _next(self) -> tuple[str, dict[str, Any]]:
        """The next move scan and its scanner."""
        n = self.n
        self.n += 1
        # Scanner k moves its own containers (every SCANNERS-th), so lanes never share one.
        device = self.devices[n % SCANNERS]
        body = {
            "eventID": f"b-{uuid.uuid4().hex}",
            "codes": [f"BT-{n % CONTAINERS:03d}", "A-02" if (n // CONTAINERS) % 2 == 0 else "A-01"],
            "action": "move",
        }
        return device, body

    def publish(self) -> None:
        device, body = self._next()
        self.sent[body["eventID"]] = time.perf_counter()
        body["token"] = self.tokens[device]
        self.client.publish(f"{TOPIC_ROOT}/KW1/{device}/scan", json.dumps(body), qos=1)

    def publish_batches(self, events: int, size: int) -> None:
        """`events` scans as batch messages of `size`, each scanner's in its own messages."""
        queued: dict[str, list[dict[str, Any]]] = {}
        for _ in range(events):
            device, body = self._next()
            queued.setdefault(device, []).append(body)
        for device, bodies in queued.items():
            for start in range(0, len(bodies), size):
                chunk = bodies[start : start + size]
                now = time.perf_counter()
                for body in chunk:
                    self.sent[body["eventID"]] = now
                message = {"token": self.tokens[device], "events": chunk}
                self.client.publish(f"{TOPIC_ROOT}/KW1/{device}/batch", json.dumps(message), qos=1)

    def wait(
        self, total: int, progress: Progress, task: Any, base: int = 0, timeout: float = 600
    ) -> None:
        end = time.monotonic() + timeout
        while len(self.answered) < total and time.monotonic() < end:
            progress.update(task, completed=len(self.answered) - base)
            time.sleep(0.05)
        progress.update(task, completed=len(self.answered) - base)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def figures(pub: Publisher, ids: list[str]) -> dict[str, float]:
    lat = sorted((pub.answered[i] - pub.sent[i]) * 1000 for i in ids if i in pub.answered)
    first = min(pub.sent[i] for i in ids)
    last = max(pub.answered[i] for i in ids if i in pub.answered)
    return {
        "events": len(ids),
        "answered": len(lat),
        "per_second": round(len(lat) / (last - first), 1),
        "p50_ms": round(statistics.median(lat), 1),
        "p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1),
        "max_ms": round(lat[-1], 1),
    }


def run_store(store: str, events: int, rate: float, batch: int) -> dict[str, Any]:
    db, drop = fresh_db(store)
    try:
        tokens = prepare(db)
        client_id = f"bench-ingest-{uuid.uuid4().hex[:8]}"
        worker = IngestWorker(db, client_id=client_id).start()
        pub = Publisher(tokens)
        out: dict[str, Any] = {"store": store}
        try:
            with Progress(
                "[bold]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task(f"{store}: saturation", total=events)
                for _ in range(events):
                    pub.publish()
                ids = list(pub.sent)
                pub.wait(events, progress, task)
                out["saturation"] = figures(pub, ids)
                paced = max(50, events // 4)
                task = progress.add_task(f"{store}: paced {rate:g}/s", total=paced)
                before = set(pub.sent)
                for _ in range(paced):
                    pub.publish()
                    time.sleep(1 / rate)
                    progress.update(task, completed=len(set(pub.answered) - before))
                ids = [i for i in pub.sent if i not in before]
                pub.wait(events + paced, progress, task, base=events)
                out["paced"] = {**figures(pub, ids), "rate": rate}
                task = progress.add_task(f"{store}: batches of {batch}", total=events)
                before = set(pub.sent)
                base = len(pub.answered)
                pub.publish_batches(events, batch)
                ids = [i for i in pub.sent if i not in before]
                pub.wait(base + events, progress, task, base=base)
                out["batch"] = {**figures(pub, ids), "size": batch}
                out["statuses"] = dict(pub.statuses)
        finally:
            pub.close()
            worker.stop()
            forget = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
            )
            forget.connect(*BROKER)
            forget.disconnect()
        return out
    finally:
        db.dispose()
        if drop:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--events",
        type=int,
        default=900,
        help="saturation burst; keep it under the broker's max_queued_messages (1000 by default)",
    )
    parser.add_argument("--rate", type=float, default=50.0, help="paced run, events per second")
    parser.add_argument("--batch", type=int, default=50, help="scans per batch message")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    results = [run_store(s, args.events, args.rate, args.batch) for s in stores]
    table = Table(title="MQTT ingest: move scans, publish -> committed -> reply")
    for col in ("store", "run", "events", "per second", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="right")
    for r in results:
        for run in ("saturation", "paced", "batch"):
            f = r[run]
            table.add_row(
                r["store"],
                run,
                str(f["answered"]),
                str(f["per_second"]),
                str(f["p50_ms"]),
                str(f["p95_ms"]),
                str(f["max_ms"]),
            )
    console.print(table)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    console.print(f"uptime: {uptime}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"ingest-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2))
    console.print(f"written {path}")


if __name__ == "__main__":
    main()
