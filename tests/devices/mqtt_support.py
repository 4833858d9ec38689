"""An MQTT test device on the shared broker, and the counts the MQTT tests compare."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from isom.db import Database
from tests.devices.conftest import BROKER, ROOT


class Device:
    """A test device: publishes events with QoS 1 and collects every answer of its site."""

    def __init__(self, site: str = "KW1") -> None:
        self.site = site
        self.replies: list[dict[str, Any]] = []
        self.dead: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: ready.set()
        self.client.connect(*BROKER)
        self.client.loop_start()
        self.client.subscribe([(f"{ROOT}/{site}/+/reply", 1), (f"{ROOT}/{site}/dead-letter", 1)])
        assert ready.wait(5)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            body = json.loads(msg.payload)
            (self.dead if msg.topic.endswith("dead-letter") else self.replies).append(body)

    def publish(self, device: str, kind: str, body: dict[str, Any] | bytes) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body)
        self.client.publish(f"{ROOT}/{self.site}/{device}/{kind}", payload, qos=1).wait_for_publish(
            5
        )

    def wait(self, replies: int, timeout: float = 20) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.replies) >= replies:
                    return list(self.replies)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.replies)} of {replies} answers after {timeout}s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def forget_session(client_id: str) -> None:
    """Drop the broker's persistent session of a worker, so no test leaves a queue behind."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect(*BROKER)
    c.disconnect()


def count(db: Database, model: Any) -> int:
    return int(db.read(lambda s: s.scalar(select(func.count()).select_from(model))))
