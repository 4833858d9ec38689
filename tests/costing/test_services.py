"""Standard cost roll-up, overhead rates and the machine split between jobs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isom.costing import services as costing
from isom.db import Database
from isom.errors import NotFound
from isom.production import services as production
from isom.production.models import MachineState
from isom.production.schemas import ConsumeScan, MachineStateCommand, StepScan, StopScan
from tests.production.support import DAY, at, create, demo_masterdata, receive, scan

D = Decimal


@pytest.fixture
def md(db: Database) -> Database:
    demo_masterdata(db)
    return db


def test_standard_cost_rolls_up_through_made_inputs(md: Database) -> None:
    lead = md.read(lambda s: costing.standard_cost(s, "LEAD-RD-300"))
    # wire 0.305 m x 0.12; cut (10 + 0.05 x 100 + 5) / 100 min per unit at the mean cut rate
    # of Anna 32 and Jonas 29 (30.5/h) and the cutter 55/h
    assert lead.material == D("0.0366")
    assert lead.labour == (D("0.2") * D("30.5") / 60).quantize(D("0.000001"))
    assert lead.machine == (D("0.2") * D(55) / 60).quantize(D("0.000001"))
    harness = md.read(lambda s: costing.standard_cost(s, "HARN-JST-300"))
    assert harness.rolled_up and harness.material > 2 * lead.material
    raw = md.read(lambda s: costing.standard_cost(s, "WIRE-0.5-RD"))
    assert not raw.rolled_up and raw.total == D("0.12")


def test_overhead_rate_needs_a_known_workstation(md: Database) -> None:
    with pytest.raises(NotFound):
        md.write(lambda s: costing.set_overhead_rate(s, "NOPE", D(1)))
    md.write(lambda s: costing.set_overhead_rate(s, "CUT-1", D(12)))
    md.write(lambda s: costing.set_overhead_rate(s, "CUT-1", D(10)))
    rate = md.read(
        lambda s: costing.overhead_rate(s, production.workstation_by_code(s, "CUT-1").id)
    )
    assert rate == D(10)


def test_machine_time_is_split_by_job_quantity_and_down_time_is_charged_to_nobody(
    md: Database,
) -> None:
    receive(md, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(md, "LEAD-RD-300", "10", DAY)  # WO-000001
    create(md, "LEAD-RD-300", "30", DAY)  # WO-000002
    scan(
        md,
        production.machine_state,
        MachineStateCommand(workstation="CUT-1", state=MachineState.setup, occurred_at=at(8)),
    )
    scan(
        md,
        production.start_step,
        StepScan(
            badge="B1001", work_order="WO-000001", step=10, workstation="CUT-1", occurred_at=at(8)
        ),
    )
    scan(
        md,
        production.start_step,
        StepScan(
            badge="B1004", work_order="WO-000002", step=10, workstation="CUT-1", occurred_at=at(8)
        ),
    )
    scan(
        md,
        production.machine_state,
        MachineStateCommand(
            workstation="CUT-1", state=MachineState.down, reason="jam", occurred_at=at(8, 20)
        ),
    )
    scan(
        md,
        production.machine_state,
        MachineStateCommand(workstation="CUT-1", state=MachineState.run, occurred_at=at(8, 40)),
    )
    scan(
        md,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000001",
            step=10,
            container="W-RD",
            item="WIRE-0.5-RD",
            quantity=D("3.05"),
            occurred_at=at(8, 41),
        ),
    )
    scan(
        md,
        production.stop_step,
        StopScan(
            badge="B1001", work_order="WO-000001", step=10, good_quantity=D(10), occurred_at=at(9)
        ),
    )
    cost = md.read(lambda s: costing.job_cost(s, "WO-000001", at=at(9)))
    # setup 20 min + run 20 min, a quarter each to the 10-piece job; the jam hour to nobody
    assert cost.machine_minutes == D(10)
    assert cost.actual.machine == D("9.17")  # 10 min x 55/h = 9.1666...
    assert cost.actual.labour == D("32.00")
    assert cost.actual.material == D("0.61")
