"""A broker restart mid-stream against a private, persistent Mosquitto: nothing lost, nothing
applied twice, every event answered.

The shared broker at 127.0.0.1:1883 cannot be restarted by a test, so this test runs its own
Mosquitto (the real binary) on a free port with persistence in tmp_path, stops it while scans are
in flight and starts it again on the same port with the same persistence file.
"""

from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from isom.db import Database
from isom.devices.models import DeadLetter, DeviceMessage
from isom.devices.mqtt import IngestWorker
from isom.ledger import queries as ledger_queries
from isom.ledger.models import Event, EventKind
from tests.devices.conftest import IN_CI, ROOT
from tests.devices.support import receive

MOSQUITTO = "/usr/sbin/mosquitto"
SITE = "KW1"
DEVICE = "SCN-FLOOR"
PLACES = ("A-01", "A-02", "A-03", "B-01")
BEFORE, DURING, AFTER = 24, 12, 12  # scans published before the stop, while down, after restart
TOTAL = BEFORE + DURING + AFTER


def mosquitto_or_skip() -> str:
    """The Mosquitto binary; skip when it is missing, fail under CI=true."""
    binary = MOSQUITTO if Path(MOSQUITTO).is_file() else shutil.which("mosquitto")
    if binary is None:
        message = f"the Mosquitto broker binary is missing ({MOSQUITTO})"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)", pytrace=False)
        pytest.skip(f"{message}; install mosquitto to run the broker restart test")
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A private Mosquitto with persistence in `home`; stop and start keep port and store."""

    def __init__(self, binary: str, home: Path) -> None:
        self.binary = binary
        self.home = home
        self.port = free_port()
        self.config = home / "mosquitto.conf"
        self.config.write_text(
            "\n".join(
                [
                    f"user {getpass.getuser()}",  # as root it would switch to `mosquitto`
                    "persistence true",
                    f"persistence_location {home}/",
                    "persistence_file broker.db",
                    "autosave_interval 1",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous true",
                    "",
                ]
            )
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.home / f"broker-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        text = (self.home / f"broker-{self.starts}.log").read_text(errors="replace")
        raise RuntimeError(f"Mosquitto did not listen on port {self.port}:\n{text}")

    def stop(self) -> None:
        """Terminate the broker (SIGTERM); it writes its persistence file as it exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Scanner:
    """A scanner with a persistent session: QoS 1 both ways, reconnects and resubscribes.

    Its client keeps what it published until the broker acknowledged it and sends it again after
    a reconnect, as a device's MQTT stack does; every answer on its reply topic is collected.
    """

    def __init__(self, port: int) -> None:
        self.reply_topic = f"{ROOT}/{SITE}/{DEVICE}/reply"
        self.answers: dict[str, list[str]] = defaultdict(list)
        self.connects = 0
        self.lock = threading.Lock()
        self.sent: list[int] = []
        self.acknowledged: set[int] = set()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"scanner-{uuid.uuid4().hex[:8]}",
            clean_session=False,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(5), "the scanner could not subscribe to its reply topic"

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            with self.lock:
                self.connects += 1
            client.subscribe(self.reply_topic, qos=1)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        with self.lock:
            self.answers[str(body["eventID"])].append(str(body["status"]))

    def _on_publish(self, _c: Any, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        with self.lock:
            self.acknowledged.add(mid)

    def scan(self, body: dict[str, Any]) -> None:
        """Publish one scan with QoS 1; queued by the client while the broker is away."""
        info = self.client.publish(f"{ROOT}/{SITE}/{DEVICE}/scan", json.dumps(body), qos=1)
        self.sent.append(info.mid)

    def delivered(self) -> int:
        """How many scans the broker acknowledged (PUBACK)."""
        with self.lock:
            return len(self.acknowledged.intersection(self.sent))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def target(n: int) -> str:
    return PLACES[n % len(PLACES)]


def put_away(token: str, n: int) -> dict[str, Any]:
    """Scan n moves its own container RS-n from the dock to a rack."""
    return {
        "eventID": f"rs-{n}",
        "token": token,
        "codes": [f"RS-{n:03d}", target(n)],
        "action": "move",
    }


def count(db: Database, model: Any) -> int:
    return int(db.read(lambda s: s.scalar(select(func.count()).select_from(model))) or 0)


def wait_until(condition: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(mosquitto_or_skip(), tmp_path)
    b.start()
    yield b
    b.stop()


def test_a_broker_restart_mid_stream_loses_nothing_and_applies_nothing_twice(
    db: Database, plant: dict[str, str], broker: Broker
) -> None:
    for n in range(TOTAL):
        receive(db, f"RS-{n:03d}", "TERM-JST", "10", "DOCK-IN")
    token = plant[DEVICE]
    worker = IngestWorker(db, host="127.0.0.1", port=broker.port, client_id="isom-ingest").start()
    scanner = Scanner(broker.port)
    try:
        for n in range(BEFORE):
            scanner.scan(put_away(token, n))
        wait_until(lambda: worker.handled >= 4, 10, "the worker to apply the first scans")
        broker.stop()  # mid-stream: scans sit in the broker's queue, the lane and the scanner
        handled_at_stop = worker.handled
        for n in range(BEFORE, BEFORE + DURING):
            scanner.scan(put_away(token, n))  # the scanner holds these until it reconnects
        time.sleep(0.3)
        broker.start()  # same port, same persistence file
        for n in range(BEFORE + DURING, TOTAL):
            scanner.scan(put_away(token, n))
        wait_until(lambda: scanner.delivered() == TOTAL, 20, "the broker to take every scan")
        wait_until(
            lambda: count(db, DeviceMessage) == TOTAL and len(scanner.answers) == TOTAL,
            20,
            "every scan to be applied and answered",
        )
        time.sleep(0.3)  # a late duplicate would show up here
    finally:
        scanner.close()
        worker.stop()

    assert handled_at_stop < BEFORE, "the broker must stop while scans are still in flight"
    assert scanner.connects >= 2 and broker.starts == 2
    # Nothing lost, nothing applied twice: one device message and one ledger move per scan.
    messages = db.read(lambda s: list(s.scalars(select(DeviceMessage.event_id))))
    assert sorted(messages) == sorted(f"rs-{n}" for n in range(TOTAL))
    moves = db.read(
        lambda s: list(s.scalars(select(Event.key).where(Event.kind == EventKind.move)))
    )
    assert sorted(moves) == sorted(f"dev:{DEVICE}:rs-{n}:move:0" for n in range(TOTAL))
    containers = db.read(
        lambda s: [ledger_queries.container(s, f"RS-{n:03d}") for n in range(TOTAL)]
    )
    for n, container in enumerate(containers):
        assert container.location == target(n)
        assert [c.quantity for c in container.contents] == [Decimal("10")]
        assert [(e.kind, e.device) for e in container.history] == [
            (EventKind.move, DEVICE),
            (EventKind.receive, None),
        ]
    # Every scan answered on the reply topic; a redelivery is answered as a replay, never again.
    answers = dict(scanner.answers)
    assert set(answers) == {f"rs-{n}" for n in range(TOTAL)}
    assert all(set(statuses) <= {"accepted", "replayed"} for statuses in answers.values())
    assert all("accepted" in statuses for statuses in answers.values())
    assert count(db, DeadLetter) == 0
