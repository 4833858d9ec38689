"""Rule 4 and rule 3 under real concurrency on the current store: threads, one unit of work each."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from isom.db import Database
from isom.errors import Conflict, IsomError
from isom.ledger import services as ledger
from isom.ledger.models import Event, EventLine
from isom.ledger.schemas import ConsumeCommand, EventResult
from tests.builders import key
from tests.ledger.support import ACTOR, D, assert_verified, contents, quantity, receive, stock

THREADS = 16


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` on THREADS threads released at the same instant; exceptions are returned."""
    gate = threading.Barrier(THREADS)

    def run(i: int) -> Any:
        gate.wait()
        try:
            return work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def consume_10(db: Database, idem: str) -> EventResult:
    cmd = ConsumeCommand(container="R1", item="WIRE", quantity=D(10), step="WO-1/10")
    return db.write(lambda s: ledger.consume(s, ACTOR, idem, cmd))


def test_sixteen_operators_cannot_take_more_than_the_container_holds(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")

    outcomes = race(lambda i: consume_10(pdb, key()))  # 16 x 10 = 160 asked of 100

    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"EventResult": 10, "Conflict": 6}, outcomes
    for o in outcomes:
        if isinstance(o, Conflict):
            # "holds 10, 20 was asked" while there is some; "holds no WIRE" once it is empty
            assert o.field in ("quantity", "item"), o.to_problem()
    ok = [o for o in outcomes if isinstance(o, EventResult)]
    assert len({o.event_id for o in ok}) == 10
    assert quantity(pdb, "R1") == 0
    assert contents(pdb, "R1") == {} and stock(pdb) == {}

    def step_total(s):
        return s.scalar(
            select(func.sum(EventLine.quantity)).where(EventLine.place == "step:WO-1/10")
        )

    assert pdb.read(step_total) == 100  # exactly what the reel held went into the step
    assert_verified(pdb)


def test_sixteen_retries_of_one_request_apply_it_once(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")
    idem = key()

    outcomes = race(lambda i: consume_10(pdb, idem))

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert all(isinstance(o, EventResult) for o in outcomes)
    assert len({o.event_id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1  # one applied it, fifteen replayed it
    assert pdb.read(lambda s: s.scalar(select(func.count()).select_from(Event))) == 2
    assert quantity(pdb, "R1") == 90
    assert_verified(pdb)


def test_concurrent_receives_get_distinct_generated_labels(pdb: Database) -> None:
    outcomes = race(lambda i: receive(pdb, None, "CONN", "1", lot=None))
    assert not [o for o in outcomes if isinstance(o, IsomError | Exception)]
    codes = [o.containers[0] for o in outcomes]
    assert len(set(codes)) == THREADS
    assert stock(pdb) == {("CONN", "BIN-1", None, "available"): D(THREADS)}
    assert_verified(pdb)
