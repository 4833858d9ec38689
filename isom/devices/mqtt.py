"""The MQTT ingest worker: device events in, answers out, nothing lost, nothing applied twice.

Topics: devices publish to `isom/<site>/<device>/{scan,rfid,weight,machine}` (QoS 1) and get
their answer on `isom/<site>/<device>/reply`; what cannot be applied is also published to
`isom/<site>/dead-letter` and kept in `dev_dead_letter`. A device holding a queue of events
sends them as one message on `isom/<site>/<device>/batch` (`{"token", "events": [...]}`): each
is applied under its own eventID and answered on the reply topic, in order.

With group commit on (the default), the lanes hand their messages to the process's writer
(`isom.writer`), so the messages of several lanes share one commit, and a lane hands the messages
one device has waiting as one unit (applied in the order sent, each event in its own savepoint):
a scanner sending faster than one commit per event is not held to one commit per event.

The worker keeps a persistent session (fixed client id, clean session off) and acknowledges a
message only after its transaction committed (paho's manual ack). A worker that drops before
that gets the message again from the broker on reconnect, and the (device, eventID) record
turns the redelivery into a replay of the stored answer. Every message is settled (applied, or
answered and dead-lettered) before it is acknowledged, whatever its payload holds: one left
unsettled would hold a slot of the broker's in-flight window, and 20 of them stop every device.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from isom.db import Database
from isom.devices import dead_letters
from isom.devices.dead_letters import clean_json, clean_text
from isom.devices.ingest import ingest, ingest_batch, parse_payload, rejected
from isom.devices.printing import print_after
from isom.devices.schemas import EVENT_TYPES, IngestAnswer
from isom.errors import InvalidInput, IsomError, ServiceUnavailable
from isom.writer import group_commit, writer_for

log = logging.getLogger(__name__)
T = TypeVar("T")

KINDS = tuple(EVENT_TYPES)
BATCH = "batch"
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


#: Bytes a device event may have: an RFID read of 500 EPCs is about 100 KiB.
MAX_PAYLOAD = 256 * 1024
#: Tries of a message while the store fails before it is dead-lettered with a 503 answer.
STORE_TRIES = 6
#: Most messages of one device a lane takes at once (one unit of work under group commit):
#: a device that floods its lane holds the lane's other devices for one such unit at most.
RUN = 8


class _StoreDown(Exception):
    """The store did not answer: the message is tried again, never dropped."""


def _transient(exc: BaseException) -> bool:
    """A failure of the store rather than of the message (it may pass when tried again)."""
    if isinstance(exc, ServiceUnavailable | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _route(topic: str, root: str) -> tuple[str, str, str]:
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != root or parts[3] not in (*KINDS, BATCH):
        raise InvalidInput(
            f"topic {topic!r} is not a device event topic",
            field="topic",
            expected=f"{root}/<site>/<device>/{{{','.join((*KINDS, BATCH))}}}",
        )
    return parts[1], parts[2], parts[3]


def _decode(raw: bytes) -> dict[str, Any]:
    """The payload as a JSON object; too large or too deeply nested is a 422 like bad JSON."""
    if len(raw) > MAX_PAYLOAD:
        raise InvalidInput(
            f"the payload has {len(raw)} bytes",
            field="payload",
            expected=f"one JSON object of at most {MAX_PAYLOAD} bytes",
        )
    try:
        return parse_payload(raw)
    except RecursionError:
        raise InvalidInput(
            "the payload is nested too deeply", field="payload", expected="one flat JSON object"
        ) from None


def _problem(exc: Exception, topic: str) -> IsomError:
    """The error a message is answered with; a bug is logged, and named only by its class."""
    if isinstance(exc, IsomError):
        return exc
    if _transient(exc):
        return ServiceUnavailable("the store failed; the message is kept as a dead letter")
    log.exception("device message on %s failed", topic)
    return IsomError(f"internal error ({type(exc).__name__}); the message is kept as a dead letter")


def _write(db: Database, work: Callable[[Session], T], *, one_command: bool) -> T:
    """One message's unit of work: through the process's writer under group commit."""
    if group_commit(db):
        return writer_for(db).run(work, one_command=one_command)
    return db.write(work, one_command=one_command)


def handle(
    db: Database, topic: str, raw: bytes, root: str = "isom", *, give_up: bool = True
) -> tuple[list[IngestAnswer], str | None]:
    """Apply one MQTT message, or dead-letter it; its answers (one per event, in order), and
    its site (None: bad topic).

    A failure of the store raises `_StoreDown` (the caller tries again) unless `give_up`, when
    the message is dead-lettered with a 503 answer. Nothing a payload holds makes this raise.
    """
    site = device = kind = None
    event_id: Any = None
    token: Any = None
    try:
        site, device, kind = _route(topic, root)
        payload = _decode(raw)
        event_id, token = payload.get("eventID"), payload.get("token")
        if kind == BATCH:
            answers = _write(
                db,
                lambda s: ingest_batch(s, device=str(device), payload=payload, site=site),
                one_command=False,
            )
        else:
            answers = [
                _write(
                    db,
                    lambda s: ingest(
                        s, device=str(device), kind=str(kind), payload=payload, site=site
                    ),
                    one_command=True,
                )
            ]
    except Exception as exc:  # noqa: BLE001 - whatever the payload does, it ends answered
        if _transient(exc) and not give_up:
            raise _StoreDown(str(exc)) from exc
        answers = [rejected(device, kind, event_id, _problem(exc, topic))]
        _dead_letters(db, topic, device, raw, token, answers)
        return answers, site
    if kind == BATCH:
        _batch_letters(db, topic, device, payload, answers)
    return answers, site


def _batch_letters(
    db: Database, topic: str, device: str, payload: dict[str, Any], answers: list[IngestAnswer]
) -> None:
    """Keep each refused event of a batch message as a dead letter of its own."""
    letters = [
        (a, json.dumps(e, default=str).encode())
        for a, e in zip(answers, payload["events"], strict=True)
        if a.status == "rejected"
    ]
    token = payload.get("token")
    _dead_letters(db, topic, device, None, token, [a for a, _ in letters], [r for _, r in letters])


def handle_run(
    db: Database, messages: list[tuple[str, bytes]], root: str = "isom", *, give_up: bool = True
) -> list[tuple[list[IngestAnswer], str | None]]:
    """Apply several messages of one device, in the order sent, as one unit of the writer
    (each event in its own savepoint, a refusal answered alone); `handle` for each.

    A message that cannot be read is handled alone (answered and kept); when the unit fails
    for another reason than a refusal (a bug), nothing of it was applied and each of its
    messages is handled alone instead."""
    read = [_read(topic, raw, root) if group_commit(db) else None for topic, raw in messages]
    units = [(message, r) for message, r in zip(messages, read, strict=True) if r is not None]
    if len(units) < 2:
        return [handle(db, topic, raw, root, give_up=give_up) for topic, raw in messages]
    try:
        runs = writer_for(db).run(lambda s: [_applied(s, *r) for _, r in units], one_command=False)
    except Exception as exc:  # noqa: BLE001 - each message alone ends answered or kept
        if _transient(exc) and not give_up:
            raise _StoreDown(str(exc)) from exc
        return [handle(db, topic, raw, root, give_up=give_up) for topic, raw in messages]
    done = iter(runs)
    settled = []
    for (topic, raw), r in zip(messages, read, strict=True):
        if r is None:
            settled.append(handle(db, topic, raw, root, give_up=give_up))
            continue
        site, device, kind, payload = r
        answers = next(done)
        if kind == BATCH:
            _batch_letters(db, topic, device, payload, answers)
        elif answers[0].status == "rejected":
            _dead_letters(db, topic, device, raw, payload.get("token"), answers)
        settled.append((answers, site))
    return settled


def _read(topic: str, raw: bytes, root: str) -> tuple[str, str, str, dict[str, Any]] | None:
    """A message's site, device, kind and payload; None when it cannot be read."""
    try:
        return (*_route(topic, root), _decode(raw))
    except IsomError:
        return None


