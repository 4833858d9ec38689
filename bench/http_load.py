"""HTTP throughput of a real `isom serve`: keyed receives and moves, container and item reads.

    .venv/bin/python bench/http_load.py [--store sqlite|postgresql|both] [--clients 16 [64 ...]]
        [--events 2000] [--reads 4000] [--batch 500] [--group-commit on|off|both]
        [--workers 1] [--isom PATH]

For each store it makes a fresh database, migrates it and seeds the ledger bench's small plant,
measures the raw single-row INSERT + COMMIT rate of that database (the physical limit of one
durable event per transaction), then starts `isom serve --no-agents` on it as a subprocess and
drives it over loopback from `--clients` concurrent keep-alive connections (asyncio + httpx):

1. receives, one new container per request, each with its own `Idempotency-Key`;
2. moves of those containers to another bin, keyed;
3. moves through the batch door (`POST /api/v1/ledger/batch`), `--batch` keyed moves per
   request: its events/s is set beside the raw commit rate, which only group commit can pass;
4. authenticated reads of a container (`GET /api/v1/containers/{code}`) and of the inventory
   of one item (`GET /api/v1/inventory?item=...`), sent by a lean HTTP/1.1 client of its own
   (httpx costs the client more CPU per request than the server spends on a read).

Receives and moves (one command per request) and the batch door run once per `--clients` count;
the reads with the first. `--group-commit` runs the server with the writer on (default, see
`isom.writer`), off (`ISOM_GROUP_COMMIT=0`, one transaction per command), or both in turn.

It reports per kind the requests per second, p50/p95/max latency, the server's CPU per request
(the processes' own clock, so a busy machine shows in the rate, not here) and the client's, beside
the raw commit rate of the same store. `--isom` points at another build's `isom` to measure a
before/after pair. Figures go to `bench/out/http-<time>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvloop  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.ledger import (  # noqa: E402
    Plant,
    console,
    machine,
    postgres_available,
    postgres_store,
    progress,
    raw_insert_rate,
    seed,
    sqlite_store,
)
from isom import schema  # noqa: E402
from isom.auth import services as auth_service  # noqa: E402
from isom.db import Database  # noqa: E402

OUT = ROOT / "bench" / "out"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Figure:
    store: str
    kind: str
    requests: int
    per_s: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    errors: int
    server_cpu_ms: float
    client_cpu_ms: float
    raw_commit_per_s: float
    clients: int = 0
    group_commit: bool = True
    events_per_request: int = 1


#: The kinds that write, set beside the raw commit rate.
WRITES = ("receive", "move", "batch move")

Call = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
#: A read: the path (with its query) of request i, sent by a lean client (`_Lean`).
Target = Callable[[int], str]
READS = ("container read", "inventory by item")


# ---------------------------------------------------------------------------------------------
# The server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its children (the worker processes of `--workers N`)."""
    total = 0.0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


