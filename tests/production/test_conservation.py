"""Material in, material out at every step: a stop is covered by what the step consumed, a
return gives back only what its output did not use, and a supervisor stops a job under way with
its work in process back in stock."""

from __future__ import annotations

import os
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import Session

from isom.db import Database
from isom.errors import Conflict, IsomError
from isom.ledger import queries as ledger_queries
from isom.ledger.verify import verify
from isom.masterdata import imports as md_import
from isom.production import queries
from isom.production import services as production
from isom.production.coverage import InputsMissing
from isom.production.models import WorkOrderStatus
from isom.production.schemas import (
    ChangeWorkOrder,
    ConsumeScan,
    CreateWorkOrder,
    ReturnScan,
    StepScan,
    StopScan,
)
from tests.builders import key
from tests.conftest import wipe
from tests.production.support import ACTOR, DAY, demo_masterdata, receive, refused, scan

D = Decimal
SUPERVISOR = ACTOR.__class__(name="sue", roles=frozenset({"supervisor"}))
PLANNER = ACTOR.__class__(name="pat", roles=frozenset({"planner"}))
EXAMPLES = int(os.environ.get("ISOM_PRODUCTION_EXAMPLES", "8"))

TWO_STEPS = {
    "code": "R-TWO",
    "item": "LEAD-BK-300",
    "name": "Cut, then trim",
    "revision": "T",
    "batch_size": "1",
    "active": False,
    "steps": [
        {
            "sequence": 10,
            "operation": "cut",
            "workstation_kind": "cutter",
            "skill": "cut",
            "inputs": [{"item": "WIRE-0.5-BK", "quantity_per": "0.5"}],
            "outputs": [{"item": "LEAD-BK-300", "kind": "main", "quantity_per": "1"}],
        },
        {
            "sequence": 20,
            "operation": "cut",
            "workstation_kind": "cutter",
            "skill": "cut",
            "outputs": [{"item": "LEAD-BK-300", "kind": "main", "quantity_per": "1"}],
        },
    ],
}


def two_step_job(db: Database, quantity: str = "20") -> None:
    """Demo master data, a reel of black wire, and WO-000001 on the two-step route, released."""
    demo_masterdata(db)
    db.write(lambda s: md_import.import_rows(s, "routes", [TWO_STEPS]))
    receive(db, "W-BK", "WIRE-0.5-BK", "100", "0.20", "A-01", lot="W-BK-1")
    cmd = CreateWorkOrder(
        item="LEAD-BK-300", quantity=D(quantity), due_date=DAY, route="R-TWO", release=True
    )
    scan(db, production.create_work_order, cmd)


def start(db: Database, step: int) -> None:
    cmd = StepScan(badge="B1001", work_order="WO-000001", step=step, workstation="CUT-1")
    scan(db, production.start_step, cmd)


def consume(db: Database, step: int, container: str, item: str, quantity: str) -> None:
    cmd = ConsumeScan(
        work_order="WO-000001", step=step, container=container, item=item, quantity=D(quantity)
    )
    scan(db, production.consume_scan, cmd)


def stop(step: int, good: str, **more: object) -> StopScan:
    return StopScan(badge="B1001", work_order="WO-000001", step=step, good_quantity=D(good), **more)  # type: ignore[arg-type]


def wip_at(db: Database, step: int) -> Decimal:
    board = db.read(lambda s: queries.wip(s))
    (job,) = [j for j in board.jobs if j.work_order == "WO-000001"]
    return next(s.at_step for s in job.steps if s.sequence == step)


