"""The feed: pull by cursor, webhooks through a failing test ERP, and the sequencer's order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from isom.db import Database
from isom.errors import Conflict, InvalidInput, NotFound
from isom.integration import delivery, feed
from isom.integration.models import FeedMessage
from isom.ledger.models import Outbox
from tests.integration.conftest import SECRET, story
from tests.integration.fake_erp import FakeErp
from tests.ledger.support import receive

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def all_messages(db: Database) -> list[feed.Message]:
    db.write(lambda s: feed.sequence(s))
    out: list[feed.Message] = []
    after = 0
    while True:
        page = db.read(lambda s: feed.page(s, after, 7))
        out += page.messages
        after = page.next_cursor
        if not page.has_more:
            return out


def outbox_ids(db: Database) -> list[int]:
    return db.read(lambda s: list(s.scalars(select(Outbox.id).order_by(Outbox.id))))


def subscribe(db: Database, erp: FakeErp, **kw: object) -> delivery.SubscriberView:
    data = delivery.SubscriberIn(
        name=str(kw.pop("name", "erp")),
        url=erp.url,
        secret=SECRET,
        start="beginning",
        **kw,  # type: ignore[arg-type]
    )
    return db.write(lambda s: delivery.create_subscriber(s, data))


class Clock:
    """A fake clock for retries: each tick jumps past any backoff."""

    def __init__(self) -> None:
        self.now = T0

    def tick(self, seconds: float = 3600) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


def drain(db: Database, clock: Clock, passes: int = 200) -> None:
    for _ in range(passes):
        report = delivery.deliver_once(db, now=clock.tick(), timeout=2)
        if not report.progressed and not report.failed:
            return


def test_pull_feed_pages_every_outbox_row_once_in_order_with_unique_ids(pdb: Database) -> None:
    story(pdb)
    msgs = all_messages(pdb)
    assert [m.outbox_id for m in msgs] == outbox_ids(pdb)
    assert len({m.id for m in msgs}) == len(msgs)
    # the id comes from the event's key: the same after the rows are sequenced again
    pdb.write(lambda s: s.execute(delete(FeedMessage)))
    pdb.write(lambda s: feed.set_state(s, feed.LOW_WATER, 0))
    assert [m.id for m in all_messages(pdb)] == [m.id for m in msgs]
    assert [m.seq for m in msgs] == sorted(m.seq for m in msgs)
    topics = {m.topic for m in msgs}
    assert {"inventory.changed", "ledger.receive", "ledger.ship", "ledger.reverse"} <= topics
    inv = next(m for m in msgs if m.topic == "inventory.changed")
    assert inv.key == f"{inv.payload['item']}@{inv.payload['location']}"
    assert {"delta", "quantity", "lot", "status"} <= set(inv.payload)
    # a topic filter, and paging past the end
    only = pdb.read(lambda s: feed.page(s, 0, 1000, ["ledger.*"]))
    assert only.messages and all(m.topic.startswith("ledger.") for m in only.messages)
    end = pdb.read(lambda s: feed.page(s, msgs[-1].seq, 10))
    assert end.messages == [] and end.next_cursor == msgs[-1].seq and not end.has_more


def test_pull_feed_refuses_bad_cursor_limit_and_filter(pdb: Database) -> None:
    for args, field in [
        ((-1, 10, None), "after"),
        ((0, 0, None), "limit"),
        ((0, 5, ["a b"]), "topic"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            pdb.read(lambda s, a=args: feed.page(s, *a))  # type: ignore[misc]
        assert caught.value.field == field
        assert caught.value.expected


def test_a_row_that_commits_late_is_sequenced_after_the_rows_seen_before_it(pdb: Database) -> None:
    receive(pdb, "A")
    receive(pdb, "B")
    receive(pdb, "C")
    pdb.write(lambda s: feed.sequence(s))
    ids = outbox_ids(pdb)
    late = ids[len(ids) // 2]
    # As if that row had not been visible yet when the sequencer ran:
    pdb.write(lambda s: s.execute(delete(FeedMessage).where(FeedMessage.outbox_id == late)))
    cursor = pdb.read(feed.head)
    assert pdb.write(lambda s: feed.sequence(s)) == 1
    page = pdb.read(lambda s: feed.page(s, cursor, 10))
    assert [m.outbox_id for m in page.messages] == [late]
    assert sorted(m.outbox_id for m in all_messages(pdb)) == ids


def test_webhook_delivers_everything_signed_in_order(pdb: Database, erp: FakeErp) -> None:
    story(pdb)
    subscribe(pdb, erp, batch_size=5)
    drain(pdb, Clock())
    expected = {m.id for m in all_messages(pdb)}
    assert erp.applied_ids() == expected
    assert erp.bad_signatures == 0
    assert all(seqs == sorted(seqs) for seqs in erp.order.values())
    view = pdb.read(lambda s: delivery.get_subscriber(s, "erp"))
    assert view.cursor == view.head and view.delivered == len(expected)


def test_500s_and_lost_answers_lose_nothing_and_apply_nothing_twice(
    pdb: Database, erp: FakeErp
) -> None:
    story(pdb)
    subscribe(pdb, erp, batch_size=4)
    erp.fail_next = 3
    erp.lose_answer_next = 0
    clock = Clock()
    delivery.deliver_once(pdb, now=clock.tick())
    erp.lose_answer_next = 2  # the ERP applies, but its answer never arrives
    drain(pdb, clock)
    expected = {m.id for m in all_messages(pdb)}
    assert erp.applied_ids() == expected
    assert len(erp.received) > len(expected), "some messages were redelivered"
    assert all(seqs == sorted(seqs) for seqs in erp.order.values())
    assert pdb.read(lambda s: delivery.dead_letters(s, "erp")) == []


def test_slow_answers_time_out_and_are_retried(pdb: Database, erp: FakeErp) -> None:
    receive(pdb, "S1")
    receive(pdb, "S2")
    subscribe(pdb, erp)
    erp.delay = 1.5
    clock = Clock()
    report = delivery.deliver_once(pdb, now=clock.tick(), timeout=0.3)
    assert report.failed == 1 and "timed out" in report.errors[0].lower()
    erp.delay = 0
    drain(pdb, clock)
    assert erp.applied_ids() == {m.id for m in all_messages(pdb)}


def test_an_outage_is_caught_up_in_order_after_backoff(pdb: Database, erp: FakeErp) -> None:
    receive(pdb, "O1")
    subscribe(pdb, erp)  # the default 8 attempts
    clock = Clock()
    drain(pdb, clock)
    port = erp.port
    erp.stop()  # the ERP is down: connections are refused
    for i in range(5):
        receive(pdb, f"O{i + 2}", quantity=str(10 + i))
    start = clock.now
    failures = 0
    for _ in range(6):
        failures += delivery.deliver_once(pdb, now=clock.tick(1)).failed
    assert 2 <= failures < 6, "retries wait for their growing backoff"
    view = pdb.read(lambda s: delivery.get_subscriber(s, "erp"))
    assert view.attempts >= 2 and view.last_error and view.next_attempt_at
    assert view.next_attempt_at - clock.now > dt.timedelta(seconds=1), "backoff grows"
    assert clock.now > start
    # a day down: far past the 8 attempts, the wait stops growing at 5 minutes
    for _ in range(24 * 12):
        delivery.deliver_once(pdb, now=clock.tick(300))
    view = pdb.read(lambda s: delivery.get_subscriber(s, "erp"))
    assert view.attempts > 100 and view.dead_letters == 0
    assert view.next_attempt_at and view.next_attempt_at - clock.now <= delivery.BACKOFF_CAP
    # back up on the same port: everything arrives, in order
    erp.port = port
    erp.start()
    drain(pdb, clock)
    assert erp.applied_ids() == {m.id for m in all_messages(pdb)}
    assert all(seqs == sorted(seqs) for seqs in erp.order.values())
    assert pdb.read(lambda s: delivery.dead_letters(s, "erp")) == []


def test_dead_letter_after_max_attempts_then_replay(pdb: Database, erp: FakeErp) -> None:
    receive(pdb, "D1")
    subscribe(pdb, erp, max_attempts=3)
    erp.refuse = {m.id for m in all_messages(pdb)}
    clock = Clock()
    for _ in range(10):
        delivery.deliver_once(pdb, now=clock.tick())
    dead = pdb.read(lambda s: delivery.dead_letters(s, "erp"))
    total = len(all_messages(pdb))
    assert len(dead) == total and all(d.attempts == 3 for d in dead)
    assert {d.last_error for d in dead} == {"HTTP 422"}
    assert erp.applied_ids() == set()
    erp.refuse = set()
    pdb.write(lambda s: delivery.replay(s, "erp", 0))
    assert pdb.read(lambda s: delivery.dead_letters(s, "erp")) == [], "sent again: cleared"
    drain(pdb, clock)
    assert erp.applied_ids() == {d.message["id"] for d in dead}


def test_pause_stops_delivery_and_resume_catches_up(pdb: Database, erp: FakeErp) -> None:
    subscribe(pdb, erp)
    pdb.write(lambda s: delivery.set_paused(s, "erp", True))
    receive(pdb, "P1")
    clock = Clock()
    drain(pdb, clock)
    assert erp.requests == 0
    pdb.write(lambda s: delivery.set_paused(s, "erp", False))
    drain(pdb, clock)
    assert erp.applied_ids() == {m.id for m in all_messages(pdb)}


def test_topic_filter_and_start_now(pdb: Database, erp: FakeErp) -> None:
    receive(pdb, "F1")
    data = delivery.SubscriberIn(
        name="inv", url=erp.url, secret=SECRET, topics=["inventory.*"], start="now"
    )
    pdb.write(lambda s: delivery.create_subscriber(s, data))
    receive(pdb, "F2")
    drain(pdb, Clock())
    got = list(erp.applied.values())
    assert got and all(m["topic"] == "inventory.changed" for m in got)
    assert all(m["payload"]["event_key"] != "F1" for m in got)
    assert {m["key"] for m in got} == {"WIRE@BIN-1"}
    assert len(got) == 1


def test_subscriber_errors_name_the_field(pdb: Database, erp: FakeErp) -> None:
    subscribe(pdb, erp)
    with pytest.raises(Conflict):
        subscribe(pdb, erp)
    with pytest.raises(NotFound):
        pdb.read(lambda s: delivery.get_subscriber(s, "nobody"))
    bad = delivery.SubscriberIn(name="x", url="ftp://nope", secret=SECRET)
    with pytest.raises(InvalidInput) as caught:
        pdb.write(lambda s: delivery.create_subscriber(s, bad))
    assert caught.value.field == "url" and caught.value.expected


def test_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    sig = delivery.sign("k" * 16, "1700000000", b'{"a":1}')
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert delivery.verify_signature("k" * 16, "1700000000", b'{"a":1}', sig)
    assert not delivery.verify_signature("k" * 16, "1700000001", b'{"a":1}', sig)


def test_the_low_water_mark_follows_rows_older_than_the_grace(pdb: Database) -> None:
    receive(pdb, "W1")
    receive(pdb, "W2")
    pdb.write(lambda s: feed.sequence(s))
    assert pdb.read(lambda s: feed.get_state(s, feed.LOW_WATER)) == 0  # rows are too young
    later = dt.datetime.now(dt.UTC) + feed.SEQUENCER_GRACE * 2
    pdb.write(lambda s: feed.sequence(s, now=later))
    assert pdb.read(lambda s: feed.get_state(s, feed.LOW_WATER)) == max(outbox_ids(pdb))
    receive(pdb, "W3")
    assert pdb.write(lambda s: feed.sequence(s, now=later)) == 2  # only the new rows are read
