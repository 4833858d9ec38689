"""Scans racing each other: one key from two threads applies once; two starts make a start and
a join; first machine states sent at once open one record."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from isom.db import Database
from isom.production import services as production
from isom.production.models import LabourRecord, MachineRecord, MachineState, ProductionEvent
from isom.production.schemas import MachineStateCommand, ScanResult, StepScan
from tests.production.support import DAY, at, create, demo_masterdata, scan


@pytest.fixture
def job(db: Database) -> Database:
    demo_masterdata(db)
    create(db, "LEAD-RD-300", "10", DAY)
    return db


def race(calls: list[Callable[[], ScanResult]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            out[n] = calls[n]()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            out[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_one_key_sent_twice_at_once_is_applied_once(job: Database) -> None:
    cmd = StepScan(
        badge="B1001", work_order="WO-000001", step=10, workstation="CUT-1", occurred_at=at(8)
    )
    results = race([lambda: scan(job, production.start_step, cmd, idem="same")] * 2)
    assert all(isinstance(r, ScanResult) for r in results), results
    assert results[0].event_id == results[1].event_id
    assert sorted(r.replayed for r in results) == [False, True]
    assert job.read(lambda s: s.scalar(select(func.count()).select_from(LabourRecord))) == 1
    assert job.read(lambda s: s.scalar(select(func.count()).select_from(ProductionEvent))) == 2


def test_two_operators_starting_one_step_at_once_make_a_start_and_a_join(job: Database) -> None:
    def start(badge: str) -> Callable[[], ScanResult]:
        cmd = StepScan(
            badge=badge, work_order="WO-000001", step=10, workstation="CUT-1", occurred_at=at(8)
        )
        return lambda: scan(job, production.start_step, cmd)

    results = race([start("B1001"), start("B1004")])
    assert all(isinstance(r, ScanResult) for r in results), results
    assert sorted(bool(r.detail["joined"]) for r in results) == [False, True]
    assert job.read(lambda s: s.scalar(select(func.count()).select_from(LabourRecord))) == 2


def test_first_machine_states_sent_at_once_leave_one_open_record(job: Database) -> None:
    def state(s: MachineState) -> Callable[[], ScanResult]:
        cmd = MachineStateCommand(workstation="CUT-1", state=s, occurred_at=at(8))
        return lambda: scan(job, production.machine_state, cmd)

    states = [MachineState.setup, MachineState.run, MachineState.idle, MachineState.cleanup]
    results = race([state(s) for s in states])
    assert all(isinstance(r, ScanResult) for r in results), results
    # Each event closed the state before it; exactly one is still open, and the chain of
    # "previous" answers names every state but the last exactly once.
    rows = job.read(lambda s: s.execute(select(MachineRecord.state, MachineRecord.ended_at)).all())
    assert sorted(r.state for r in rows) == sorted(states)
    assert [r.ended_at for r in rows].count(None) == 1
    previous = [r.detail["previous"] for r in results]
    assert previous.count(None) == 1
    assert sorted(p for p in previous if p) == sorted(
        s.value for s in states if s is not next(r.state for r in rows if r.ended_at is None)
    )