def _applied(
    session: Session, site: str, device: str, kind: str, payload: dict[str, Any]
) -> list[IngestAnswer]:
    """One message of a run: its answers, a refusal answered like `handle` answers it."""
    if kind == BATCH:
        return ingest_batch(session, device=device, payload=payload, site=site)
    try:
        return [ingest(session, device=device, kind=kind, payload=payload, site=site)]
    except IsomError as refusal:
        return [rejected(device, kind, payload.get("eventID"), refusal)]


def _dead_letters(
    db: Database,
    topic: str,
    device: str | None,
    raw: bytes | None,
    token: Any,
    answers: list[IngestAnswer],
    raws: list[bytes] | None = None,
) -> None:
    """Keep what could not be applied (the message, or each refused event of a batch)."""
    if not answers:
        return
    for answer in answers:
        answer.eventID = clean_text(answer.eventID, 100) if answer.eventID is not None else None
        answer.error = clean_json(answer.error)
    kept = raws or [raw or b""] * len(answers)

    def record(session: Session) -> None:
        for answer, body in zip(answers, kept, strict=True):
            dead_letters.record(
                session,
                topic=topic,
                device=device,
                event_id=answer.eventID,
                raw=body,
                error=answer.error or {},
                token=token if isinstance(token, str) else None,
            )

    try:
        db.write(record)
    except Exception as exc:  # noqa: BLE001 - only the store can fail here: try again later
        raise _StoreDown(str(exc)) from exc


