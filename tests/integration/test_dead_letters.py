"""The webhook feed through an outage longer than any retry schedule, and dead letters: only
for what the receiver refuses, each re-sent alone and then cleared (API and CLI)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from isom.cli import app
from isom.db import Database
from isom.integration import delivery
from isom.web.app import create_app
from tests.builders import token
from tests.integration.fake_erp import FakeErp
from tests.integration.test_feed import Clock, all_messages, drain, subscribe
from tests.ledger.support import receive

API = "/api/v1/feed/subscribers"
FAST = delivery.Retry(base=dt.timedelta(milliseconds=5), cap=dt.timedelta(milliseconds=40))


def caught_up(db: Database) -> bool:
    view = db.read(lambda s: delivery.get_subscriber(s, "erp"))
    return view.cursor == view.head


def deliver_for(
    db: Database, seconds: float, until: Callable[[], bool] = lambda: False
) -> delivery.DeliveryReport:
    """Deliver in real time with the short retry schedule for `seconds`, or `until` it holds."""
    total = delivery.DeliveryReport()
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        report = delivery.deliver_once(db, retry=FAST, timeout=1)
        total.delivered += report.delivered
        total.failed += report.failed
        total.dead_lettered += report.dead_lettered
        time.sleep(0.01)
    return total


def test_a_receiver_down_longer_than_the_retry_schedule_gets_everything_in_order(
    pdb: Database, erp: FakeErp
) -> None:
    receive(pdb, "O1")
    subscribe(pdb, erp, max_attempts=2, batch_size=3)
    assert deliver_for(pdb, 30, lambda: caught_up(pdb)).delivered == len(all_messages(pdb))
    port = erp.port
    erp.stop()
    for i in range(6):
        receive(pdb, f"O{i + 2}", quantity=str(10 + i))
    # 2 attempts 5 ms apart used to dead-letter the head; the ERP stays down 1.5 s, 40x that
    down = deliver_for(pdb, 1.5)
    assert down.failed > 10 and down.dead_lettered == 0 and down.delivered == 0
    view = pdb.read(lambda s: delivery.get_subscriber(s, "erp"))
    assert view.attempts == down.failed and view.dead_letters == 0
    assert view.last_error and "refused" in view.last_error.lower()
    erp.port = port
    erp.start()
    back = deliver_for(pdb, 30, lambda: caught_up(pdb))
    assert back.dead_lettered == 0 and back.failed == 0
    expected = [m.id for m in all_messages(pdb)]
    assert erp.applied_ids() == set(expected)
    assert len(erp.received) == len(expected), "each message sent once after the outage"
    assert all(seqs == sorted(seqs) for seqs in erp.order.values())
    assert pdb.read(lambda s: delivery.dead_letters(s, "erp")) == []


def test_a_wrong_secret_or_a_5xx_is_retried_never_dead_lettered(
    pdb: Database, erp: FakeErp
) -> None:
    receive(pdb, "W1")
    data = delivery.SubscriberIn(
        name="wrong", url=erp.url, secret="not-the-erps-secret", start="beginning", max_attempts=1
    )
    pdb.write(lambda s: delivery.create_subscriber(s, data))
    subscribe(pdb, erp, max_attempts=1)
    erp.fail_next = 10  # 500s for the first ten requests
    clock = Clock()
    for _ in range(20):
        delivery.deliver_once(pdb, now=clock.tick())
    wrong = pdb.read(lambda s: delivery.get_subscriber(s, "wrong"))
    assert wrong.dead_letters == 0 and wrong.cursor == 0 and wrong.last_error == "HTTP 401"
    right = pdb.read(lambda s: delivery.get_subscriber(s, "erp"))
    assert right.dead_letters == 0 and right.cursor == right.head
    assert erp.applied_ids() == {m.id for m in all_messages(pdb)}


@pytest.fixture
def refused(pdb: Database, erp: FakeErp) -> list[delivery.DeadLetterView]:
    """Two messages of six the ERP refuses: dead-lettered; the other four delivered."""
    for n in range(3):
        receive(pdb, f"R{n}")
    subscribe(pdb, erp, max_attempts=2, batch_size=5)
    msgs = all_messages(pdb)
    assert len(msgs) == 6
    erp.refuse = {msgs[2].id, msgs[4].id}
    drain(pdb, Clock())
    letters = pdb.read(lambda s: delivery.dead_letters(s, "erp"))
    assert [d.seq for d in letters] == [msgs[2].seq, msgs[4].seq]
    assert erp.applied_ids() == {m.id for m in msgs} - erp.refuse
    return letters


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


def test_a_refused_message_is_resent_alone_and_cleared_over_http(
    pdb: Database, erp: FakeErp, refused: list[delivery.DeadLetterView], client: TestClient
) -> None:
    admin, integrator = token(pdb, "admin"), token(pdb, "integrator")
    letter = refused[0]
    resend = f"{API}/erp/dead-letters/{letter.id}/resend"
    assert client.get(f"{API}/erp/dead-letters", headers=integrator).status_code == 403
    assert client.post(resend, headers=integrator).status_code == 403
    still = client.post(resend, headers=admin)  # the ERP still refuses it
    assert still.status_code == 502 and still.json()["field"] == "letter_id"
    assert "HTTP 422" in still.json()["detail"]
    erp.refuse = set()
    before = len(erp.received)
    taken = client.post(resend, headers=admin)
    assert taken.status_code == 200, taken.text
    assert taken.json()["resent_at"] and taken.json()["attempts"] == letter.attempts + 2
    assert [m["id"] for m in erp.received[before:]] == [letter.message["id"]], "it alone"
    listed = client.get(f"{API}/erp/dead-letters", headers=admin).json()
    assert [d["id"] for d in listed] == [refused[1].id]
    assert client.get(f"{API}/erp", headers=admin).json()["dead_letters"] == 1
    assert client.post(resend, headers=admin).status_code == 404  # cleared: nothing to re-send
    missing = client.post(f"{API}/erp/dead-letters/99999999999/resend", headers=admin)
    assert missing.status_code == 422


def test_a_refused_message_is_resent_from_the_command_line(
    pdb: Database,
    erp: FakeErp,
    refused: list[delivery.DeadLetterView],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISOM_DATABASE_URL", pdb.url)
    runner = CliRunner()
    listed = runner.invoke(app, ["feed", "dead-letters", "erp"])
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 2
    letter = refused[1]
    failed = runner.invoke(app, ["feed", "resend", "erp", str(letter.id)])
    assert failed.exit_code == 1 and "HTTP 422" in failed.output
    erp.refuse = set()
    done = runner.invoke(app, ["feed", "resend", "erp", str(letter.id)])
    assert done.exit_code == 0 and "cleared" in done.output, done.output
    assert letter.message["id"] in erp.applied_ids()
    left = pdb.read(lambda s: delivery.dead_letters(s, "erp"))
    assert [d.id for d in left] == [refused[0].id]
