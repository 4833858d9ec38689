"""Work orders and scans one rule at a time: transitions, idempotency, and wrong scans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.errors import Conflict, InvalidInput, InvalidTransition, NotFound, WrongState
from isom.ledger import services as ledger
from isom.ledger.schemas import HoldCommand
from isom.masterdata import imports as md_import
from isom.production import services as production
from isom.production.models import (
    LabourRecord,
    StepStatus,
    WorkOrder,
    WorkOrderStatus,
    WorkOrderStep,
)
from isom.production.schemas import (
    ChangeWorkOrder,
    ConsumeScan,
    MachineStateCommand,
    ReleaseWorkOrder,
    StepScan,
    StopScan,
)
from tests.builders import key
from tests.production.support import (
    ACTOR,
    DAY,
    at,
    create,
    demo_masterdata,
    receive,
    refused,
    scan,
)

D = Decimal


@pytest.fixture
def job(db: Database) -> Database:
    demo_masterdata(db)
    receive(db, "W-RD", "WIRE-0.5-RD", "100", "0.20", "A-01", lot="W-RD-1")
    receive(db, "W-BK", "WIRE-0.5-BK", "100", "0.20", "A-01", lot="W-BK-1")
    create(db, "LEAD-RD-300", "10", DAY)  # WO-000001, one cut step
    return db


def test_release_snapshots_the_route_so_later_edits_do_not_change_the_job(job: Database) -> None:
    def edit(s: Session) -> None:
        md_import.import_rows(
            s,
            "routes",
            [
                {
                    "code": "R-LEAD-RD-300",
                    "item": "LEAD-RD-300",
                    "name": "x",
                    "revision": "B",
                    "batch_size": "100",
                    "steps": [
                        {
                            "sequence": 10,
                            "operation": "cut",
                            "workstation_kind": "cutter",
                            "skill": "cut",
                            "setup_minutes": "99",
                            "run_minutes": "1",
                            "run_basis": "unit",
                            "cleanup_minutes": "0",
                            "inputs": [{"item": "WIRE-0.5-RD", "quantity_per": "9"}],
                            "outputs": [
                                {"item": "LEAD-RD-300", "kind": "main", "quantity_per": "1"}
                            ],
                        }
                    ],
                }
            ],
        )

    job.write(edit)

    def read(s: Session) -> tuple[Decimal, Decimal, list[Decimal]]:
        step = production.get_step(s, production.get_work_order(s, "WO-000001"), 10)
        return (
            step.setup_minutes,
            step.standard_minutes,
            [m.quantity for m in production.materials_of(s, step)],
        )

    setup, standard, quantities = job.read(read)
    assert setup == 10 and standard == D("15.5")  # 10 + 0.05 x 10 + 5
    assert quantities == [D("3.05"), D(10)]


def test_transition_tables_refuse_what_they_do_not_list() -> None:
    wo = WorkOrder(number="WO-X", status=WorkOrderStatus.planned)
    with pytest.raises(Conflict) as caught:
        production.transition_work_order(wo, WorkOrderStatus.complete, actor=ACTOR, at=at(8))
    assert caught.value.field == "work_order"
    step = WorkOrderStep(sequence=10, status=StepStatus.waiting)
    with pytest.raises(Conflict):
        production.transition_step(step, StepStatus.running, actor=ACTOR, at=at(8))
    production.transition_step(step, StepStatus.ready, actor=ACTOR, at=at(8))
    assert step.status is StepStatus.ready


def test_a_replayed_scan_is_applied_once_and_a_reused_key_is_refused(job: Database) -> None:
    cmd = StepScan(
        badge="B1001", work_order="WO-000001", step=10, workstation="CUT-1", occurred_at=at(8)
    )
    first = scan(job, production.start_step, cmd, idem="k-start")
    again = scan(job, production.start_step, cmd, idem="k-start")
    assert again.replayed and again.event_id == first.event_id
    assert job.read(lambda s: len(s.scalars(select(LabourRecord)).all())) == 1
    other = StepScan(badge="B1004", work_order="WO-000001", step=10, workstation="CUT-1")
    with pytest.raises(Conflict) as caught:
        scan(job, production.start_step, other, idem="k-start")
    assert caught.value.field == "Idempotency-Key"


def test_wrong_scans_get_a_clear_answer_and_change_nothing(job: Database) -> None:
    start = production.start_step
    refused(
        job,
        NotFound,
        start,
        StepScan(badge="NOPE", work_order="WO-000001", step=10, workstation="CUT-1"),
        field="badge",
    )
    refused(
        job,
        NotFound,
        start,
        StepScan(badge="B1001", work_order="WO-999999", step=10, workstation="CUT-1"),
        field="work_order",
    )
    refused(
        job,
        NotFound,
        start,
        StepScan(badge="B1001", work_order="WO-000001", step=20, workstation="CUT-1"),
        field="step",
    )
    # Omar cannot cut; the crimp press cannot cut; the step needs a workstation
    refused(
        job,
        Conflict,
        start,
        StepScan(badge="B1002", work_order="WO-000001", step=10, workstation="CUT-1"),
        field="badge",
    )
    refused(
        job,
        Conflict,
        start,
        StepScan(badge="B1001", work_order="WO-000001", step=10, workstation="CRIMP-1"),
        field="workstation",
    )
    refused(
        job,
        InvalidInput,
        start,
        StepScan(badge="B1001", work_order="WO-000001", step=10),
        field="workstation",
    )
    # consuming into a step that has not started
    refused(
        job,
        WrongState,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000001", step=10, container="W-RD", item="WIRE-0.5-RD", quantity=D(1)
        ),
        field="step",
    )
    scan(
        job,
        start,
        StepScan(
            badge="B1001", work_order="WO-000001", step=10, workstation="CUT-1", occurred_at=at(8)
        ),
    )
    # the same person twice; an item not in the step BOM; a lot on hold; more than there is
    refused(
        job,
        Conflict,
        start,
        StepScan(badge="B1001", work_order="WO-000001", step=10, workstation="CUT-1"),
        field="badge",
    )
    refused(
        job,
        InvalidInput,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000001", step=10, container="W-BK", item="WIRE-0.5-BK", quantity=D(1)
        ),
        field="item",
    )
    refused(
        job,
        Conflict,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000001", step=10, container="W-RD", item="WIRE-0.5-RD", quantity=D(1000)
        ),
    )
    job.write(lambda s: ledger.hold(s, ACTOR, key(), HoldCommand(container="W-RD", reason="QA")))
    refused(
        job,
        Conflict,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000001", step=10, container="W-RD", item="WIRE-0.5-RD", quantity=D(1)
        ),
        field="container",
    )
    # a stop with scrap but no reason; a job that is not complete cannot close
    refused(
        job,
        InvalidInput,
        production.stop_step,
        StopScan(
            badge="B1001", work_order="WO-000001", step=10, good_quantity=D(1), scrap_quantity=D(1)
        ),
        field="scrap_reason",
    )
    refused(
        job,
        Conflict,
        production.close_work_order,
        ChangeWorkOrder(work_order="WO-000001"),
        field="work_order",
    )
    refused(
        job,
        InvalidTransition,
        production.release_work_order,
        ReleaseWorkOrder(work_order="WO-000001"),
        field="work_order",
    )
    refused(
        job,
        InvalidInput,
        production.machine_state,
        MachineStateCommand(workstation="CUT-1", state="down"),
        field="reason",
    )


def test_wip_of_another_job_cannot_be_consumed(job: Database) -> None:
    create(job, "LEAD-RD-300", "5", DAY)  # WO-000002
    for wo in ("WO-000001", "WO-000002"):
        scan(
            job,
            production.start_step,
            StepScan(
                badge="B1001" if wo.endswith("1") else "B1004",
                work_order=wo,
                step=10,
                workstation="CUT-1",
                occurred_at=at(8),
            ),
        )
    scan(
        job,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000001",
            step=10,
            container="W-RD",
            item="WIRE-0.5-RD",
            quantity=D("3.05"),
            occurred_at=at(8, 5),
        ),
    )
    # park the wire as WIP of WO-000001/10 in a container, then try to use it in the other job
    job.write(lambda s: ledger.produce(s, ACTOR, key(), ledger_produce_wip()))
    refused(
        job,
        Conflict,
        production.consume_scan,
        ConsumeScan(
            work_order="WO-000002", step=10, container="PARK", item="WIRE-0.5-RD", quantity=D(1)
        ),
        field="container",
    )


def ledger_produce_wip() -> Any:
    from isom.ledger.schemas import LotIn, ProduceCommand

    return ProduceCommand(
        step="WO-000001/10",
        item="WIRE-0.5-RD",
        lot=LotIn(code="W-RD-1"),
        quantity=D(1),
        wip=True,
        new_container="PARK",
        location="WS-CUT-1",
    )


def test_labour_of_two_people_and_pause_resume_and_leave(job: Database) -> None:
    wo, step = "WO-000001", 10
    scan(
        job,
        production.start_step,
        StepScan(badge="B1001", work_order=wo, step=step, workstation="CUT-1", occurred_at=at(8)),
    )
    scan(
        job,
        production.start_step,
        StepScan(
            badge="B1004", work_order=wo, step=step, workstation="CUT-1", occurred_at=at(8, 10)
        ),
    )
    scan(
        job,
        production.leave_step,
        StepScan(badge="B1004", work_order=wo, step=step, occurred_at=at(8, 20)),
    )
    scan(
        job,
        production.leave_step,
        StepScan(badge="B1001", work_order=wo, step=step, occurred_at=at(8, 30)),
    )
    status = job.read(
        lambda s: production.get_step(s, production.get_work_order(s, wo), step).status
    )
    assert status is StepStatus.paused
    scan(
        job,
        production.resume_step,
        StepScan(badge="B1001", work_order=wo, step=step, occurred_at=at(9)),
    )
    from isom.production import timekeeping

    minutes = job.read(
        lambda s: timekeeping.labour_minutes(
            s, s.scalar(select(WorkOrder.id).where(WorkOrder.number == wo)) or 0, at(9, 15)
        )
    )
    assert sorted(minutes.values()) == [D(10), D(45)]  # Jonas 10; Anna 30 + 15 (still on)


def test_a_person_on_two_jobs_at_once_has_the_time_split(job: Database) -> None:
    create(job, "LEAD-BK-300", "10", DAY)  # WO-000002
    for wo in ("WO-000001", "WO-000002"):
        scan(
            job,
            production.start_step,
            StepScan(badge="B1001", work_order=wo, step=10, workstation="CUT-1", occurred_at=at(8)),
        )
    from isom.production import timekeeping

    minutes = job.read(lambda s: timekeeping.labour_minutes(s, 1, at(8, 30)))
    assert list(minutes.values()) == [D(15)]
