"""Idle benchmark: the CPU an idle `isom serve --demo` (agents on) uses with nothing happening.

    .venv/bin/python bench/idle.py [--seconds 60] [--store sqlite|postgresql]

Starts `isom serve --demo` on a fresh store and a free port, waits until it answers
`/healthz`, then reads the server's own CPU time (user + system, `psutil`) over the first
`--seconds` after start-up and over the next `--seconds`, and prints both as a share of one
core. Nobody sends a request: what it measures is the background work (agents, re-planner,
projectors) of a plant where nothing happens.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import console, postgres_store  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, timeout: float = 120.0) -> None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def cpu_seconds(proc: psutil.Process) -> float:
    """CPU time of the server and its children (user + system)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def measure(url: str, seconds: float) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "ISOM_DATABASE_URL": url, "ISOM_AGENTS": "on"}
    server = subprocess.Popen(
        [sys.executable, "-m", "isom.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port)
        proc = psutil.Process(server.pid)
        start = cpu_seconds(proc)
        console.print(f"  server up on :{port}; measuring the first {seconds:.0f} s")
        time.sleep(seconds)
        first = cpu_seconds(proc)
        console.print(f"  first {seconds:.0f} s: {(first - start) / seconds:.1%} of a core")
        time.sleep(seconds)
        second = cpu_seconds(proc)
        console.print(f"  next {seconds:.0f} s: {(second - first) / seconds:.1%} of a core")
        return {"first": (first - start) / seconds, "next": (second - first) / seconds}
    finally:
        server.terminate()
        server.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    console.print(f"idle `isom serve --demo` with agents on, store {args.store}")
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            measure(f"sqlite:///{tmp}/idle.db", args.seconds)
    else:
        with postgres_store() as db:
            measure(db.url, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
