"""Learned times: setup, run and cleanup told apart by the machine's states, per run length."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.production import queries
from isom.production import services as production
from isom.production.models import MachineState
from isom.production.schemas import ConsumeScan, MachineStateCommand, StepScan, StopScan
from isom.web.app import create_app
from tests.builders import token
from tests.production.support import DAY, at, create, demo_masterdata, receive, scan

D = Decimal


def machine(db: Database, state: MachineState, hh: int, mm: int, reason: str | None = None) -> None:
    scan(
        db,
        production.machine_state,
        MachineStateCommand(
            workstation="CUT-1", state=state, reason=reason, occurred_at=at(hh, mm)
        ),
    )


def cut(db: Database, wo: str, quantity: str, start: tuple[int, int], end: tuple[int, int]) -> None:
    """Anna cuts all of `wo` on CUT-1 between `start` and `end`."""
    scan(
        db,
        production.start_step,
        StepScan(
            badge="B1001", work_order=wo, step=10, workstation="CUT-1", occurred_at=at(*start)
        ),
    )
    scan(
        db,
        production.consume_scan,
        ConsumeScan(
            work_order=wo,
            step=10,
            container="W-RD",
            item="WIRE-0.5-RD",
            quantity=D("0.305") * D(quantity),
            occurred_at=at(*start),
        ),
    )
    scan(
        db,
        production.stop_step,
        StopScan(
            badge="B1001",
            work_order=wo,
            step=10,
            good_quantity=D(quantity),
            occurred_at=at(*end),
        ),
    )


@pytest.fixture
def learned(db: Database) -> Database:
    """Two cut jobs done on CUT-1: 10 leads with setup, down and cleanup states, then 120."""
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(db, "LEAD-RD-300", "10", DAY)  # WO-000001
    create(db, "LEAD-RD-300", "120", DAY)  # WO-000002
    machine(db, MachineState.setup, 8, 0)
    machine(db, MachineState.run, 8, 10)
    machine(db, MachineState.down, 8, 25, reason="blade jam")
    machine(db, MachineState.run, 8, 27)
    machine(db, MachineState.cleanup, 8, 32)
    machine(db, MachineState.idle, 8, 35)
    cut(db, "WO-000001", "10", (8, 0), (8, 35))
    cut(db, "WO-000002", "120", (9, 0), (10, 0))  # the machine is idle: manual work is run
    return db


def test_setup_run_and_cleanup_come_from_the_machine_states_beside_the_standards(
    learned: Database,
) -> None:
    db = learned
    learned_by_band = {t.run_length: t for t in db.read(queries.learned_times)}
    assert set(learned_by_band) == {"10-99", "100-999"}
    short = learned_by_band["10-99"]
    assert (short.operation, short.item, short.workstation, short.steps) == (
        "cut",
        "LEAD-RD-300",
        "CUT-1",
        1,
    )
    # 35 minutes clocked: setup 8:00-8:10, down 8:25-8:27, cleanup 8:32-8:35, the rest run.
    assert (short.setup_minutes, short.run_minutes, short.cleanup_minutes) == (10, 20, 3)
    assert short.down_minutes == 2
    assert short.actual_minutes == 35
    assert short.run_minutes_per_unit == 2
    assert (
        short.standard_setup_minutes,
        short.standard_run_minutes_per_unit,
        short.standard_cleanup_minutes,
    ) == (10, D("0.05"), 5)
    long = learned_by_band["100-999"]
    assert (long.units, long.setup_minutes, long.run_minutes, long.cleanup_minutes) == (
        120,
        0,
        60,
        0,
    )
    assert long.run_minutes_per_unit == D("0.5")
    assert long.standard_minutes == 10 + D("0.05") * 120 + 5


def test_the_learned_times_page_shows_them_beside_the_standards(learned: Database) -> None:
    with TestClient(create_app(learned)) as client:
        page = client.get("/learned-times", headers=token(learned, "planner"))
        assert page.status_code == 200
        row = page.text.split('id="learned-table"')[1]
        assert "LEAD-RD-300" in row and "10-99" in row and "100-999" in row
        figure = json.loads(
            page.text.split('id="learned-figure" type="application/json">')[1].split("</script>")[0]
        )
        assert [t["name"] for t in figure["data"]] == ["setup", "run", "cleanup"]
        setup = dict(zip(figure["data"][0]["y"], figure["data"][0]["x"], strict=True))
        assert setup["cut LEAD-RD-300 @CUT-1 (10-99) actual"] == 10
        assert setup["cut LEAD-RD-300 @CUT-1 (10-99) standard"] == 10
        run = dict(zip(figure["data"][1]["y"], figure["data"][1]["x"], strict=True))
        assert run["cut LEAD-RD-300 @CUT-1 (10-99) actual"] == 20  # 2 min/unit x 10
        denied = client.get("/learned-times", headers=token(learned, "device"))
        assert "may not read" in denied.text
