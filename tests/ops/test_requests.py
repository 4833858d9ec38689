"""Every answer carries a request id; a failure nobody foresaw is problem+json naming the id that
the logged traceback carries, so an operator finds the cause from what the user quotes."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.logs import JsonFormatter
from isom.web.app import create_app


def _failing_client(db: Database) -> TestClient:
    app = create_app(db)

    @app.get("/api/v1/test-only/boom")
    def boom() -> None:
        raise RuntimeError("the disk caught fire")

    return TestClient(app)


def test_an_unexpected_error_is_problem_json_whose_request_id_is_in_the_log(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    client = _failing_client(db)
    with caplog.at_level(logging.INFO):
        r = client.get("/api/v1/test-only/boom")

    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    rid = r.headers["x-request-id"]
    assert body["code"] == "internal-error"
    assert body["request_id"] == rid
    assert rid in body["detail"]
    assert "disk" not in r.text  # the cause stays in the log
    failures = [rec for rec in caplog.records if rec.levelno == logging.ERROR]
    assert len(failures) == 1
    line = json.loads(JsonFormatter().format(failures[0]))
    assert line["request_id"] == rid
    assert "RuntimeError: the disk caught fire" in line["exception"]
    access = [rec for rec in caplog.records if getattr(rec, "route", None)]
    assert [(a.request_id, a.status, a.route) for a in access] == [  # type: ignore[attr-defined]
        (rid, 500, "/api/v1/test-only/boom")
    ]


def test_a_sane_incoming_request_id_is_kept_and_an_insane_one_replaced(db: Database) -> None:
    client = TestClient(create_app(db))
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    for bad in ("a b", "x" * 300, "<script>", ""):
        r = client.get("/healthz", headers={"X-Request-ID": bad})
        assert r.headers["x-request-id"] != bad
        assert len(r.headers["x-request-id"]) == 32
    assert (
        client.get("/healthz").headers["x-request-id"]
        != client.get("/healthz").headers["x-request-id"]
    )


def test_errors_a_client_causes_keep_their_problem_and_carry_the_id_too(db: Database) -> None:
    r = TestClient(create_app(db)).get("/api/v1/containers/NOPE", headers={"X-Request-ID": "r-1"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-request-id"] == "r-1"


def test_json_log_lines_carry_extras_and_no_request_id_outside_a_request() -> None:
    record = logging.getLogger("isom.test").makeRecord(
        "isom.test",
        logging.WARNING,
        __file__,
        1,
        "feed %s behind",
        ("nats",),
        None,
        extra={"seconds": 12.5},
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "feed nats behind"
    assert line["level"] == "WARNING"
    assert line["seconds"] == 12.5
    assert line["request_id"] is None
    assert line["time"].endswith("+00:00")
