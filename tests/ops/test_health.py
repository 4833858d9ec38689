"""The probes an orchestrator polls: alive, and ready only while the store answers, the broker
accepts connections when we ingest from it, and no feed consumer lags too far behind."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.integration import delivery, feed
from isom.ops.health import feed_lags
from isom.types import utcnow
from isom.web.app import create_app
from tests.ops.support import MakeClient
from tests.web.seed import received_box

CLOSED_PORT = "1"  # nothing listens on port 1 of 127.0.0.1


def _subscriber(db: Database, name: str, *, paused: bool = False) -> None:
    db.write(
        lambda s: delivery.create_subscriber(
            s, delivery.SubscriberIn(name=name, url="http://127.0.0.1:9/erp", start="beginning")
        )
    )
    if paused:
        db.write(lambda s: delivery.set_paused(s, name, True))


def test_alive_and_ready_need_no_sign_in_and_say_nothing_more(db: Database) -> None:
    client = TestClient(create_app(db))
    alive = client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "off", "feed_lag": "ok"},
    }


def test_not_ready_when_the_database_does_not_answer(db: Database) -> None:
    gone = Database(
        "postgresql+psycopg://postgres@127.0.0.1:1/isom?connect_timeout=2",
        settings=db.settings,
    )
    r = TestClient(create_app(gone)).get("/readyz")
    gone.dispose()
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "not-ready"
    assert body["checks"] == {"database": "failing", "broker": "off", "feed_lag": "failing"}
    assert "127.0.0.1" not in r.text and "psycopg" not in r.text


def test_the_broker_counts_only_when_this_process_ingests_mqtt(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(create_app(db))
    monkeypatch.setenv("ISOM_MQTT_INGEST", "1")
    monkeypatch.setenv("ISOM_MQTT_HOST", "127.0.0.1")
    monkeypatch.setenv("ISOM_MQTT_PORT", "1883")
    assert client.get("/readyz").json()["checks"]["broker"] == "ok"

    monkeypatch.setenv("ISOM_MQTT_PORT", CLOSED_PORT)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"] == {"database": "ok", "broker": "failing", "feed_lag": "ok"}
    assert "1883" not in r.text and f":{CLOSED_PORT}" not in r.text


def test_feed_lag_is_the_age_of_the_oldest_message_a_consumer_has_not_taken(
    db: Database,
) -> None:
    _subscriber(db, "erp")
    _subscriber(db, "holiday", paused=True)
    assert [(lag.consumer, lag.messages, lag.seconds) for lag in db.read(feed_lags)] == [
        ("webhook:erp", 0, 0.0)
    ]
    received_box(db)
    later = utcnow() + dt.timedelta(minutes=10)
    (lag,) = db.read(lambda s: feed_lags(s, later))
    assert lag.consumer == "webhook:erp"
    assert 599 < lag.seconds < 601  # counted before the lazy sequencer numbered anything
    db.write(lambda s: feed.sequence(s))
    (lag,) = db.read(lambda s: feed_lags(s, later))
    assert lag.messages >= 1 and 599 < lag.seconds < 601


def test_not_ready_while_a_consumer_lags_beyond_the_threshold(
    db: Database, configured: MakeClient
) -> None:
    _subscriber(db, "erp")
    received_box(db)
    patient = configured()
    assert patient.get("/readyz").status_code == 200
    strict = configured(ready_feed_lag_seconds=0.0)
    r = strict.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["feed_lag"] == "failing"
    assert "erp" not in r.text