def test_a_stop_beyond_what_the_step_consumed_is_refused_and_names_what_is_missing(
    db: Database,
) -> None:
    two_step_job(db)
    start(db, 10)
    consume(db, 10, "W-BK", "WIRE-0.5-BK", "0.5")  # covers one lead
    err = refused(db, InputsMissing, production.stop_step, stop(10, "5"), field="good_quantity")
    problem = err.to_problem()
    assert problem["status"] == 409 and problem["code"] == "step_inputs_missing"
    assert problem["missing"] == [
        {"item": "WIRE-0.5-BK", "needed": "2.5", "taken": "0.5", "short": "2"}
    ]
    assert "covers 1 units" in problem["expected"]
    done = scan(db, production.stop_step, stop(10, "1", complete=False))
    assert done.detail["good"] == "1"
    # Step 20 took in nothing: it cannot stop a unit, and the WIP board shows 0 there, not -1.
    start(db, 20)
    refused(db, InputsMissing, production.stop_step, stop(20, "1"), field="good_quantity")
    assert wip_at(db, 20) == 0


def test_a_first_step_with_nothing_consumed_makes_nothing(db: Database) -> None:
    two_step_job(db)
    start(db, 10)
    refused(db, InputsMissing, production.stop_step, stop(10, "10"), field="good_quantity")
    # Scrap needs material too.
    refused(
        db,
        InputsMissing,
        production.stop_step,
        stop(10, "0", scrap_quantity=D(1), scrap_reason="nicked"),
        field="good_quantity",
    )


def test_a_return_gives_back_only_what_the_output_did_not_use(db: Database) -> None:
    two_step_job(db)
    start(db, 10)
    consume(db, 10, "W-BK", "WIRE-0.5-BK", "3")
    scan(db, production.stop_step, stop(10, "4", complete=False))  # uses 2 of the 3 m
    ret = ReturnScan(work_order="WO-000001", step=10, item="WIRE-0.5-BK", quantity=D("1.5"))
    refused(db, InputsMissing, production.return_material, ret, field="quantity")
    ok = ReturnScan(work_order="WO-000001", step=10, item="WIRE-0.5-BK", quantity=D("1"))
    assert scan(db, production.return_material, ok).detail["quantity"] == "1"


def _job_in_progress(db: Database) -> None:
    """Step 10 made 6 (4 still in their tote, 2 taken into step 20), with wire left over."""
    two_step_job(db)
    start(db, 10)
    consume(db, 10, "W-BK", "WIRE-0.5-BK", "4")  # 8 leads' worth
    scan(db, production.stop_step, stop(10, "6", complete=False, new_container="T-1"))
    start(db, 20)
    consume(db, 20, "T-1", "LEAD-BK-300", "2")


