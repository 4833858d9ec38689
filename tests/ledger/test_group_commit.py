"""Group commit: many callers' commands in one transaction, each in its own savepoint.

The store's write lock is held by another transaction while the commands are handed to the
writer, so they wait together and are applied as one group: what each caller is answered,
and what the ledger holds afterwards, is what it would be one transaction at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from isom.commands import Command
from isom.db import Database
from isom.errors import Conflict
from isom.ledger import services as ledger
from isom.ledger.api import BATCH_OPERATIONS
from isom.ledger.batch import BatchItem, BatchOut, apply
from isom.ledger.models import Event
from isom.ledger.schemas import ConsumeCommand, EventResult, MoveCommand
from isom.web.app import create_app
from isom.writer import GroupWriter, writer_for
from tests.builders import key, token
from tests.ledger.support import ACTOR, D, assert_verified, quantity, receive, row_counts, view


@contextmanager
def writes_held(db: Database) -> Iterator[None]:
    """Another transaction holds what the writer needs (SQLite's write lock, PostgreSQL's
    command table), so commands handed to the writer meanwhile queue up as one group."""
    with db.engine.connect() as conn:
        conn.begin()  # BEGIN IMMEDIATE on SQLite: the write lock
        if not db.is_sqlite:
            conn.execute(text("LOCK TABLE command IN SHARE ROW EXCLUSIVE MODE"))
        yield
        conn.rollback()


def grouped(db: Database, works: list[Callable[[Session], Any]]) -> list[Any]:
    """Hand `works` to a new writer while the store is held; each one's answer or refusal."""
    writer = GroupWriter(db)
    with writes_held(db):
        futures: list[Future[Any]] = [writer.submit(w) for w in works]
    outcomes = [f.exception() or f.result() for f in futures]
    assert writer.largest >= len(works) - 1, "the commands waited together: one group"
    return outcomes


def consume(idem: str, qty: int = 10) -> Callable[[Session], EventResult]:
    cmd = ConsumeCommand(container="R1", item="WIRE", quantity=D(qty), step="WO-1/10")
    return lambda s: ledger.consume(s, ACTOR, idem, cmd)


def commands(db: Database) -> int:
    return db.read(lambda s: s.scalar(select(func.count()).select_from(Command)) or 0)


def test_sixteen_consumers_in_one_group_take_exactly_the_stock(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")
    keys = [key() for _ in range(16)]

    outcomes = grouped(pdb, [consume(k) for k in keys])

    assert all(isinstance(o, EventResult) for o in outcomes[:10]), "applied in the order given"
    assert all(isinstance(o, Conflict) for o in outcomes[10:]), outcomes
    # "holds no WIRE" once the reel is empty
    assert {o.to_problem()["field"] for o in outcomes[10:]} == {"item"}
    assert quantity(pdb, "R1") == 0
    assert commands(pdb) == 1 + 16, "each refusal is stored under its key too"
    again = grouped(pdb, [consume(k) for k in keys])  # every scanner resends
    assert [type(o) for o in again] == [type(o) for o in outcomes]
    assert [o.event_id for o in again[:10]] == [o.event_id for o in outcomes[:10]]
    assert all(o.replayed for o in again[:10])
    assert [o.to_problem() for o in again[10:]] == [o.to_problem() for o in outcomes[10:]]
    assert quantity(pdb, "R1") == 0 and commands(pdb) == 17
    assert_verified(pdb)


def test_a_refused_command_in_a_group_changes_nothing_and_the_others_stand(
    pdb: Database,
) -> None:
    receive(pdb, "R1", quantity="100")
    nowhere = MoveCommand(container="R1", to_location="NOWHERE")
    reused = key()
    works = [
        consume(reused, 30),
        consume(key(), 500),  # more than R1 holds
        lambda s: ledger.move(s, ACTOR, key(), nowhere),
        consume(reused, 20),  # the same key for another change
        consume(key(), 5),
    ]
    before, recorded = row_counts(pdb), commands(pdb)

    outcomes = grouped(pdb, works)

    assert isinstance(outcomes[0], EventResult) and isinstance(outcomes[1], Conflict)
    assert outcomes[1].to_problem()["field"] == "quantity" and "500" in str(outcomes[1])
    assert outcomes[2].to_problem()["field"] == "to_location"
    assert isinstance(outcomes[3], Conflict) and outcomes[3].field == "Idempotency-Key"
    assert isinstance(outcomes[4], EventResult)
    assert quantity(pdb, "R1") == 65 and view(pdb, "R1").location == "BIN-1"
    after = row_counts(pdb)
    assert after[Event.__tablename__] == before[Event.__tablename__] + 2
    assert commands(pdb) == recorded + 4, "each but the reused key's 409"
    assert_verified(pdb)


def test_a_batch_and_single_commands_share_a_group(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")
    items = [
        BatchItem(key="b-1", operation="consume", body=consume_body(40)),
        BatchItem(key="b-2", operation="consume", body=consume_body(400)),
        BatchItem(key="b-3", operation="move", body={"container": "R1", "to_location": "BIN-2"}),
    ]
    writer = GroupWriter(pdb)

    def send() -> list[Any]:
        with writes_held(pdb):
            futures: list[Future[Any]] = [
                writer.submit(consume("s-1", 10)),
                writer.submit(
                    lambda s: apply(s, SUPERVISOR, items, BATCH_OPERATIONS), one_command=False
                ),
                writer.submit(consume("s-2", 10)),
            ]
        return [f.exception() or f.result() for f in futures]

    first = send()
    out: BatchOut = first[1]
    assert [a.status for a in out.answers] == [201, 409, 201]
    assert isinstance(first[0], EventResult) and isinstance(first[2], EventResult)
    assert quantity(pdb, "R1") == 40 and view(pdb, "R1").location == "BIN-2"
    counts = row_counts(pdb)

    again = send()
    assert [a.status for a in again[1].answers] == [200, 409, 200]
    assert again[1].answers[1].body == out.answers[1].body
    assert again[0].replayed and again[2].replayed
    assert row_counts(pdb) == counts and quantity(pdb, "R1") == 40
    assert_verified(pdb)


SUPERVISOR = replace(ACTOR, roles=frozenset({"supervisor"}))


def consume_body(qty: int) -> dict[str, Any]:
    return {"container": "R1", "item": "WIRE", "quantity": str(qty), "step": "WO-1/10"}


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


def test_sixteen_operators_over_http_share_the_writer_and_never_go_negative(
    client: TestClient, pdb: Database
) -> None:
    operator = token(pdb, "operator")
    receive(pdb, "R1", quantity="100")
    keys = [key() for _ in range(16)]

    def post(k: str) -> tuple[int, dict[str, Any]]:
        r = client.post(
            "/api/v1/ledger/consume",
            json=consume_body(10),
            headers={**operator, "Idempotency-Key": k},
        )
        return r.status_code, r.json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(post, keys))
        again = list(pool.map(post, keys))

    assert Counter(status for status, _ in answers) == {201: 10, 409: 6}
    assert {b["field"] for s, b in answers if s == 409} <= {"quantity", "item"}, answers
    assert [s for s, _ in again] == [200 if s == 201 else 409 for s, _ in answers]
    assert quantity(pdb, "R1") == 0
    assert writer_for(pdb).commands >= 32, "the commands went through the process's writer"
    assert_verified(pdb)