class _Lane:
    """A lane's messages, taken device by device in turn.

    Each device's messages keep their order; a device that floods the lane (with garbage, or a
    backlog) has at most `RUN` messages taken per turn, so the other devices of the lane wait
    for one unit of its messages, not for all of them.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._waiting: dict[str, deque[mqtt.MQTTMessage]] = {}
        self._turns: deque[str] = deque()
        self._closed = False

    def put(self, device: str, msg: mqtt.MQTTMessage) -> None:
        with self._ready:
            if device not in self._waiting:
                self._waiting[device] = deque()
                self._turns.append(device)
            self._waiting[device].append(msg)
            self._ready.notify()

    def get(self, most: int = 1) -> list[mqtt.MQTTMessage] | None:
        """The next device's oldest messages (up to `most`); None once the lane is closed."""
        with self._ready:
            while not self._turns and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            device = self._turns.popleft()
            waiting = self._waiting[device]
            msg = [waiting.popleft() for _ in range(min(most, len(waiting)))]
            if waiting:
                self._turns.append(device)
            else:
                del self._waiting[device]
            return msg

    def close(self) -> None:
        """Stop handing out messages (those left are not acknowledged: the broker keeps them)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()


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
        # One thread per lane; a device always uses the same lane, so its events apply in the
        # order it sent them. SQLite has one writer: without group commit one lane is enough.
        self._lane_count = workers or (4 if group_commit(db) or not db.is_sqlite else 1)
        self._lanes: list[_Lane] = []
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
        client.subscribe([(f"{self.root}/{self.site}/+/{kind}", 1) for kind in (*KINDS, BATCH)])

    def _on_subscribe(self, _c: Any, _u: Any, _mid: Any, _codes: Any, _p: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """Hand the message to its device's lane; the network thread never waits on the store."""
        parts = msg.topic.split("/")
        device = parts[2] if len(parts) > 2 else ""
        self._lanes[zlib.crc32(device.encode()) % len(self._lanes)].put(device, msg)

    def _settle(
        self, msgs: list[mqtt.MQTTMessage]
    ) -> list[tuple[list[IngestAnswer], str | None]] | None:
        """Apply or dead-letter one device's messages; while the store fails, try again with
        backoff.

        None when the worker stops first: the messages stay unacknowledged, and the broker
        delivers them again after a restart.
        """
        delay = 0.1
        tries = 0
        messages = [(msg.topic, bytes(msg.payload)) for msg in msgs]
        while not self._stopping.is_set():
            tries += 1
            try:
                return handle_run(self.db, messages, self.root, give_up=tries >= STORE_TRIES)
            except Exception as exc:  # noqa: BLE001 - the store failed (`_StoreDown`) or a bug
                log.warning("could not settle %s (try %d): %s", messages[0][0], tries, exc)
            self._stopping.wait(delay)
            delay = min(delay * 2, 5.0)
        return None

    def _lane(self, lane: _Lane) -> None:
        most = RUN if group_commit(self.db) else 1
        while (msgs := lane.get(most)) is not None:
            settled = None if self._stopping.is_set() else self._settle(msgs)
            if settled is None:
                continue  # not acknowledged: the broker delivers them again after a restart
            for msg, answered in zip(msgs, settled, strict=True):
                try:
                    self._answer(msg.topic, *answered)
                except Exception:  # noqa: BLE001 - settled; a lost reply must not stop the lane
                    log.exception("could not answer %s", msg.topic)
                with self._lock:
                    self.handled += 1
                self.client.ack(msg.mid, msg.qos)

    def _answer(self, topic: str, answers: list[IngestAnswer], site: str | None) -> None:
        """Answer each event of the message in order."""
        for answer in answers:
            self._answer_one(topic, answer, site)

    def _answer_one(self, topic: str, answer: IngestAnswer, site: str | None) -> None:
        """Print what the event asked for, then publish the reply (and the dead letter)."""
        if answer.status == "accepted":
            print_after(self.db, answer)
        body = answer.model_dump_json()
        if site and answer.device:
            self.client.publish(reply_topic(site, answer.device, self.root), body, qos=1)
        if site and answer.status == "rejected":
            self.client.publish(
                dead_letter_topic(site, self.root),
                json.dumps({"topic": topic, "answer": json.loads(body)}),
                qos=1,
            )

    def start(self, *, timeout: float = 10.0) -> IngestWorker:
        """Connect and subscribe; returns once the subscription is in place."""
        self.subscribed.clear()
        self._stopping.clear()
        self._lanes = [_Lane() for _ in range(self._lane_count)]
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
            lane.close()
        for thread in self._threads:
            thread.join(timeout=30)
