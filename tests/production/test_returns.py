"""Unused material and surplus WIP go back from a step to plain stock, through the ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from isom.costing import services as costing
from isom.db import Database
from isom.errors import Conflict, InvalidInput
from isom.ledger.models import Event, EventKind
from isom.production import queries
from isom.production import services as production
from isom.production.schemas import ConsumeScan, ReturnScan, StepScan, StopScan
from isom.web.app import create_app
from tests.builders import key, token
from tests.ledger.support import assert_verified, contents
from tests.production.support import (
    DAY,
    at,
    create,
    demo_masterdata,
    receive,
    refused,
    scan,
    start_and_consume,
)

D = Decimal


@pytest.fixture
def cutting(db: Database) -> Database:
    """A cut job (WO-000001, 10 red leads) running on CUT-1 with 4 m of wire consumed."""
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(db, "LEAD-RD-300", "10", DAY)
    start_and_consume(
        db,
        "WO-000001",
        10,
        "B1001",
        "CUT-1",
        at(8),
        container="W-RD",
        item="WIRE-0.5-RD",
        quantity=D(4),
    )
    return db


def give_back(quantity: str, *, item: str = "WIRE-0.5-RD", step: int = 10, **kw: Any) -> ReturnScan:
    """A return scan on WO-000001."""
    return ReturnScan(
        work_order="WO-000001",
        step=step,
        item=item,
        quantity=D(quantity),
        occurred_at=at(8, 25),
        **kw,
    )


def test_unused_wire_goes_back_to_stock_and_leaves_the_job_cost(cutting: Database) -> None:
    db = cutting
    cmd = give_back(
        "0.95", new_container="W-RD-REST", location="A-01", reason="end of reel", badge="B1001"
    )
    k = key()
    first = scan(db, production.return_material, cmd, idem=k)
    assert first.detail["unit_cost"] == "0.2"
    assert contents(db, "W-RD-REST") == {("WIRE-0.5-RD", "W-RD-1", "available"): D("0.95")}
    # A replay answers the same and moves nothing twice.
    again = scan(db, production.return_material, cmd, idem=k)
    assert again.replayed and again.ledger_events == first.ledger_events
    assert contents(db, "W-RD-REST") == {("WIRE-0.5-RD", "W-RD-1", "available"): D("0.95")}
    event = db.read(
        lambda s: s.execute(
            select(Event.kind, Event.reference, Event.reason).where(
                Event.id == first.ledger_events[0]
            )
        ).one()
    )
    assert tuple(event) == (EventKind.return_, "WO-000001/10", "end of reel")

    board = db.read(lambda s: queries.wip(s, at=at(8, 26)))
    assert board.jobs[0].steps[0].consumed == {"WIRE-0.5-RD": D("3.05")}
    scan(
        db,
        production.stop_step,
        StopScan(
            badge="B1001",
            work_order="WO-000001",
            step=10,
            good_quantity=D(10),
            new_container="LEADS",
            occurred_at=at(8, 30),
        ),
    )
    cost = db.read(lambda s: costing.job_cost(s, "WO-000001"))
    # material: 3.05 m x 0.20 (4 consumed, 0.95 returned); labour: Anna 30 min x 32/h = 16.00
    assert cost.actual.material == D("0.61")
    assert cost.actual.total == D("16.61")
    assert cost.materials[0]["actual_quantity"] == "3.05"
    leads = db.read(lambda s: costing.batch_costs(s, "WO-000001"))
    assert [(b.lot, b.quantity, b.carried_value) for b in leads] == [("WO-000001", 10, D("16.61"))]
    # Conservation: 100 m received = 96 on the reel + 0.95 back in stock + 3.05 used by the job.
    assert contents(db, "W-RD") == {("WIRE-0.5-RD", "W-RD-1", "available"): D(96)}
    assert_verified(db)


def test_wrong_returns_get_a_clear_answer_and_change_nothing(cutting: Database) -> None:
    db = cutting
    err = refused(db, Conflict, production.return_material, give_back("5", location="A-01"))
    assert err.field == "quantity" and err.expected == "at most 4"
    refused(
        db,
        InvalidInput,
        production.return_material,
        give_back("1", item="CONN-JST-2", location="A-01"),
        field="item",
    )
    refused(
        db,
        InvalidInput,
        production.return_material,
        give_back("1", into="W-RD", location="A-01"),
        field="into",
    )
    refused(
        db,
        InvalidInput,
        production.return_material,
        give_back("0.0005", location="A-01"),  # metres have 3 decimals
        field="quantity",
    )
    refused(
        db,
        Conflict,
        production.return_material,
        give_back("1", container="W-RD", location="A-01", item="LEAD-RD-300"),
        field="container",
    )


@pytest.fixture
def crimped(db: Database) -> Database:
    """A harness job whose crimp step made 10 harnesses as WIP in WIP-10."""
    demo_masterdata(db)
    receive(db, "L-RD", "LEAD-RD-300", "10", "3", "WIP-RACK", lot="L-RD-1")
    receive(db, "L-BK", "LEAD-BK-300", "10", "3", "WIP-RACK", lot="L-BK-1")
    receive(db, "TERM-FLOOR", "TERM-JST", "100", "0.025", "WS-CRIMP-1")
    create(db, "HARN-JST-300", "10", DAY)
    scan(
        db,
        production.start_step,
        StepScan(
            badge="B1001", work_order="WO-000001", step=10, workstation="CRIMP-1", occurred_at=at(9)
        ),
    )
    for box, lead in (("L-RD", "LEAD-RD-300"), ("L-BK", "LEAD-BK-300")):
        scan(
            db,
            production.consume_scan,
            ConsumeScan(
                work_order="WO-000001",
                step=10,
                container=box,
                item=lead,
                quantity=D(10),
                occurred_at=at(9, 1),
            ),
        )
    scan(
        db,
        production.stop_step,
        StopScan(
            badge="B1001",
            work_order="WO-000001",
            step=10,
            good_quantity=D(10),
            new_container="WIP-10",
            occurred_at=at(9, 30),
        ),
    )
    return db


def test_surplus_wip_output_becomes_plain_stock_and_the_step_counts_it(crimped: Database) -> None:
    db = crimped
    carried = contents(db, "WIP-10")
    assert carried == {("HARN-JST-300", "WO-000001", "wip"): D(10)}
    harn = {"item": "HARN-JST-300", "container": "WIP-10"}
    scan(
        db,
        production.return_material,
        give_back("3", new_container="SPARE", location="FG-01", **harn),
    )
    scan(db, production.return_material, give_back("1", **harn))  # stays in WIP-10, as stock
    assert contents(db, "SPARE") == {("HARN-JST-300", "WO-000001", "available"): D(3)}
    assert contents(db, "WIP-10") == {
        ("HARN-JST-300", "WO-000001", "wip"): D(6),
        ("HARN-JST-300", "WO-000001", "available"): D(1),
    }
    board = db.read(lambda s: queries.wip(s, at=at(10)))
    step = next(j for j in board.jobs if j.work_order == "WO-000001").steps[0]
    assert (step.good, step.returned) == (10, 4)
    assert [(c.container, c.quantity) for c in step.after_step] == [("WIP-10", D(6))]
    # Conservation of the crimp step's output: made 10 = 6 still WIP + 4 returned to stock.
    assert step.good == sum(c.quantity for c in step.after_step) + step.returned
    assert_verified(db)
    # The job's own WIP inside a later step is finished there, not returned to stock.
    err = refused(
        db,
        Conflict,
        production.return_material,
        give_back("1", step=20, item="HARN-JST-300", location="FG-01"),
        field="item",
    )
    assert "own WIP" in err.detail


def test_an_operator_returns_through_the_api_and_a_clerk_cannot(cutting: Database) -> None:
    body = {
        "work_order": "WO-000001",
        "step": 10,
        "item": "WIRE-0.5-RD",
        "quantity": "0.5",
        "location": "A-01",
    }
    with TestClient(create_app(cutting)) as client:
        path = "/api/v1/production/scan/return"
        r = client.post(
            path, json=body, headers={**token(cutting, "clerk"), "Idempotency-Key": key()}
        )
        assert r.status_code == 403
        r = client.post(
            path, json=body, headers={**token(cutting, "operator"), "Idempotency-Key": key()}
        )
        assert r.status_code == 201, r.text
        container = r.json()["detail"]["container"]
        r = client.post(
            path,
            json={**body, "quantity": "9"},
            headers={**token(cutting, "operator"), "Idempotency-Key": key()},
        )
        assert r.status_code == 409 and r.json()["field"] == "quantity"
    assert contents(cutting, container) == {("WIRE-0.5-RD", "W-RD-1", "available"): D("0.5")}
    placed = cutting.read(
        lambda s: s.scalar(select(Event.location_id).where(Event.kind == EventKind.return_))
    )
    assert placed is not None
