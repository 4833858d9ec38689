"""Poison messages on the real Mosquitto: each one answered and dead-lettered byte for byte, and
another device's scans answered within a second, before and after a worker restart."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from isom.db import Database
from isom.devices.models import DeadLetter
from isom.devices.mqtt import IngestWorker
from isom.ledger import queries as ledger_queries
from isom.web.app import create_app
from tests.builders import token
from tests.devices.mqtt_support import Device, count
from tests.devices.support import receive

POISONER = "SCN-RECV"


def poison(secret: str) -> list[bytes]:
    """25 payloads a careless or hostile device could send, none of them applicable."""
    nul = json.dumps({"eventID": "nul-1", "token": secret, "codes": ["T-1\x00"], "action": "move"})
    return [
        b"[" * 100_000 + b"]" * 100_000,  # nested too deep to parse
        b'{"a":' * 40_000 + b"1" + b"}" * 40_000,
        nul.encode(),  # NUL in a code: PostgreSQL text refuses it
        json.dumps({"eventID": "nul\x00id", "codes": ["T-1"]}).encode(),
        json.dumps({"\x00": 1, "eventID": "nul-key", "token": secret, "codes": ["x"]}).encode(),
        b'{"eventID": "raw\x00nul", "codes": ["T-1"]}',  # a raw NUL byte: not JSON
        b"\x00" * 64,
        bytes(range(256)) * 4,  # binary
        b'{"eventID": "\xc3\x28", "codes": ["T-1"]}',  # invalid UTF-8
        b'{"eventID": "\\ud800", "codes": ["\\udfff"], "action": "move"}',  # lone surrogates
        b"x" * 1_000_000,  # a megabyte of noise
        json.dumps({"eventID": "big", "token": secret, "codes": ["A" * 1_000_000]}).encode(),
        b'{"token": "' + secret.encode() + b'", "eventID": ',  # cut off, with the token
        b"",
        b"null",
        b"[]",
        b'"just a string"',
        json.dumps({"eventID": 7, "codes": [{"deep": [[[1]]]}]}).encode(),
        json.dumps({"eventID": "e" * 500, "codes": ["T-1"]}).encode(),
        json.dumps(
            {"eventID": "neg", "token": secret, "codes": ["T-1"], "quantity": "-1e999999"}
        ).encode(),
        json.dumps(
            {"eventID": "huge", "token": secret, "codes": ["T-1"], "quantity": 10**400}
        ).encode(),
        json.dumps(
            {"eventID": "nan", "token": secret, "codes": ["T-1"], "quantity": "NaN"}
        ).encode(),
        b'{"eventID": "dup", "eventID": "dup2", "codes": ["T-1"]}',
        json.dumps(
            {"eventID": "ok-shape", "token": secret, "codes": ["NO-SUCH"], "action": "move"}
        ).encode(),
        b"\xef\xbb\xbf{}",  # a byte-order mark
    ]


def move(secret: str, n: int) -> dict[str, Any]:
    return {
        "eventID": f"good-{n}",
        "token": secret,
        "codes": ["T-1", f"A-0{1 + n % 2}"],
        "action": "move",
    }


def answered_within(device: Device, names: set[str], seconds: float) -> float:
    """Seconds until every eventID in `names` has its answer; fails past `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        with device.lock:
            seen = {r["eventID"] for r in device.replies}
        if names <= seen:
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError(f"no answer to {sorted(names - seen)} within {seconds}s")


def settle(worker: IngestWorker, messages: int, timeout: float = 20) -> None:
    """Wait until the worker has answered and acknowledged `messages` messages."""
    end = time.monotonic() + timeout
    while worker.handled < messages and time.monotonic() < end:
        time.sleep(0.02)
    time.sleep(0.1)  # the last acknowledgement leaves the client
    assert worker.handled == messages


def test_poison_from_one_device_never_stalls_another(
    db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    receive(db, "T-1", "TERM-JST", "100", "DOCK-IN")
    secret, good = plant[POISONER], plant["SCN-FLOOR"]
    bad = poison(secret)
    assert len(bad) == 25
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        for payload in bad:
            device.publish(POISONER, "scan", payload)
        device.publish("SCN-FLOOR", "scan", move(good, 0))
        assert answered_within(device, {"good-0"}, 1.0) < 1.0
        settle(worker, 26)
        worker.stop()
        assert count(db, DeadLetter) == 25
        # while the worker is down the broker keeps both devices' messages for it
        for payload in bad:
            device.publish(POISONER, "scan", payload)
        device.publish("SCN-FLOOR", "scan", move(good, 1))
        worker = IngestWorker(db, client_id=worker_id).start()
        assert answered_within(device, {"good-1"}, 1.0) < 1.0
        settle(worker, 26)
    finally:
        worker.stop()
    # nothing was left unacknowledged: a third start gets nothing again
    again = IngestWorker(db, client_id=worker_id).start()
    time.sleep(0.5)
    again.stop()
    assert again.handled == 0 and count(db, DeadLetter) == 50
    assert db.read(lambda s: ledger_queries.container(s, "T-1")).location == "A-02"
    replies = [r for r in device.replies if r["device"] == POISONER]
    assert len(replies) == 50 and {r["status"] for r in replies} == {"rejected"}
    assert all(r["error"]["detail"] and r["error"]["status"] for r in replies)
    letters = db.read(
        lambda s: s.execute(
            select(DeadLetter.device, DeadLetter.size, DeadLetter.raw, DeadLetter.payload).order_by(
                DeadLetter.id
            )
        ).all()
    )
    assert {d.device for d in letters} == {POISONER}
    for sent, letter in zip(bad + bad, letters, strict=True):
        assert letter.size == len(sent)
        assert letter.raw == sent.replace(secret.encode(), b"***")
        assert secret not in letter.payload


def test_an_admin_reads_the_dead_letters_byte_for_byte(
    db: Database, plant: dict[str, str], device: Device, worker_id: str
) -> None:
    secret = plant[POISONER]
    sent = b'{"eventID": "x\x00", "token": "' + secret.encode() + b'", "codes": [\xff'
    worker = IngestWorker(db, client_id=worker_id).start()
    try:
        device.publish(POISONER, "scan", sent)
        settle(worker, 1)
    finally:
        worker.stop()
    with TestClient(create_app(db)) as client:
        url = "/api/v1/devices/dead-letters"
        assert client.get(url, headers=token(db, "supervisor")).status_code == 403
        [letter] = client.get(url, headers=token(db, "admin"), params={"device": POISONER}).json()
    assert base64.b64decode(letter["raw_base64"]) == sent.replace(secret.encode(), b"***")
    assert letter["size"] == len(sent) and not letter["truncated"]
    assert letter["error"]["field"] == "payload" and letter["topic"].endswith("/scan")
