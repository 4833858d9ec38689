"""Serial-tracked output: one new, distinct serial per unit at stop, each its own container line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from isom.db import Database
from isom.errors import Conflict, InvalidInput
from isom.ledger import queries as ledger_queries
from isom.production import services as production
from isom.production.schemas import ConsumeScan, StepScan, StopScan
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


def start_cutting(db: Database, wo: str, metres: str) -> None:
    """Anna starts cutting cords of `wo` on CUT-1 and takes cable from the reel."""
    scan(
        db,
        production.start_step,
        StepScan(badge="B1001", work_order=wo, step=10, workstation="CUT-1", occurred_at=at(8)),
    )
    scan(
        db,
        production.consume_scan,
        ConsumeScan(
            work_order=wo,
            step=10,
            container="CABLE",
            item="CABLE-4C-GY",
            quantity=D(metres),
            occurred_at=at(8, 1),
        ),
    )


@pytest.fixture
def cords(db: Database) -> Database:
    """Three serial-tracked M8 cords (WO-000001) being cut."""
    demo_masterdata(db)
    receive(db, "CABLE", "CABLE-4C-GY", "100", "0.85", "A-01", lot="C-1")
    create(db, "CORD-M8-2M", "3", DAY)
    start_cutting(db, "WO-000001", "6.15")
    return db


def stop(**kw: Any) -> StopScan:
    """A stop of step 10 of WO-000001 (2 good into CORDS by Anna) with `kw` changed."""
    fields = {
        "badge": "B1001",
        "work_order": "WO-000001",
        "step": 10,
        "occurred_at": at(8, 30),
        "good_quantity": D(2),
        "new_container": "CORDS",
    }
    return StopScan.model_validate({**fields, **kw})


def test_each_serial_is_its_own_line_and_scrapped_units_need_theirs(cords: Database) -> None:
    db = cords
    result = scan(
        db,
        production.stop_step,
        stop(
            serials=["S-001", "S-002"],
            scrap_quantity=D(1),
            scrap_reason="short cut",
            scrap_serials=["S-003"],
        ),
    )
    assert result.detail["serials"] == ["S-001", "S-002"]
    assert contents(db, "CORDS") == {
        ("CORD-M8-2M", "S-001", "wip"): D(1),
        ("CORD-M8-2M", "S-002", "wip"): D(1),
    }
    tree = db.read(lambda s: ledger_queries.genealogy(s, "CORD-M8-2M", "S-002", "backward"))
    assert ("CABLE-4C-GY", "C-1") in {(n.item, n.lot) for n in tree.nodes}
    assert_verified(db)


def test_wrong_serials_get_a_clear_answer_and_change_nothing(cords: Database) -> None:
    db = cords
    err = refused(db, InvalidInput, production.stop_step, stop(), field="serials")
    assert err.expected == "2 serials, one per unit"
    refused(db, InvalidInput, production.stop_step, stop(serials=["S-1"]), field="serials")
    refused(db, InvalidInput, production.stop_step, stop(serials=["S-1", "S-1"]), field="serials")
    refused(
        db,
        InvalidInput,
        production.stop_step,
        stop(
            good_quantity=D(1),
            serials=["S-1"],
            scrap_quantity=D(1),
            scrap_reason="x",
            scrap_serials=["S-1"],
        ),
        field="scrap_serials",
    )
    refused(
        db,
        InvalidInput,
        production.stop_step,
        stop(good_quantity=D("1.5"), serials=["S-1", "S-2"]),
        field="good_quantity",
    )
    refused(
        db,
        InvalidInput,
        production.stop_step,
        stop(serials=["S-1", "S-2"], lot="L-1"),
        field="lot",
    )


def test_a_serial_is_never_given_twice(cords: Database) -> None:
    db = cords
    scan(db, production.stop_step, stop(serials=["S-001", "S-002"], good_quantity=D(2)))
    create(db, "CORD-M8-2M", "1", DAY)
    # WO-000002 (the second cord job) reuses S-002.
    start_and_consume(
        db,
        "WO-000002",
        10,
        "B1004",
        "CUT-1",
        at(9),
        container="CABLE",
        item="CABLE-4C-GY",
        quantity=D("2.05"),
    )
    err = refused(
        db,
        Conflict,
        production.stop_step,
        stop(
            work_order="WO-000002",
            good_quantity=D(1),
            serials=["S-002"],
            new_container="CORDS-2",
            badge="B1004",
            occurred_at=at(9, 30),
        ),
        field="serials",
    )
    assert "S-002" in err.detail


def test_items_without_serials_refuse_them(db: Database) -> None:
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(db, "LEAD-RD-300", "10", DAY)
    scan(
        db,
        production.start_step,
        StepScan(
            badge="B1001", work_order="WO-000001", step=10, workstation="CUT-1", occurred_at=at(8)
        ),
    )
    refused(
        db,
        InvalidInput,
        production.stop_step,
        stop(good_quantity=D(10), serials=["X"]),
        field="serials",
    )
