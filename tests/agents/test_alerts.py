"""The alerts agent: late jobs, expiring and expired lots, idle containers, each noted once;
shortages and jobs at risk as standing alerts, one per item and condition, closed when over."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from isom.agents import alerts, watch
from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder
from tests.agents.support import ACTOR, TODAY, day, decisions, demo_masterdata, do, receive
from tests.builders import key


def run_alerts(db: Database, today: dt.date) -> list[str]:
    made = db.write(lambda s: [d.explanation for d in alerts.run(s, ACTOR, today)])
    return sorted(made)


def test_each_alert_is_noted_once_per_situation(db: Database) -> None:
    demo_masterdata(db)
    cmd = ReceiveCommand(
        container="GLUE-1",
        location="A-02",
        lines=[
            ReceiveLine(
                item="ADHESIVE-UV",
                lot=LotIn(code="UV-7", expiry_date=day(10)),
                quantity=Decimal(2),
                unit_cost=Decimal(48),
            )
        ],
    )
    k = key()
    db.write(lambda s: ledger.receive(s, ACTOR, k, cmd))
    do(
        db,
        production.create_work_order,
        CreateWorkOrder(item="LEAD-RD-300", quantity=Decimal(10), due_date=day(2), release=True),
    )
    # Today: the glue expires within 30 days; the job is not late; nothing is idle. The job's
    # wire is short (no stock): a shortage, and the job is at risk; both standing alerts.
    now = run_alerts(db, TODAY)
    assert now == [f"lot UV-7 of ADHESIVE-UV (2 available) expires on {day(10)}."]
    assert open_alerts(db) == [
        (
            "at-risk",
            "WO-000001",
            f"WO-000001 (LEAD-RD-300 x 10, due {day(2)}, for stock) is at risk: nothing "
            "supplies WIRE-0.5-RD yet.",
        ),
        (
            "shortage",
            "WIRE-0.5-RD",
            f"WIRE-0.5-RD is projected below zero from {day(1)} (lowest -3.05); short 3.05.",
        ),
    ]
    assert run_alerts(db, TODAY) == []
    assert len(open_alerts(db)) == 2  # the same conditions: the same two alerts, not new ones
    # Three weeks on: the job is late, the lot has expired, the glue has not moved for 14 days.
    later = run_alerts(db, day(20))
    assert [t.split(" ")[0] for t in later] == ["WO-000001", "container", "lot"]
    assert f"was due {day(2)} and is still released" in later[0]
    assert f"expired on {day(10)}" in later[2]
    assert run_alerts(db, day(21)) == []
    rules = sorted(d["rule"] for d in decisions(db, agent="alerts"))
    assert rules == [
        "expiring-lot",
        "expiring-lot",
        "idle-container",
        "late-job",
    ]
    # The wire arrives: the shortage and the risk end, and their alerts close.
    receive(db, "W-RD", "WIRE-0.5-RD", "10", "0.12", "A-01", lot="W1")
    run_alerts(db, day(21))
    assert open_alerts(db) == []


def open_alerts(db: Database) -> list[tuple[str, str, str]]:
    return db.read(lambda s: [(a.condition, a.subject, a.text) for a in watch.open_alerts(s)])
