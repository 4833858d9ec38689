"""The MQTT ingest worker: device events in, answers out, nothing lost, nothing applied twice.

Topics: devices publish to `isom/<site>/<device>/{scan,rfid,weight,machine}` (QoS 1) and get
their answer on `isom/<site>/<device>/reply`; what cannot be applied is also published to
`isom/<site>/dead-letter` and kept in `dev_dead_letter`.

The worker keeps a persistent session (fixed client id, clean session off) and acknowledges a
message only after its transaction committed (paho's manual ack). A worker that drops before
that gets the message again from the broker on reconnect, and the (device, eventID) record
turns the redelivery into a replay of the stored answer.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import zlib
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from isom.db import Database
from isom.devices.ingest import ingest, parse_payload, rejected
from isom.devices.models import DeadLetter
from isom.devices.printing import print_after
from isom.devices.schemas import EVENT_TYPES, IngestAnswer
from isom.errors import InvalidInput, IsomError
from isom.types import utcnow

log = logging.getLogger(__name__)

KINDS = tuple(EVENT_TYPES)
DEFAULT_CLIENT_ID = "isom-ingest"


def broker_address() -> tuple[str, int]:
    """`ISOM_MQTT_HOST` / `ISOM_MQTT_PORT`, defaulting to the local broker."""
    return os.environ.get("ISOM_MQTT_HOST", "127.0.0.1"), int(
        os.environ.get("ISOM_MQTT_PORT", "1883")
    )


def topic_root() -> str:
    """The first topic level, `isom` unless `ISOM_MQTT_ROOT` says otherwise (e.g. per test run)."""
    return os.environ.get("ISOM_MQTT_ROOT", "isom")


def reply_topic(site: str, device: str, root: str = "isom") -> str:
    return f"{root}/{site}/{device}/reply"


def dead_letter_topic(site: str, root: str = "isom") -> str:
    return f"{root}/{site}/dead-letter"


def _without_secret(raw: bytes) -> str:
    """The payload as text for the dead-letter table, with any token blanked."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text[:10_000]
    if isinstance(body, dict) and "token" in body:
        body["token"] = "***"
    return json.dumps(body)[:10_000]


def handle(
    db: Database, topic: str, raw: bytes, root: str = "isom"
) -> tuple[IngestAnswer, str | None]:
    """Apply one MQTT message; the answer, and the site it came from (None: bad topic)."""
    parts = topic.split("/")
    site = device = kind = None
    event_id: Any = None
    try:
        if len(parts) != 4 or parts[0] != root or parts[3] not in KINDS:
            raise InvalidInput(
                f"topic {topic!r} is not a device event topic",
                field="topic",
                expected=f"{root}/<site>/<device>/{{{','.join(KINDS)}}}",
            )
        _, site, device, kind = parts
        payload = parse_payload(raw)
        event_id = payload.get("eventID")
        answer = db.write(
            lambda s: ingest(s, device=str(device), kind=str(kind), payload=payload, site=site)
        )
        return answer, site
    except IsomError as err:
        answer = rejected(device, kind, event_id, err)
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the worker; it is recorded
        log.exception("device message on %s failed", topic)
        answer = rejected(device, kind, event_id, IsomError(f"internal error: {exc}"))
    error = answer.error or {}
    db.write(
        lambda s: s.add(
            DeadLetter(
                topic=topic[:200],
                device=(device or "")[:64] or None,
                event_id=str(event_id)[:100] if event_id is not None else None,
                payload=_without_secret(raw),
                error=error,
                received_at=utcnow(),
            )
        )
    )
    return answer, site


class IngestWorker:
    """Subscribes to every site's device topics and applies each message in its own commit."""

    def __init__(
        self,
        db: Database,
        *,
        host: str | None = None,
        port: int | None = None,
        client_id: str | None = None,
        site: str = "+",
        workers: int | None = None,
    ) -> None:
        default_host, default_port = broker_address()
        self.db = db
        self.host = host or default_host
        self.port = port or default_port
        self.site = site
        self.root = topic_root()
        self.subscribed = threading.Event()
        self.handled = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # One queue and thread per lane; a device always uses the same lane, so its events
        # apply in the order it sent them. SQLite has one writer: one lane is enough.
        lanes = workers or (1 if db.is_sqlite else 4)
        self._lanes: list[queue.Queue[mqtt.MQTTMessage | None]] = [
            queue.Queue() for _ in range(lanes)
        ]
        self._threads: list[threading.Thread] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or os.environ.get("ISOM_MQTT_CLIENT_ID", DEFAULT_CLIENT_ID),
            clean_session=False,
            manual_ack=True,
        )
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(1, 10)  # back within seconds of a long broker outage
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe([(f"{self.root}/{self.site}/+/{kind}", 1) for kind in KINDS])

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, _codes: Any, _p: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """Hand the message to its device's lane; the network thread never waits on the store."""
        parts = msg.topic.split("/")
        device = parts[2] if len(parts) > 2 else ""
        self._lanes[zlib.crc32(device.encode()) % len(self._lanes)].put(msg)

    def _lane(self, lane: queue.Queue[mqtt.MQTTMessage | None]) -> None:
        while (msg := lane.get()) is not None:
            if self._stopping.is_set():
                continue  # not acknowledged: the broker delivers it again after a restart
            try:
                answer, site = handle(self.db, msg.topic, bytes(msg.payload), self.root)
            except Exception:  # noqa: BLE001 - the store is unreachable: keep the lane alive
                log.exception(
                    "could not record the answer to %s; it stays unacknowledged", msg.topic
                )
                continue  # not acknowledged: the broker delivers it again after a restart
            if answer.status == "accepted":
                print_after(self.db, answer)
            body = answer.model_dump_json()
            if site and answer.device:
                self.client.publish(reply_topic(site, answer.device, self.root), body, qos=1)
            if site and answer.status == "rejected":
                self.client.publish(
                    dead_letter_topic(site, self.root),
                    json.dumps({"topic": msg.topic, "answer": json.loads(body)}),
                    qos=1,
                )
            with self._lock:
                self.handled += 1
            self.client.ack(msg.mid, msg.qos)

    def start(self, *, timeout: float = 10.0) -> IngestWorker:
        """Connect and subscribe; returns once the subscription is in place."""
        self.subscribed.clear()
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._lane, args=(lane,), daemon=True, name=f"ingest-{n}")
            for n, lane in enumerate(self._lanes)
        ]
        for thread in self._threads:
            thread.start()
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(timeout):
            self.stop()
            raise ConnectionError(f"no MQTT subscription at {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker for the next start."""
        self._stopping.set()
        self.client.disconnect()
        self.client.loop_stop()
        for lane in self._lanes:
            lane.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
