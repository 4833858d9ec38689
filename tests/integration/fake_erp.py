"""A small test ERP: a real HTTP server on a free local port that can fail on purpose.

It checks each webhook's signature, answers 500s, refuses chosen messages (422), answers
slowly, or is down (the port refuses connections) when told to; it records every message it
received and applies each message id once, as a real ERP deduplicating on the message id
(the BOD id) would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from isom.integration.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


class FakeErp:
    """Start with `with FakeErp(secret) as erp:`; `erp.url` is where to post."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.fail_next = 0  # answer this many requests with 500
        self.fail_always = False
        self.refuse: set[str] = set()  # message ids answered 422: the ERP refuses them
        self.lose_answer_next = 0  # apply these requests, then answer 500 (the answer is lost)
        self.delay = 0.0  # seconds to wait before answering
        self.bad_signatures = 0
        self.requests = 0
        self.received: list[dict[str, Any]] = []  # every message, duplicates included
        self.applied: dict[str, dict[str, Any]] = {}  # message id -> message, once
        self.order: dict[str, list[int]] = defaultdict(list)  # key -> seqs applied, in order
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/isom-feed"

    # --- life cycle: an outage closes the port, so the sender sees "connection refused" ---

    def start(self) -> None:
        erp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = erp.handle(
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                    self.headers.get(TIMESTAMP_HEADER, ""),
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeErp:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the ERP does with a request ---

    def handle(self, body: bytes, signature: str, stamp: str) -> int:
        with self.lock:
            self.requests += 1
            fail = self.fail_always or self.fail_next > 0
            if self.fail_next > 0:
                self.fail_next -= 1
        if self.delay:
            time.sleep(self.delay)
        if not verify_signature(self.secret, stamp, body, signature):
            with self.lock:
                self.bad_signatures += 1
            return 401
        if fail:
            return 500
        doc = json.loads(body)
        with self.lock:
            if any(msg["id"] in self.refuse for msg in doc["messages"]):
                return 422
            lose = self.lose_answer_next > 0
            if lose:
                self.lose_answer_next -= 1
            for msg in doc["messages"]:
                self.received.append(msg)
                if msg["id"] in self.applied:
                    continue  # a redelivery: applied once already
                self.applied[msg["id"]] = msg
                self.order[msg["key"]].append(msg["seq"])
        return 500 if lose else 200

    def applied_ids(self) -> set[str]:
        with self.lock:
            return set(self.applied)