@pytest.mark.parametrize("operation", ["cancel", "close"])
def test_a_supervisor_stops_a_job_under_way_and_its_wip_returns_to_stock(
    db: Database, operation: str
) -> None:
    _job_in_progress(db)
    change = getattr(production, f"{operation}_work_order")
    cmd = ChangeWorkOrder(work_order="WO-000001", reason="order withdrawn")
    before = db.read(lambda s: ledger_queries.inventory(s, item="WIRE-0.5-BK").rows)
    assert sum(r.quantity for r in before) == 96
    with pytest.raises(Conflict) as caught:
        db.write(lambda s: change(s, PLANNER, key(), cmd))
    assert "only a supervisor" in caught.value.detail
    idem = key()
    done = db.write(lambda s: change(s, SUPERVISOR, idem, cmd))
    again = db.write(lambda s: change(s, SUPERVISOR, idem, cmd))
    assert again.replayed and again.ledger_events == done.ledger_events
    expected = WorkOrderStatus.cancelled if operation == "cancel" else WorkOrderStatus.closed
    assert done.work_order_status == expected.value

    def stock(s: Session, item: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for r in ledger_queries.inventory(s, item=item).rows:
            out[r.status.value] = out.get(r.status.value, D(0)) + r.quantity
        return out

    # 1 m of wire unused at step 10 (4 taken, 3 used by 6 leads), 2 leads taken into step 20
    # and not yet made, 4 leads in the tote: all plain stock now, nothing left as WIP.
    assert db.read(lambda s: stock(s, "WIRE-0.5-BK")) == {"available": D(97)}
    assert db.read(lambda s: stock(s, "LEAD-BK-300")) == {"available": D(6)}
    returned = {(r["item"], r["quantity"]) for r in done.detail["returned"]}
    assert returned == {("LEAD-BK-300", "4"), ("WIRE-0.5-BK", "1"), ("LEAD-BK-300", "2")}
    assert db.read(lambda s: verify(s).ok)
    assert all(j.work_order != "WO-000001" for j in db.read(lambda s: queries.wip(s)).jobs)


# --- a property: conservation holds after any sequence of scans --------------------------


class StepMachine(RuleBasedStateMachine):
    """Random consume, stop, resume and start scans on a two-step job; refusals change nothing."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        wipe(db)
        self.db = db

    @initialize()
    def job(self) -> None:
        two_step_job(self.db, "50")
        start(self.db, 10)

    def attempt(self, operation: object, command: object) -> None:
        try:
            scan(self.db, operation, command)
        except IsomError:
            pass

    @rule(quantity=st.sampled_from(["0.5", "1", "1.5", "3"]))
    def consume_wire(self, quantity: str) -> None:
        cmd = ConsumeScan(
            work_order="WO-000001",
            step=10,
            container="W-BK",
            item="WIRE-0.5-BK",
            quantity=D(quantity),
        )
        self.attempt(production.consume_scan, cmd)

    @rule(quantity=st.sampled_from(["1", "2", "3"]))
    def consume_leads(self, quantity: str) -> None:
        board = self.db.read(lambda s: queries.wip(s))
        totes = [c.container for j in board.jobs for s in j.steps for c in s.after_step]
        for tote in totes[:1]:
            cmd = ConsumeScan(
                work_order="WO-000001",
                step=20,
                container=tote,
                item="LEAD-BK-300",
                quantity=D(quantity),
            )
            self.attempt(production.consume_scan, cmd)

    @rule(
        step=st.sampled_from([10, 20]),
        good=st.integers(0, 6),
        scrap=st.integers(0, 2),
        rework=st.integers(0, 1),
        complete=st.booleans(),
    )
    def stop(self, step: int, good: int, scrap: int, rework: int, complete: bool) -> None:
        cmd = StopScan(
            badge="B1001",
            work_order="WO-000001",
            step=step,
            good_quantity=D(good),
            scrap_quantity=D(scrap),
            scrap_reason="nicked" if scrap else None,
            rework_quantity=D(rework),
            complete=complete,
        )
        self.attempt(production.stop_step, cmd)

    @rule(step=st.sampled_from([10, 20]))
    def start_or_resume(self, step: int) -> None:
        cmd = StepScan(badge="B1001", work_order="WO-000001", step=step, workstation="CUT-1")
        self.attempt(production.start_step, cmd)
        self.attempt(production.resume_step, cmd)

    @invariant()
    def every_step_is_covered_by_what_it_took_in(self) -> None:
        def check(s: Session) -> None:
            wo = production.get_work_order(s, "WO-000001")
            for step in production.steps_of(s, wo):
                processed = step.quantity_good + step.quantity_scrap + step.rework_pending
                taken = ledger_queries.place_quantities(s, f"step:WO-000001/{step.sequence}")
                if step.sequence == 10:
                    wire = sum(taken.values(), D(0)) - sum(
                        (q for q in taken.values() if q < 0), D(0)
                    )
                    need = (D("0.5") * processed).quantize(D("0.001"), ROUND_CEILING)
                    assert wire >= need, (step.sequence, wire, processed)
                else:
                    assert step.quantity_in >= processed, (step.quantity_in, processed)
            assert verify(s).ok

        self.db.read(check)
        board = self.db.read(lambda s: queries.wip(s))
        for job in board.jobs:
            for st_ in job.steps:
                assert st_.at_step >= 0, (st_.sequence, st_.at_step)


def test_random_scan_sequences_conserve_material_at_every_step(db: Database) -> None:
    run_state_machine_as_test(
        lambda: StepMachine(db),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
