"""An item's on-hand history (the reports page): the end of each day, from the events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from isom.db import Database
from isom.ledger import queries
from isom.ledger import services as ledger
from isom.ledger.schemas import ReceiveCommand, ReceiveLine, ScrapCommand, ShipCommand
from tests.ledger.support import D, apply

NOW = dt.datetime.now(dt.UTC)


def days_ago(n: int) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def receive_on(db: Database, container: str, quantity: str, when: dt.datetime) -> None:
    line = ReceiveLine(item="CONN", quantity=D(quantity), unit_cost=D("0.5"))
    cmd = ReceiveCommand(
        container=container, location="BIN-1", supplier="SUP", lines=[line], occurred_at=when
    )
    apply(db, ledger.receive, cmd)


def test_each_day_ends_with_what_the_events_up_to_it_left_in_containers(pdb: Database) -> None:
    receive_on(pdb, "OLD-1", "40", days_ago(30))  # long before the window
    receive_on(pdb, "OLD-2", "7", days_ago(20))
    apply(pdb, ledger.ship, ShipCommand(container="OLD-2", customer="CUS", occurred_at=days_ago(9)))
    receive_on(pdb, "NEW-1", "5", days_ago(3))
    scrap = ScrapCommand(container="OLD-1", item="CONN", quantity=D(2), occurred_at=days_ago(1))
    apply(pdb, ledger.scrap, scrap)
    # a late scan: recorded now, happened two days before the window ends
    receive_on(pdb, "LATE-1", "1", days_ago(2))

    history = pdb.read(lambda s: queries.on_hand_history(s, "CONN", days_ago(10), NOW))
    by_day = {h.day: h.quantity for h in history}
    assert by_day[days_ago(10).date()] == Decimal(47)  # 40 + 7 before the window
    assert by_day[days_ago(9).date()] == Decimal(40)  # OLD-2 shipped
    assert by_day[days_ago(3).date()] == Decimal(45)
    assert by_day[days_ago(2).date()] == Decimal(46)
    assert by_day[days_ago(1).date()] == Decimal(44)
    assert history[-1].quantity == Decimal(44) and history[-1].day == NOW.date()
