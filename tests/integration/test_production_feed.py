"""Production events reach the feed: results per step, labour and machine time, job cost.

One job on the demo plant's master data: a cut step run by Anna on CUT-1, with the machine in
setup then run, material consumed, the output stopped into a box that is then shipped. The
messages are read through the pull feed and delivered through the failing test ERP.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from isom.costing import services as costing
from isom.db import Database
from isom.errors import Conflict
from isom.integration import csv_export, delivery, feed, job_cost_feed
from isom.ledger import services as ledger
from isom.ledger.schemas import ShipCommand
from isom.production import services as production
from isom.production.models import MachineState
from isom.production.schemas import ConsumeScan, MachineStateCommand, StepScan, StopScan
from tests.builders import key
from tests.integration.fake_erp import FakeErp
from tests.integration.test_feed import SECRET, Clock, all_messages, drain, subscribe
from tests.production import support
from tests.production.support import ACTOR, DAY, at, create, demo_masterdata, receive

WO = "WO-000001"


def run_job(db: Database, *, project: bool = True) -> None:
    """The story; with `project`, the job-cost projector's pass follows each scan's commit,
    as it does in the server (without, the jobs stay queued as after a crash)."""

    def scan(db: Database, operation: Any, command: Any) -> None:
        support.scan(db, operation, command)
        if project:
            job_cost_feed.project_all(db)

    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(db, "LEAD-RD-300", "10", DAY)
    scan(
        db,
        production.machine_state,
        MachineStateCommand(workstation="CUT-1", state=MachineState.setup, occurred_at=at(8)),
    )
    scan(
        db,
        production.start_step,
        StepScan(badge="B1001", work_order=WO, step=10, workstation="CUT-1", occurred_at=at(8)),
    )
    scan(
        db,
        production.machine_state,
        MachineStateCommand(workstation="CUT-1", state=MachineState.run, occurred_at=at(8, 10)),
    )
    scan(
        db,
        production.consume_scan,
        ConsumeScan(
            work_order=WO,
            step=10,
            container="W-RD",
            item="WIRE-0.5-RD",
            lot="W-RD-1",
            quantity=Decimal("3.05"),
            occurred_at=at(8, 15),
        ),
    )
    scan(
        db,
        production.stop_step,
        StopScan(
            badge="B1001",
            work_order=WO,
            step=10,
            good_quantity=Decimal(10),
            new_container="LEADS-1",
            occurred_at=at(8, 40),
        ),
    )
    scan(
        db,
        production.machine_state,
        MachineStateCommand(workstation="CUT-1", state=MachineState.idle, occurred_at=at(8, 45)),
    )
    k = key()
    db.write(
        lambda s: ledger.ship(
            s,
            ACTOR,
            k,
            ShipCommand(container="LEADS-1", customer="ACME-ROBOTICS", reference="SO-1"),
        )
    )


def by_topic(messages: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for m in messages:
        out[m.topic if hasattr(m, "topic") else m["topic"]].append(m)
    return out


def test_a_job_yields_results_labour_machine_time_and_cost_keyed_by_job(db: Database) -> None:
    run_job(db)
    msgs = all_messages(db)
    topics = by_topic(msgs)
    assert len({m.id for m in msgs}) == len(msgs)
    assert [m.seq for m in msgs] == sorted(m.seq for m in msgs)
    for topic in ("production.job", "production.result", "labour.time", "machine.time", "job.cost"):
        assert all(m.key == f"job:{WO}" for m in topics[topic]), topic
    # receipt and shipment come from the ledger's own events
    receipt = topics["ledger.receive"][0].payload
    assert [
        (ln["container"], ln["item"], ln["quantity"]) for ln in receipt["lines"] if ln["container"]
    ] == [("W-RD", "WIRE-0.5-RD", "100")]
    shipment = topics["ledger.ship"][0].payload
    assert shipment["reference"] == "SO-1"
    assert [
        (ln["container"], ln["item"], ln["quantity"]) for ln in shipment["lines"] if ln["container"]
    ] == [("LEADS-1", "LEAD-RD-300", "-10")]

    assert [m.payload["status"] for m in topics["production.job"]] == ["released"]
    results = [m.payload for m in topics["production.result"]]
    assert [r["kind"] for r in results] == ["start", "consume", "stop"]
    consumed = results[1]["moved"]
    assert [(x["container"], x["item"], x["lot"], x["quantity"]) for x in consumed] == [
        ("W-RD", "WIRE-0.5-RD", "W-RD-1", "-3.05")
    ]
    stop = results[2]
    assert stop["step_status"] == "done" and stop["work_order_status"] == "complete"
    assert stop["totals"]["good"] == "10"
    assert ("LEADS-1", "LEAD-RD-300", "10") in [
        (x["container"], x["item"], x["quantity"]) for x in stop["moved"]
    ]

    (labour,) = [m.payload for m in topics["labour.time"]]
    assert (labour["person"], labour["step"], labour["workstation"]) == ("P-ANNA", 10, "CUT-1")
    assert Decimal(labour["minutes"]) == 40 and Decimal(labour["charged_minutes_so_far"]) == 40
    # machine time: setup 8:00 and run from 8:10, the step on it 8:00 to 8:40
    machine = [m.payload for m in topics["machine.time"]]
    assert [Decimal(p["minutes_so_far"]) for p in machine] == [Decimal(10), Decimal(40)]
    assert machine[-1]["workstations"] == [{"workstation": "CUT-1", "minutes_so_far": "40"}]
    states = [m.payload for m in topics["machine.state"]]
    assert all(m.key == "workstation:CUT-1" for m in topics["machine.state"])
    assert [s["state"] for s in states] == ["setup", "run", "idle"]
    assert states[-1]["previous"]["state"] == "run" and states[-1]["previous"]["minutes"] == "35"

    # the cost follows the events; the last one is the job's cost at its last event
    costs = [m.payload for m in topics["job.cost"]]
    assert [c["kind"] for c in costs] == ["machine", "consume", "stop"]
    final = db.read(lambda s: costing.job_cost(s, WO, at=at(8, 45)))
    assert costs[-1]["actual"] == final.model_dump(mode="json")["actual"]
    assert Decimal(costs[-1]["actual"]["material"]) == Decimal("0.61")  # 3.05 m at 0.20
    assert (
        Decimal(costs[-1]["actual"]["labour"]) > 0 and Decimal(costs[-1]["actual"]["machine"]) > 0
    )
    totals = [Decimal(c["actual"]["total"]) for c in costs]
    assert totals == sorted(totals), "the job's cost only grows as its events land"


def test_a_replayed_scan_writes_no_second_message(db: Database) -> None:
    demo_masterdata(db)
    create(db, "LEAD-RD-300", "10", DAY)
    cmd = StepScan(badge="B1001", work_order=WO, step=10, workstation="CUT-1", occurred_at=at(8))
    support.scan(db, production.start_step, cmd, idem="k-1")
    before = len(all_messages(db))
    assert support.scan(db, production.start_step, cmd, idem="k-1").replayed
    assert len(all_messages(db)) == before


def test_a_refused_scan_writes_no_message(db: Database) -> None:
    demo_masterdata(db)
    create(db, "LEAD-RD-300", "10", DAY)
    before = len(all_messages(db))
    with pytest.raises(Conflict):
        support.scan(
            db,
            production.start_step,
            StepScan(badge="B1003", work_order=WO, step=10, workstation="CUT-1"),  # no cut skill
        )
    assert len(all_messages(db)) == before


def test_production_messages_reach_the_erp_in_order_through_failures(db: Database) -> None:
    run_job(db)
    with FakeErp(SECRET) as erp:
        subscribe(db, erp, batch_size=3)
        erp.fail_next = 2
        clock = Clock()
        delivery.deliver_once(db, now=clock.tick())
        erp.lose_answer_next = 2
        drain(db, clock)
        expected = all_messages(db)
        assert erp.applied_ids() == {m.id for m in expected}
        assert len(erp.received) > len(expected)
        job = [m["seq"] for m in erp.received if m["key"] == f"job:{WO}"]
        assert erp.order[f"job:{WO}"] == sorted(set(job))
        got = by_topic(list(erp.applied.values()))
        assert {"production.result", "labour.time", "machine.time", "job.cost"} <= set(got)
        assert {"ledger.receive", "ledger.ship"} <= set(got)
    # the pull feed filters by topic like any other
    page = db.read(lambda s: feed.page(s, 0, 100, ["job.*"]))
    assert page.messages and {m.topic for m in page.messages} == {"job.cost"}


def test_the_feed_csv_carries_the_job_columns(db: Database) -> None:
    run_job(db)
    db.write(lambda s: feed.sequence(s))
    rows = list(csv.DictReader(io.StringIO(db.read(lambda s: csv_export.feed_csv(s)))))
    labour = next(r for r in rows if r["topic"] == "labour.time")
    assert (labour["work_order"], labour["step"], labour["person"], labour["minutes"]) == (
        WO,
        "10",
        "P-ANNA",
        "40",
    )
    result = [r for r in rows if r["topic"] == "production.result"][-1]
    assert (result["kind"], result["good"], result["workstation"]) == ("stop", "10", "CUT-1")
    cost = [r for r in rows if r["topic"] == "job.cost"][-1]
    final = db.read(lambda s: costing.job_cost(s, WO, at=at(8, 45)))
    assert Decimal(cost["cost_total"]) == final.actual.total
