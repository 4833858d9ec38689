"""Prometheus metrics: only for the configured token; request latency by route template, ledger
events by kind once committed, the feed's lag per consumer and the dead letters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.devices.mqtt import handle
from isom.integration import delivery
from isom.ledger.models import Container
from isom.web.app import create_app
from tests.ops.support import MakeClient, receiving
from tests.web.seed import received_box

TOKEN = "scrape-me-7f3a9c"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def scrape(configured: MakeClient) -> Callable[[], Samples]:
    client = configured(metrics_token=TOKEN)

    def samples() -> Samples:
        r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text)
            for s in family.samples
        }

    return samples


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(
    db: Database, configured: MakeClient
) -> None:
    off = TestClient(create_app(db)).get("/metrics")
    assert off.status_code == 404
    assert off.headers["content-type"] == "application/problem+json"
    on = configured(metrics_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        r = on.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["code"] == "metrics_token_required"
    assert (
        on.get("/metrics", headers={"Authorization": "Bearer é".encode("latin-1")}).status_code
        == 401
    )


def test_request_latency_is_labelled_by_route_template(
    db: Database, configured: MakeClient, scrape: Callable[[], Samples]
) -> None:
    client = configured()
    key = (
        "isom_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/v1/containers/{code}"), ("status", "401")),
    )
    before = scrape().get(key, 0.0)
    client.get("/api/v1/containers/BOX-1")
    client.get("/api/v1/containers/BOX-2")
    samples = scrape()
    assert samples[key] == before + 2
    assert not any("BOX-1" in str(labels) for _name, labels in samples)


def test_ledger_events_count_once_committed_never_when_rolled_back(
    db: Database, scrape: Callable[[], Samples]
) -> None:
    counted = ("isom_ledger_events_total", (("kind", "receive"),))
    before = scrape().get(counted, 0.0)
    codes = received_box(db)
    assert scrape()[counted] == before + 1

    class Abandon(Exception):
        pass

    def receive_then_fail(s: Session) -> None:
        receiving(codes, "BOX-2", "L-BOX-2")(s)
        raise Abandon

    with pytest.raises(Abandon):
        db.write(receive_then_fail)
    assert scrape()[counted] == before + 1

    def one_kept_one_rolled_back(s: Session) -> None:
        savepoint = s.begin_nested()
        receiving(codes, "BOX-3", "L-BOX-3")(s)
        savepoint.rollback()
        receiving(codes, "BOX-4", "L-BOX-4")(s)

    db.write(one_kept_one_rolled_back)
    assert scrape()[counted] == before + 2
    assert db.read(lambda s: sorted(s.scalars(select(Container.code)))) == ["BOX-1", "BOX-4"]


def test_feed_lag_and_dead_letters_are_read_from_the_store(
    db: Database, scrape: Callable[[], Samples]
) -> None:
    db.write(
        lambda s: delivery.create_subscriber(
            s, delivery.SubscriberIn(name="erp", url="http://127.0.0.1:9/erp", start="beginning")
        )
    )
    received_box(db)
    handle(db, "isom/SITE/scanner-1/scan", b"{not json")
    samples = scrape()
    assert samples[("isom_store_up", ())] == 1
    assert samples[("isom_feed_lag_seconds", (("consumer", "webhook:erp"),))] > 0
    assert samples[("isom_dead_letters_total", (("source", "ingest"),))] == 1
    assert samples[("isom_dead_letters_total", (("source", "feed"),))] == 0
