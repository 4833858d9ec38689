"""A real `isom serve` on an empty database, as a plant would start it in production.

It creates no known password and prints no log-in, and an oversized body is refused before
the server's memory grows: measured on the server process itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_database_url

ISOM = Path(sys.executable).with_name("isom")
MiB = 1024 * 1024


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def rss(self) -> int:
        """The server's resident memory in bytes (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        return int(kib) * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`isom serve` (no --demo) on a new, empty database."""
    directory = tmp_path_factory.mktemp("serve")
    with fresh_database_url(directory) as url:
        port = _free_port()
        log = directory / "serve.log"
        env = {**os.environ, "ISOM_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(ISOM), "serve", "--no-agents", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_until_up(server)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 240  # imports and migrations are slow on a busy machine
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"isom serve exited:\n{server.output()}")
        try:
            httpx.get(f"{server.url}/login", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"isom serve did not start:\n{server.output()}")


def test_a_production_start_has_no_known_password(server: Server) -> None:
    r = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": "admin", "password": "admin-demo"}
    )

    assert r.status_code == 401
    output = server.output()
    assert "admin-demo" not in output and "log-ins" not in output
    assert "no users yet: add the first administrator with `isom users add" in output


def _post_raw(server: Server, path: str, head: list[str], body: Iterator[bytes]) -> bytes:
    """Send a request by hand (the server may answer before the body ends); its answer."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: text/csv", *head]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            for chunk in body:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it answered and closed: what we want
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


def _chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + b"x" * size + b"\r\n"
    yield b"0\r\n\r\n"


def _announced(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


@pytest.mark.slow
def test_an_oversized_body_is_refused_before_the_server_grows(server: Server) -> None:
    reconcile = "/api/v1/reconciliations"
    warm = _post_raw(server, reconcile, ["Content-Length: 100000000"], iter([b"x"]))
    assert warm.startswith(b"HTTP/1.1 413")
    before = server.rss()

    announced = _post_raw(server, reconcile, [f"Content-Length: {64 * MiB}"], _announced(64 * MiB))
    streamed = _post_raw(
        server, "/api/v1/auth/login", ["Transfer-Encoding: chunked"], _chunked(64 * MiB)
    )
    grown = server.rss() - before

    for answer in (announced, streamed):
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"application/problem+json" in head and b'"code":"body_too_large"' in body
    assert grown < 4 * MiB, f"the server grew by {grown / MiB:.1f} MiB"
