"""Rework goes back to the step that made it; the step finishes only when the rework is done."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from isom.costing import services as costing
from isom.db import Database
from isom.ledger.models import Container, Content
from isom.production import queries
from isom.production import services as production
from isom.production.schemas import StepScan, StopScan
from isom.web.app import create_app
from tests.builders import token
from tests.ledger.support import assert_verified, contents
from tests.production.support import (
    DAY,
    at,
    create,
    demo_masterdata,
    receive,
    scan,
    start_and_consume,
)

D = Decimal


@pytest.fixture
def cutting(db: Database) -> Database:
    """Anna cuts 10 red leads (WO-000001) on CUT-1 from 8:00, 3.05 m of wire consumed."""
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
        quantity=D("3.05"),
    )
    return db


def stop(db: Database, good: str, rework: str, hh: int, mm: int, **kw: object) -> dict[str, object]:
    result = scan(
        db,
        production.stop_step,
        StopScan(
            badge="B1001",
            work_order="WO-000001",
            step=10,
            good_quantity=D(good),
            rework_quantity=D(rework),
            occurred_at=at(hh, mm),
            **kw,  # type: ignore[arg-type]
        ),
    )
    return {**result.detail, "step_status": result.step_status, "job": result.work_order_status}


def unit_cost(db: Database, container: str) -> Decimal:
    return db.read(
        lambda s: s.scalar(
            select(Content.unit_cost)
            .join(Container, Container.id == Content.container_id)
            .where(Container.code == container)
        )
    )


def test_reworked_units_stay_at_the_step_until_they_are_stopped_again(cutting: Database) -> None:
    db = cutting
    first = stop(db, "8", "2", 8, 30, new_container="LEADS-1")
    # Asked to complete, but 2 leads went to rework: the step waits for them, paused.
    assert (first["step_status"], first["job"], first["rework_pending"]) == (
        "paused",
        "in_progress",
        "2",
    )
    # Each of the 10 leads bears a tenth of the wire and of Anna's 30 minutes so far:
    # (3.05 x 0.20 + 30 min x 32/h) / 10 = 1.661; the 2 reworked keep theirs in the step.
    assert D(str(first["unit_cost"])) == D("1.661")
    assert contents(db, "LEADS-1") == {("LEAD-RD-300", "WO-000001", "available"): D(8)}
    board = db.read(lambda s: queries.wip(s, at=at(8, 35)))
    step = board.jobs[0].steps[0]
    assert (step.status, step.good, step.rework_pending, step.at_step) == ("paused", 8, 2, 2)
    with TestClient(create_app(db)) as client:
        page = client.get("/wip", headers=token(db, "supervisor"))
        assert page.status_code == 200 and "(rework 2)" in page.text

    scan(
        db,
        production.resume_step,
        StepScan(badge="B1001", work_order="WO-000001", step=10, occurred_at=at(8, 40)),
    )
    second = stop(db, "2", "0", 8, 50, container="LEADS-1")
    assert (second["step_status"], second["job"], second["rework_pending"]) == (
        "done",
        "complete",
        "0",
    )
    # The 2 reworked leads: their 2 x 1.661 plus 10 more minutes of Anna (5.3333) = 4.327667 each.
    assert D(str(second["unit_cost"])) == D("4.327667")
    step = db.read(lambda s: queries.work_order(s, "WO-000001")).steps[0]
    assert (step.quantity_good, step.quantity_rework, step.rework_pending) == (10, 2, 0)
    # Job cost by hand: wire 0.61 + Anna 40 min x 32/h (21.3333) = 21.94, all in the 10 leads.
    cost = db.read(lambda s: costing.job_cost(s, "WO-000001"))
    assert (cost.actual.material, cost.actual.labour, cost.actual.total) == (
        D("0.61"),
        D("21.33"),
        D("21.94"),
    )
    assert abs(unit_cost(db, "LEADS-1") * 10 - D("21.943333")) < D("0.00001")
    assert contents(db, "LEADS-1") == {("LEAD-RD-300", "WO-000001", "available"): D(10)}
    assert_verified(db)


def test_a_stop_counts_good_and_scrap_against_pending_rework_first(cutting: Database) -> None:
    db = cutting
    stop(db, "7", "3", 8, 30, new_container="LEADS-1")
    scan(
        db,
        production.resume_step,
        StepScan(badge="B1001", work_order="WO-000001", step=10, occurred_at=at(8, 40)),
    )
    # One of the three is good now, one is scrapped, and one needs another go.
    again = stop(
        db,
        "1",
        "1",
        8,
        50,
        container="LEADS-1",
        scrap_quantity=D(1),
        scrap_reason="strip length",
    )
    assert (again["step_status"], again["rework_pending"]) == ("paused", "1")
    scan(
        db,
        production.resume_step,
        StepScan(badge="B1001", work_order="WO-000001", step=10, occurred_at=at(8, 55)),
    )
    last = stop(db, "1", "0", 9, 0, container="LEADS-1")
    assert (last["step_status"], last["job"]) == ("done", "complete")
    step = db.read(lambda s: queries.work_order(s, "WO-000001")).steps[0]
    assert (step.quantity_good, step.quantity_scrap) == (9, 1)
    assert step.quantity_rework == 4  # 3 sent, then 1 sent again
    assert contents(db, "LEADS-1") == {("LEAD-RD-300", "WO-000001", "available"): D(9)}
    assert_verified(db)
