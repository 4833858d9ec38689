"""`isom simulate`: the demo plant's devices publish a realistic stream over MQTT.

Controllers of CUT-1, CRIMP-1 and TEST-1 cycle through setup, run (with piece counts), idle and
down with a reason; the floor scanner identifies containers and badges and moves stock between
bins; the store scale weighs drums of kg items. Every message goes through the broker to the
ingest worker (`isom devices listen` or `isom serve` with `ISOM_MQTT_INGEST=1`), which answers
on each device's reply topic; the progress display counts what was accepted and rejected.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.devices import services as devices
from isom.devices.models import Device
from isom.devices.mqtt import broker_address, topic_root
from isom.devices.seed import SITE, seed_demo
from isom.errors import NotFound
from isom.ledger import queries as ledger_queries
from isom.masterdata.models import Location, Person

DOWN_REASONS = ("material shortage", "blade change", "jam", "quality check")


def _prepare(session: Session) -> dict[str, Any]:
    """Fresh tokens for the demo devices, and what there is to scan."""
    try:
        devices.gs1_site(session, SITE)
    except NotFound:
        seed_demo(session)
    codes = list(session.scalars(select(Device.code).where(Device.active)))
    tokens = {code: devices.rotate_token(session, code) for code in codes}
    bins = list(
        session.scalars(select(Location.code).where(Location.kind == "bin").order_by(Location.code))
    )
    stock = ledger_queries.standing_containers(session, "bin")
    drums = ledger_queries.lines_in_unit(session, "kg")
    badges = list(session.scalars(select(Person.badge_code).where(Person.badge_code.is_not(None))))
    return {
        "tokens": tokens,
        "bins": bins,
        "stock": stock,
        "drums": drums,
        "badges": badges,
    }


def _events(plan: dict[str, Any], rng: random.Random) -> Any:
    """An endless, plausible stream of (device, kind, payload)."""
    controllers = [c for c in plan["tokens"] if c.startswith("CTRL-")]
    state = {c: "idle" for c in controllers}
    drums = dict(plan["drums"])
    while True:
        roll = rng.random()
        if roll < 0.5 and controllers:
            ctrl = rng.choice(controllers)
            body: dict[str, Any] = {}
            if state[ctrl] == "run" and rng.random() < 0.7:
                body["pieces"] = rng.randint(1, 12)
            else:
                new = rng.choice(["setup", "run", "run", "idle", "down"])
                body["state"] = new
                if new == "down":
                    body["reason"] = rng.choice(DOWN_REASONS)
                state[ctrl] = new
            yield ctrl, "machine", body
        elif roll < 0.75 and plan["stock"]:
            code = rng.choice([*plan["stock"], *plan["badges"]])
            yield "SCN-FLOOR", "scan", {"codes": [code], "action": "identify"}
        elif roll < 0.92 and plan["stock"] and plan["bins"]:
            code = rng.choice(sorted(plan["stock"]))
            to = rng.choice([b for b in plan["bins"] if b != plan["stock"][code]])
            plan["stock"][code] = to
            yield "SCN-FLOOR", "scan", {"codes": [code, to], "action": "move"}
        elif drums:
            code = rng.choice(sorted(drums))
            drums[code] = max(Decimal(0), drums[code] - Decimal(rng.randint(1, 40)) / 1000)
            yield "SCALE-STORE", "weight", {"container": code, "weight": str(drums[code])}


def run(
    db: Database, *, events: int, rate: float, seed: int | None, console: Console
) -> dict[str, int]:
    """Publish `events` messages at about `rate` per second; answers counted by status."""
    plan = db.write(_prepare)
    host, port = broker_address()
    rng = random.Random(seed)
    answers = {"accepted": 0, "replayed": 0, "rejected": 0}
    lock = threading.Lock()

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        status = json.loads(msg.payload).get("status", "rejected")
        with lock:
            answers[status] = answers.get(status, 0) + 1

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"isom-sim-{uuid.uuid4().hex[:8]}")
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    root = topic_root()
    client.subscribe(f"{root}/{SITE}/+/reply", qos=1)
    stream = _events(plan, rng)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[answers]}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("publishing", total=events, answers="")
            for _ in range(events):
                device, kind, body = next(stream)
                body = {"eventID": str(uuid.uuid4()), "token": plan["tokens"][device], **body}
                client.publish(f"{root}/{SITE}/{device}/{kind}", json.dumps(body), qos=1)
                with lock:
                    text = "  ".join(f"{k} {v}" for k, v in answers.items())
                progress.update(task, advance=1, answers=text)
                time.sleep(1 / rate)
            deadline = time.monotonic() + 10
            while sum(answers.values()) < events and time.monotonic() < deadline:
                with lock:
                    text = "  ".join(f"{k} {v}" for k, v in answers.items())
                progress.update(task, answers=text)
                time.sleep(0.1)
    finally:
        client.disconnect()
        client.loop_stop()
    return answers
