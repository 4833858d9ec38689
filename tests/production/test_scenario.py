"""A harness job, walked through every step by the calls the scanners make.

Story: a customer orders 10 JST harnesses. Releasing the job makes two child jobs for the red
and black leads; Anna and Jonas cut them side by side on the one cutter (CUT-1), which splits
its 30 minutes between them by quantity. Anna and Omar crimp the harness on CRIMP-1 while Kai
crimps another customer's 30 harnesses on the same press; one harness is scrapped. Omar
assembles (with a coffee break) and puts two spare connectors back in their box, Jonas tests
and packs. Then we check the WIP after each step, conservation, the genealogy back to the wire
lots, the cost to the cent by hand (standard overhead and the one finished batch included).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from isom.costing import services as costing
from isom.db import Database
from isom.ledger import queries as ledger_queries
from isom.ledger.models import Content
from isom.production import queries
from isom.production import services as production
from isom.production.models import MachineState
from isom.production.schemas import (
    ConsumeScan,
    MachineStateCommand,
    ReturnScan,
    StepScan,
    StopScan,
)
from tests.ledger.support import assert_verified, contents
from tests.production.support import DAY, at, create, demo_masterdata, receive, scan

D = Decimal


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    receive(db, "W-BK", "WIRE-0.5-BK", "100", "0.20", "A-01", lot="W-BK-1")
    receive(db, "TERM-FLOOR", "TERM-JST", "500", "0.025", "WS-CRIMP-1")
    receive(db, "CONN-BOX", "CONN-JST-2", "100", "0.08", "A-02")
    receive(db, "HS-FLOOR", "HSHRINK-6", "10", "0.30", "WS-ASSY-1")
    receive(db, "BAGS", "BAG-ESD-S", "100", "0.05", "A-03")
    receive(db, "BOXES", "BOX-S", "20", "0.60", "A-03")
    db.write(lambda s: costing.set_overhead_rate(s, "TEST-1", D("6")))
    return db


def machine(db: Database, ws: str, state: MachineState, hh: int, mm: int = 0) -> None:
    scan(
        db,
        production.machine_state,
        MachineStateCommand(workstation=ws, state=state, occurred_at=at(hh, mm)),
    )


def start(db: Database, badge: str, wo: str, step: int, ws: str, hh: int, mm: int = 0) -> None:
    scan(
        db,
        production.start_step,
        StepScan(badge=badge, work_order=wo, step=step, workstation=ws, occurred_at=at(hh, mm)),
    )


def consume(
    db: Database, wo: str, step: int, container: str, item: str, qty: str, hh: int, mm: int = 0
) -> None:
    scan(
        db,
        production.consume_scan,
        ConsumeScan(
            work_order=wo,
            step=step,
            container=container,
            item=item,
            quantity=D(qty),
            occurred_at=at(hh, mm),
        ),
    )


def stop(
    db: Database, badge: str, wo: str, step: int, good: str, hh: int, mm: int = 0, **kw: object
) -> str:
    result = scan(
        db,
        production.stop_step,
        StopScan(
            badge=badge,
            work_order=wo,
            step=step,
            good_quantity=D(good),
            occurred_at=at(hh, mm),
            **kw,
        ),
    )  # type: ignore[arg-type]
    return str(result.detail["container"])


def job_board(db: Database, wo: str) -> queries.WipJob:
    board = db.read(lambda s: queries.wip(s, at=at(12)))
    return next(j for j in board.jobs if j.work_order == wo)


def test_a_harness_job_from_wire_to_finished_stock(plant: Database) -> None:
    db = plant
    job = create(db, "HARN-JST-300", "10", DAY.replace(day=25))
    assert job.work_order == "WO-000001"
    assert job.detail["children"] == ["WO-000002", "WO-000003"]
    other = create(db, "HARN-JST-300", "30", DAY.replace(day=28))
    assert other.work_order == "WO-000004"
    view = db.read(lambda s: queries.work_order(s, "WO-000001"))
    assert [s.status for s in view.steps] == ["ready", "waiting", "waiting", "waiting"]
    assert view.steps[0].inputs[2] == {"item": "TERM-JST", "quantity": "40", "floor_stock": True}

    # The two child jobs share the cutter: 30 minutes of run, 15 to each (same quantity).
    machine(db, "CUT-1", MachineState.run, 8)
    start(db, "B1001", "WO-000002", 10, "CUT-1", 8)
    start(db, "B1004", "WO-000003", 10, "CUT-1", 8)
    consume(db, "WO-000002", 10, "W-RD", "WIRE-0.5-RD", "3.05", 8, 1)
    consume(db, "WO-000003", 10, "W-BK", "WIRE-0.5-BK", "3.05", 8, 1)
    red = stop(db, "B1001", "WO-000002", 10, "10", 8, 30, new_container="LEADS-RD")
    black = stop(db, "B1004", "WO-000003", 10, "10", 8, 30, new_container="LEADS-BK")
    machine(db, "CUT-1", MachineState.idle, 8, 30)
    # child cost: wire 3.05 x 0.20 + Anna 30 min x 32/h + 15 machine min x 55/h
    assert db.read(lambda s: costing.job_cost(s, "WO-000002")).actual.total == D("30.36")
    assert db.read(lambda s: costing.job_cost(s, "WO-000003")).actual.total == D("28.86")
    assert contents(db, red) == {("LEAD-RD-300", "WO-000002", "available"): D(10)}

    # Step 10, crimp: Anna starts, Omar joins; Kai crimps the other job on the same press.
    machine(db, "CRIMP-1", MachineState.run, 9)
    start(db, "B1001", "WO-000001", 10, "CRIMP-1", 9)
    start(db, "B1006", "WO-000004", 10, "CRIMP-1", 9)
    start(db, "B1002", "WO-000001", 10, "CRIMP-1", 9, 10)
    consume(db, "WO-000001", 10, red, "LEAD-RD-300", "10", 9, 11)
    consume(db, "WO-000001", 10, black, "LEAD-BK-300", "10", 9, 12)
    board = job_board(db, "WO-000001")
    assert board.steps[0].people == ["Anna Berg", "Omar Haddad"]
    assert board.steps[0].consumed == {"LEAD-RD-300": D(10), "LEAD-BK-300": D(10)}
    wip10 = stop(
        db,
        "B1001",
        "WO-000001",
        10,
        "9",
        9,
        30,
        scrap_quantity=D(1),
        scrap_reason="crimp height out of tolerance",
        new_container="WIP-10",
    )
    scan(
        db,
        production.leave_step,
        StepScan(badge="B1006", work_order="WO-000004", step=10, occurred_at=at(9, 40)),
    )
    machine(db, "CRIMP-1", MachineState.idle, 9, 40)
    board = job_board(db, "WO-000001")
    assert [s.status for s in board.steps] == ["done", "ready", "waiting", "waiting"]
    assert board.current_step == 20
    assert [(c.container, c.quantity) for c in board.steps[0].after_step] == [(wip10, D(9))]
    assert board.steps[0].consumed["TERM-JST"] == D(40)  # backflushed: 4 x (9 good + 1 scrap)
    assert contents(db, wip10) == {("HARN-JST-300", "WO-000001", "wip"): D(9)}

    # Step 20, assemble: Omar, with a break from 10:20 to 10:30.
    start(db, "B1002", "WO-000001", 20, "ASSY-1", 10)
    consume(db, "WO-000001", 20, wip10, "HARN-JST-300", "9", 10, 1)
    consume(db, "WO-000001", 20, "CONN-BOX", "CONN-JST-2", "20", 10, 2)
    assert job_board(db, "WO-000001").steps[1].at_step == D(9)
    assert job_board(db, "WO-000001").steps[0].after_step == []
    scan(
        db,
        production.pause_step,
        StepScan(badge="B1002", work_order="WO-000001", step=20, occurred_at=at(10, 20)),
    )
    assert job_board(db, "WO-000001").steps[1].status == "paused"
    scan(
        db,
        production.resume_step,
        StepScan(badge="B1002", work_order="WO-000001", step=20, occurred_at=at(10, 30)),
    )
    # Two connectors were left over: Omar puts them back into their box before he stops.
    scan(
        db,
        production.return_material,
        ReturnScan(
            work_order="WO-000001",
            step=20,
            item="CONN-JST-2",
            quantity=D(2),
            into="CONN-BOX",
            badge="B1002",
            occurred_at=at(10, 45),
        ),
    )
    assert contents(db, "CONN-BOX") == {("CONN-JST-2", None, "available"): D(82)}
    assert job_board(db, "WO-000001").steps[1].consumed["CONN-JST-2"] == D(18)
    wip20 = stop(db, "B1002", "WO-000001", 20, "9", 10, 50, new_container="WIP-20")
    board = job_board(db, "WO-000001")
    assert board.steps[1].at_step == 0
    assert [(c.container, c.quantity) for c in board.steps[1].after_step] == [(wip20, D(9))]
    assert board.steps[1].consumed["HSHRINK-6"] == D("0.18")

    # Step 30, test on TEST-1 (machine 30/h, overhead 6/h): Jonas.
    machine(db, "TEST-1", MachineState.run, 11)
    start(db, "B1004", "WO-000001", 30, "TEST-1", 11)
    consume(db, "WO-000001", 30, wip20, "HARN-JST-300", "9", 11, 1)
    wip30 = stop(db, "B1004", "WO-000001", 30, "9", 11, 15, new_container="WIP-30")
    machine(db, "TEST-1", MachineState.idle, 11, 15)
    assert [(c.container, c.quantity) for c in job_board(db, "WO-000001").steps[2].after_step] == [
        (wip30, D(9))
    ]

    # Step 40, pack: one bag and one box, into finished stock.
    start(db, "B1004", "WO-000001", 40, "PACK-1", 11, 30)
    consume(db, "WO-000001", 40, wip30, "HARN-JST-300", "9", 11, 31)
    consume(db, "WO-000001", 40, "BAGS", "BAG-ESD-S", "1", 11, 32)
    consume(db, "WO-000001", 40, "BOXES", "BOX-S", "1", 11, 33)
    fg = stop(db, "B1004", "WO-000001", 40, "9", 11, 42, location="FG-01", new_container="FG-1")
    view = db.read(lambda s: queries.work_order(s, "WO-000001"))
    assert view.status == "complete"
    assert [s.status for s in view.steps] == ["done"] * 4
    assert "WO-000001" not in [j.work_order for j in db.read(lambda s: queries.wip(s)).jobs]
    assert contents(db, fg) == {("HARN-JST-300", "WO-000001", "available"): D(9)}

    learned = {(t.operation, t.item): t for t in db.read(queries.learned_times)}
    assert learned[("assemble", "HARN-JST-300")].actual_minutes == 40  # 10:00-10:20, 10:30-10:50
    assert learned[("assemble", "HARN-JST-300")].units == 9
    assert learned[("cut", "LEAD-RD-300")].actual_minutes_per_unit == 3  # 30 min, 10 leads

    # Conservation, per step: what came in (WIP or BOM) = good + scrap + what is still WIP.
    steps = {s.sequence: s for s in view.steps}
    assert steps[10].quantity_good + steps[10].quantity_scrap == D(10)  # 10 red + 10 black leads
    for before, after in ((10, 20), (20, 30), (30, 40)):
        wip_left = _wip_tagged(db, f"WO-000001/{before}")
        assert steps[before].quantity_good == _wip_in(db, after) + wip_left
    assert _wip_tagged(db, "WO-000001/10") == 0
    # And for the job: the 10 harnesses crimped = 9 in finished stock + 1 scrapped + 0 WIP, and
    # every material consumed is net of what went back to stock (20 - 2 connectors).
    finished = db.read(lambda s: ledger_queries.inventory(s, item="HARN-JST-300", lot="WO-000001"))
    assert sum(r.quantity for r in finished.rows if r.status == "available") == 9
    assert sum(_wip_tagged(db, f"WO-000001/{n}") for n in (10, 20, 30, 40)) == 0
    assert steps[10].quantity_good + steps[10].quantity_scrap == D(9) + D(1) + D(0)
    assert {m["item"]: D(m["actual_quantity"]) for m in _materials(db)}["CONN-JST-2"] == 18
    assert_verified(db)

    # Genealogy: the finished lot goes back to the leads and the wire lots.
    tree = db.read(lambda s: ledger_queries.genealogy(s, "HARN-JST-300", "WO-000001", "backward"))
    lots = {(n.item, n.lot) for n in tree.nodes}
    assert {
        ("LEAD-RD-300", "WO-000002"),
        ("LEAD-BK-300", "WO-000003"),
        ("WIRE-0.5-RD", "W-RD-1"),
        ("WIRE-0.5-BK", "W-BK-1"),
    } <= lots

    # Cost by hand.
    # material: leads 10 x 3.036 + 10 x 2.886, terminals 40 x 0.025, connectors 18 x 0.08,
    #           heat-shrink 0.18 x 0.30, bag 0.05, box 0.60                      = 62.364
    # labour:   Anna 30 min x 32/h + Omar 20 min x 30/h (crimp) + Omar 40 min x 30/h (assembly)
    #           + Jonas 15 min x 29/h (test) + 12 min x 29/h (pack)             = 59.05
    # machine:  CRIMP-1 09:00-09:30 shared with the 30-piece job: 30 x 10/40 = 7.5 min x 42/h
    #           = 5.25; TEST-1 15 min x 30/h = 7.50                              = 12.75
    # overhead: TEST-1 15 min x 6/h                                              = 1.50
    cost = db.read(lambda s: costing.job_cost(s, "WO-000001"))
    assert cost.actual.material == D("62.36")
    assert cost.actual.labour == D("59.05")
    assert cost.actual.machine == D("12.75")
    assert cost.actual.overhead == D("1.50")
    assert cost.actual.total == D("135.66")
    assert cost.good_quantity == 9
    # standard material per harness: 0.06 + 0.06 + 4 x 0.02 + 2 x 0.08 + 0.02 x 0.30
    #                                + 0.1 x 0.05 + 0.02 x 0.60 = 0.383; x 9 = 3.447
    assert cost.standard.material == D("3.45")
    # standard overhead: test 2 + 0.25 x 9 = 4.25 standard minutes x 6/h (TEST-1) = 0.425
    # Shown in cents that add up to the standard total 45.30 (45.3015 rounded): rounded alone the
    # parts make 45.31, so the part rounding gained most (0.425 -> 0.43) gives the cent back.
    assert cost.standard.overhead == D("0.42")
    assert cost.standard.total == sum(
        (getattr(cost.standard, p) for p in ("material", "labour", "machine", "overhead")), D(0)
    )
    assert cost.variances.overhead == D("1.07")  # 1.075 (1.50 - 0.425), cents adding up
    # One batch: the finished lot WO-000001 bears the whole job and carries it less the scrap.
    (batch,) = db.read(lambda s: costing.batch_costs(s, "WO-000001"))
    assert (batch.lot, batch.quantity, batch.actual.total) == ("WO-000001", 9, D("135.66"))
    assert batch.carried_value == D("126.52")  # 135.664 - 9.147
    parts = cost.variances
    # To the cent: the variances add up to their total, and it is actual - standard as shown.
    assert (
        parts.material_price
        + parts.material_usage
        + parts.labour_efficiency
        + parts.labour_rate
        + parts.machine
        + parts.scrap
        + parts.overhead
        == parts.total
        == cost.actual.total - cost.standard.total
    )
    # The finished containers carry the job's cost less the scrapped harness (9.147).
    fg_cost = db.read(
        lambda s: s.scalar(
            select(Content.unit_cost).where(
                Content.quantity > 0,
                Content.wip_step.is_(None),
                Content.lot_id.is_not(None),
                Content.container_id == _container_id(s, fg),
            )
        )
    )
    assert abs(fg_cost * 9 - (D("135.664") - D("9.147"))) < D("0.0001")


def _materials(db: Database) -> list[dict[str, str]]:
    return db.read(lambda s: costing.job_cost(s, "WO-000001")).materials


def _wip_tagged(db: Database, ref: str) -> Decimal:
    return db.read(
        lambda s: sum(s.scalars(select(Content.quantity).where(Content.wip_step == ref)), D(0))
    )


def _wip_in(db: Database, step: int) -> Decimal:
    view = db.read(lambda s: queries.work_order(s, "WO-000001"))
    board_steps = {s.sequence: s for s in view.steps}
    del board_steps
    return db.read(
        lambda s: (
            production.get_step(s, production.get_work_order(s, "WO-000001"), step).quantity_in
        )
    )


def _container_id(s: object, code: str) -> int:
    from sqlalchemy.orm import Session

    from isom.ledger.models import Container

    assert isinstance(s, Session)
    return int(s.scalar(select(Container.id).where(Container.code == code)) or 0)
