"""Standard cost roll-up, overhead rates and the machine split between jobs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from isom.costing import services as costing
from isom.db import Database
from isom.errors import NotFound
from isom.production import services as production
from isom.production.models import MachineState
from isom.production.schemas import ConsumeScan, MachineStateCommand, StepScan, StopScan
from isom.web.app import create_app
from tests.builders import token
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


def test_standard_overhead_is_rolled_up_and_charged_against_the_job(md: Database) -> None:
    md.write(lambda s: costing.set_overhead_rate(s, "CUT-1", D(12)))
    lead = md.read(lambda s: costing.standard_cost(s, "LEAD-RD-300"))
    assert lead.overhead == D("0.04")  # 0.2 standard minutes per lead x 12/h
    assert lead.total == lead.material + lead.labour + lead.machine + lead.overhead
    receive(md, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(md, "LEAD-RD-300", "10", DAY)
    cut(md, "WO-000001", [("10", None, 8, 30)])
    cost = md.read(lambda s: costing.job_cost(s, "WO-000001"))
    # standard minutes for 10: 10 setup + 0.05 x 10 run + 5 cleanup = 15.5; x 12/h = 3.10
    assert cost.standard.overhead == D("3.10")
    assert cost.actual.overhead == D("6.00")  # Anna on CUT-1 for 30 minutes x 12/h
    assert cost.variances.overhead == D("2.90")
    # wire 3.05 m x 0.12 = 0.366; 15.5 min x 30.5/h = 7.8792; x 55/h = 14.2083; + 3.10
    assert cost.standard.total == D("25.55")
    parts = cost.variances.model_dump()
    total = parts.pop("total")
    assert abs(sum(parts.values()) - total) <= D("0.03")
    assert total == cost.actual.total - cost.standard.total
    # The standard rate was snapshotted at release: a later rate change leaves it alone.
    md.write(lambda s: costing.set_overhead_rate(s, "CUT-1", D(20)))
    assert md.read(lambda s: costing.job_cost(s, "WO-000001")).standard.overhead == D("3.10")


def cut(md: Database, wo: str, stops: list[tuple[str, str | None, int, int]]) -> None:
    """Anna cuts `wo` on CUT-1 from 8:00 with 3.05 m of wire; each stop is (good, lot, hh, mm),
    the last one completes the step and the others pause it until she resumes 5 minutes on."""
    scan(
        md,
        production.start_step,
        StepScan(badge="B1001", work_order=wo, step=10, workstation="CUT-1", occurred_at=at(8)),
    )
    scan(
        md,
        production.consume_scan,
        ConsumeScan(
            work_order=wo,
            step=10,
            container="W-RD",
            item="WIRE-0.5-RD",
            quantity=D("3.05"),
            occurred_at=at(8, 1),
        ),
    )
    for n, (good, lot, hh, mm) in enumerate(stops):
        last = n == len(stops) - 1
        scan(
            md,
            production.stop_step,
            StopScan(
                badge="B1001",
                work_order=wo,
                step=10,
                good_quantity=D(good),
                lot=lot,
                complete=last,
                occurred_at=at(hh, mm),
            ),
        )
        if not last:
            scan(
                md,
                production.resume_step,
                StepScan(badge="B1001", work_order=wo, step=10, occurred_at=at(hh, mm + 5)),
            )


def test_each_finished_lot_is_a_batch_with_its_share_of_cost_and_variance(md: Database) -> None:
    receive(md, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(md, "LEAD-RD-300", "10", DAY)
    cut(md, "WO-000001", [("4", "B-1", 8, 20), ("6", "B-2", 8, 40)])
    job = md.read(lambda s: costing.job_cost(s, "WO-000001"))
    # wire 3.05 x 0.20 = 0.61; Anna 8:00-8:20 and 8:25-8:40 = 35 min x 32/h = 18.6667
    assert job.actual.total == D("19.28")
    batches = md.read(lambda s: costing.batch_costs(s, "WO-000001"))
    assert [(b.lot, b.quantity, b.share) for b in batches] == [
        ("B-1", D(4), D("0.4")),
        ("B-2", D(6), D("0.6")),
    ]
    b1, b2 = batches
    assert (b1.actual.total, b2.actual.total) == (D("7.71"), D("11.57"))  # 19.2767 x 0.4, x 0.6
    assert b1.standard.total + b2.standard.total - job.standard.total in (D(0), D("0.01"))
    assert b1.variances.total == b1.actual.total - b1.standard.total
    # What each lot carries in stock: B-1 left at (0.61 + 20 min of Anna) = 11.28; B-2 took the
    # rest of Anna's time, 15 minutes = 8.00.
    assert (b1.carried_value, b2.carried_value) == (D("11.28"), D("8.00"))
    assert b1.carried_value + b2.carried_value == job.actual.total


def test_batch_costs_through_the_api_for_cost_readers(md: Database) -> None:
    receive(md, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    create(md, "LEAD-RD-300", "10", DAY)
    cut(md, "WO-000001", [("10", None, 8, 30)])
    with TestClient(create_app(md)) as client:
        path = "/api/v1/costing/jobs/WO-000001/batches"
        assert client.get(path, headers=token(md, "operator")).status_code == 403
        r = client.get(path, headers=token(md, "accountant"))
        assert r.status_code == 200, r.text
        assert [(b["lot"], b["quantity"], b["actual"]["total"]) for b in r.json()] == [
            ("WO-000001", "10", "16.61")
        ]
        r = client.get("/api/v1/costing/jobs/WO-999999/batches", headers=token(md, "accountant"))
        assert r.status_code == 404 and r.json()["field"] == "work_order"