@contextmanager
def served(db: Database, isom: str, workers: int, group: bool) -> Iterator[tuple[str, int]]:
    """`isom serve` on `db` in a subprocess: its base URL and pid; stopped at the end."""
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="isom-http-bench-", suffix=".log")[1])
    env = {
        **os.environ,
        "ISOM_DATABASE_URL": db.url,
        "ISOM_LOG_LEVEL": "WARNING",
        "ISOM_GROUP_COMMIT": "1" if group else "0",
    }
    args = [isom, "serve", "--no-agents", "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"isom serve did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# The clients


async def _drive(
    url: str, headers: dict[str, str], n: int, clients: int, call: Call, bar: Callable[[], Any]
) -> tuple[list[float], list[str]]:
    """Run call(client, 0..n-1) from `clients` concurrent connections; latencies and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as c:

        async def worker() -> None:
            for i in counter:
                began = time.perf_counter()
                try:
                    r = await call(c, i)
                except httpx.TransportError as exc:  # e.g. a kept-alive connection it closed
                    errors.append(f"{type(exc).__name__} {exc}")
                else:
                    if r.status_code >= 300:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                latencies.append(time.perf_counter() - began)
                bar()

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors


class _Lean:
    """One kept-alive HTTP/1.1 connection that sends GETs and reads each answer by its
    Content-Length: httpx spends about 5 ms of client CPU a request, so 16 of its clients
    could not ask more than a few hundred a second and the bench would measure itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, url: str, headers: dict[str, str]) -> _Lean:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        lines = [f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
        return cls(reader, writer, ("\r\n".join(lines) + "\r\n\r\n").encode())

    async def get(self, path: str) -> tuple[int, bytes]:
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.head)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _drive_lean(
    url: str, headers: dict[str, str], n: int, clients: int, target: Target, bar: Callable[[], Any]
) -> tuple[list[float], list[str]]:
    """GET target(0..n-1) from `clients` lean connections; latencies and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(n))

    async def worker() -> None:
        conn = await _Lean.open(url, headers)
        try:
            for i in counter:
                began = time.perf_counter()
                status, body = await conn.get(target(i))
                if status >= 300:
                    errors.append(f"{status} {body[:200]!r}")
                latencies.append(time.perf_counter() - began)
                bar()
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, errors


def run_kind(
    store: str, kind: str, url: str, pid: int, headers: dict[str, str], n: int, clients: int,
    call: Call | Target, raw: float, per_request: int = 1,
) -> Figure:  # fmt: skip
    """`n` requests of one kind; a figure per event (`per_request` events in each request)."""
    with progress() as bars:
        task = bars.add_task(f"{store} {kind} ({clients} clients)", total=n)
        server_before, client_before = _cpu_seconds(pid), time.process_time()
        began = time.perf_counter()
        drive = _drive_lean if kind in READS else _drive
        latencies, errors = uvloop.run(
            drive(url, headers, n, clients, call, lambda: bars.advance(task))  # type: ignore[arg-type]
        )
        elapsed = time.perf_counter() - began
        server_cpu = _cpu_seconds(pid) - server_before
        client_cpu = time.process_time() - client_before
    if errors:
        console.print(f"[red]{kind}: {len(errors)} errors, first: {errors[0]}[/red]")
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    events = n * per_request
    return Figure(
        store=store,
        kind=kind,
        requests=n,
        per_s=events / elapsed,
        p50_ms=cuts[49] * 1000,
        p95_ms=cuts[94] * 1000,
        max_ms=max(latencies) * 1000,
        errors=len(errors),
        server_cpu_ms=server_cpu / events * 1000,
        client_cpu_ms=client_cpu / events * 1000,
        raw_commit_per_s=raw,
        clients=clients,
        events_per_request=per_request,
    )


def calls(plant: Plant, containers: list[list[Any]], batch: int) -> dict[str, Call | Target]:
    """The kinds of request; receives fill `containers` ([code, bin]), which the others use."""
    untracked = [code for _id, code, tracked in plant.items if not tracked]
    bins = plant.bins

    async def receive(c: httpx.AsyncClient, i: int) -> httpx.Response:
        body = {
            "location": bins[i % len(bins)],
            "lines": [{"item": untracked[i % len(untracked)], "quantity": "5"}],
        }
        r = await c.post(
            "/api/v1/ledger/receive", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        if r.status_code < 300:
            containers.append([r.json()["containers"][0], i % len(bins)])
        return r

    moved = [0]  # moves so far, one request or batched: the rotation goes on across kinds

    def next_move() -> dict[str, str]:
        """Each container in turn to the bin after its own: never onto itself."""
        i, moved[0] = moved[0], moved[0] + 1
        container = containers[i % len(containers)]
        container[1] = (container[1] + 1) % len(bins)
        return {"container": container[0], "to_location": bins[container[1]]}

    async def move(c: httpx.AsyncClient, i: int) -> httpx.Response:
        return await c.post(
            "/api/v1/ledger/move", json=next_move(), headers={"Idempotency-Key": uuid.uuid4().hex}
        )

    async def batch_move(c: httpx.AsyncClient, i: int) -> httpx.Response:
        commands = [
            {"key": uuid.uuid4().hex, "operation": "move", "body": next_move()}
            for _ in range(batch)
        ]
        r = await c.post("/api/v1/ledger/batch", json={"commands": commands})
        if r.status_code < 300 and r.json()["refused"]:
            first = next(a for a in r.json()["answers"] if a["outcome"] == "refused")
            return httpx.Response(409, json=first["body"])  # counted as an error
        return r

    def container_read(i: int) -> str:
        code, _ = containers[(i * 7919) % len(containers)]
        return f"/api/v1/containers/{quote(code)}"

    def inventory_read(i: int) -> str:
        return f"/api/v1/inventory?item={quote(untracked[i % len(untracked)])}"

    return {
        "receive": receive,
        "move": move,
        "batch move": batch_move,
        "container read": container_read,
        "inventory by item": inventory_read,
    }


# ---------------------------------------------------------------------------------------------
# One store


def bench_store(store: str, db: Database, args: argparse.Namespace) -> list[Figure]:
    schema.upgrade(db)
    plant = seed(db)
    secret, _ = db.write(
        lambda s: auth_service.create_api_token(s, name="bench-clerk", roles=["clerk"])
    )
    raw_clients = 1 if db.is_sqlite else min(args.clients[0], 16)
    raw = raw_insert_rate(db, args.raw, raw_clients)
    db.dispose()  # the server owns the connections from here on
    headers = {"Authorization": f"Bearer {secret}"}
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.group_commit]
    figures = []
    for group in modes:
        containers: list[list[Any]] = []
        kinds = calls(plant, containers, args.batch)
        with served(db, args.isom, args.workers, group) as (url, pid):
            for clients in args.clients:
                for kind in WRITES:
                    per_request = args.batch if kind == "batch move" else 1
                    n = max(1, args.events // per_request)
                    figure = run_kind(
                        store, kind, url, pid, headers, n, clients, kinds[kind], raw, per_request
                    )
                    figure.group_commit = group
                    figures.append(figure)
            for kind in READS:
                figure = run_kind(
                    store, kind, url, pid, headers, args.reads, args.clients[0], kinds[kind], raw
                )
                figure.group_commit = group
                figures.append(figure)
    return figures


def report(figures: list[Figure], args: argparse.Namespace) -> None:
    table = Table(title=f"isom serve over HTTP, {args.workers} process(es); /s = events per second")
    columns = ("store", "group", "kind", "clients", "requests", "/s", "p50 ms", "p95 ms", "max ms")
    for col in (*columns, "errors", "server CPU ms", "client CPU ms", "raw commit /s", "/s ÷ raw"):
        table.add_column(col, justify="left" if col in ("store", "group", "kind") else "right")
    for f in figures:
        table.add_row(
            f.store,
            "on" if f.group_commit else "off",
            f.kind + (f" ×{f.events_per_request}" if f.events_per_request > 1 else ""),
            str(f.clients),
            str(f.requests),
            f"{f.per_s:,.0f}",
            f"{f.p50_ms:.1f}",
            f"{f.p95_ms:.1f}",
            f"{f.max_ms:.0f}",
            str(f.errors),
            f"{f.server_cpu_ms:.2f}",
            f"{f.client_cpu_ms:.2f}",
            f"{f.raw_commit_per_s:,.0f}",
            f"{f.per_s / f.raw_commit_per_s:.2f}" if f.kind in WRITES else "",
        )
    Console(width=200).print(table)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    console.print(f"uptime: {uptime}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"http-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    body = {
        "args": {k: v for k, v in vars(args).items()},
        "machine": machine(),
        "uptime": uptime,
        "figures": [asdict(f) for f in figures],
    }
    path.write_text(json.dumps(body, indent=2))
    console.print(f"written to {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[16], help="concurrent connections (16-64)"
    )
    parser.add_argument("--events", type=int, default=2000, help="receives, then as many moves")
    parser.add_argument("--reads", type=int, default=4000, help="requests per read kind")
    parser.add_argument("--raw", type=int, default=2000, help="raw single-row commits")
    parser.add_argument("--batch", type=int, default=500, help="moves per batch-door request")
    parser.add_argument(
        "--group-commit", choices=["on", "off", "both"], default="on", help="the server's writer"
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL)")
    parser.add_argument(
        "--isom", default=str(Path(sys.executable).with_name("isom")), help="the isom to serve"
    )
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    if args.store in ("sqlite", "both"):
        with sqlite_store() as db:
            figures += bench_store("sqlite", db, args)
    if args.store in ("postgresql", "both") and postgres_available():
        with postgres_store() as db:
            figures += bench_store("postgresql", db, args)
    report(figures, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
