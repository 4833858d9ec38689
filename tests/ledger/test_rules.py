"""The rules that must always hold (ISOM.md), proven on the ledger's services and its store."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from isom.db import Database
from isom.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound
from isom.ledger import services as ledger
from isom.ledger.models import EventLine
from isom.ledger.schemas import (
    AdjustCommand,
    ConsumeCommand,
    HoldCommand,
    LotIn,
    MoveCommand,
    NestCommand,
    ProduceCommand,
    QuantityLine,
    ReceiveCommand,
    ReceiveLine,
    ScrapCommand,
    ShipCommand,
    SplitCommand,
)
from isom.ledger.verify import verify
from tests.builders import key
from tests.ledger.support import (
    D,
    apply,
    assert_verified,
    contents,
    quantity,
    receive,
    refused,
    row_counts,
    set_quantity_sql,
    snapshot,
    stock,
)

ROOT = Path(__file__).resolve().parents[2]
ISOM = ROOT / ".venv" / "bin" / "isom"


def busy_plant(db: Database) -> None:
    """A little history touching every kind of place: supplier, step, scrap, adjustment, customer."""
    receive(db, "R1", quantity="100", lot="L1")
    receive(db, "R2", quantity="50", lot="L2", location="BIN-2")
    receive(db, "B1", "CONN", "40", lot=None)
    apply(db, ledger.nest, NestCommand(container="R1", parent="B1"))
    apply(db, ledger.move, MoveCommand(container="B1", to_location="DOCK"))
    apply(
        db,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D("12.5"), step="WO-1/10"),
    )
    apply(
        db,
        ledger.produce,
        ProduceCommand(
            step="WO-1/10",
            item="CABLE",
            lot=LotIn(code="CB"),
            quantity=D(3),
            new_container="FG",
            location="BIN-2",
        ),
    )
    apply(db, ledger.scrap, ScrapCommand(container="R2", item="WIRE", quantity=D("0.25")))
    apply(
        db,
        ledger.adjust,
        AdjustCommand(container="R2", item="WIRE", quantity_delta=D(2), reason_code="found"),
    )
    apply(db, ledger.ship, ShipCommand(container="FG", customer="CUS"))


# --- 1. no quantity below zero ------------------------------------------------------------------


def test_no_operation_takes_a_container_below_zero(pdb: Database) -> None:
    receive(pdb, "R1", quantity="10")
    asks = [
        (
            ledger.consume,
            ConsumeCommand(container="R1", item="WIRE", quantity=D("10.001"), step="WO-1/10"),
        ),
        (ledger.scrap, ScrapCommand(container="R1", item="WIRE", quantity=D(11))),
        (
            ledger.adjust,
            AdjustCommand(container="R1", item="WIRE", quantity_delta=D(-11), reason_code="lost"),
        ),
        (
            ledger.split,
            SplitCommand(
                container="R1", new_container="S", lines=[QuantityLine(item="WIRE", quantity=D(11))]
            ),
        ),
    ]
    for operation, cmd in asks:
        err = refused(pdb, Conflict, operation, cmd, field="quantity")
        assert err.expected == "at most 10"
    assert quantity(pdb, "R1") == 10
    # taking exactly everything is fine, and leaves zero, not a negative
    apply(
        pdb,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D(10), step="WO-1/10"),
    )
    assert contents(pdb, "R1") == {} and stock(pdb) == {}
    refused(
        pdb,
        Conflict,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D(1), step="WO-1/10"),
    )
    assert_verified(pdb)


def test_two_lines_of_one_event_cannot_together_take_more_than_there_is(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")
    cmd = SplitCommand(
        container="R1",
        new_container="S1",
        lines=[
            QuantityLine(item="WIRE", quantity=D(60)),
            QuantityLine(item="WIRE", quantity=D(60)),
        ],
    )
    refused(pdb, Conflict, ledger.split, cmd, field="quantity")
    assert quantity(pdb, "R1") == 100
    assert_verified(pdb)


@pytest.mark.parametrize("table", ["ledger_content", "ledger_balance"])
def test_the_store_itself_refuses_a_negative_quantity(pdb: Database, table: str) -> None:
    receive(pdb, "R1", quantity="5")
    with pytest.raises(IntegrityError), pdb.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET quantity = -1"))
    assert quantity(pdb, "R1") == 5
    assert_verified(pdb)


# --- 3. idempotency -----------------------------------------------------------------------------


def test_the_same_key_twice_is_applied_once_and_answers_the_same(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")
    k = key()
    cmd = ConsumeCommand(container="R1", item="WIRE", quantity=D(30), step="WO-1/10")
    first = apply(pdb, ledger.consume, cmd, idem=k)
    before = snapshot(pdb)

    again = apply(pdb, ledger.consume, cmd, idem=k)
    rebuilt = apply(pdb, ledger.consume, ConsumeCommand.model_validate(cmd.model_dump()), idem=k)

    assert not first.replayed and again.replayed and rebuilt.replayed
    assert again.model_dump(exclude={"replayed"}) == first.model_dump(exclude={"replayed"})
    assert rebuilt.event_id == first.event_id
    assert snapshot(pdb) == before
    assert quantity(pdb, "R1") == 70


def test_a_replayed_receive_makes_no_second_container(pdb: Database) -> None:
    k = key()
    first = receive(pdb, None, idem=k)  # the label code is generated
    again = receive(pdb, None, idem=k)
    assert again.replayed and again.containers == first.containers
    assert row_counts(pdb)["ledger_container"] == 1
    assert stock(pdb) == {("WIRE", "BIN-1", "L1", "available"): D(100)}


def test_the_same_key_with_a_different_body_is_a_conflict(pdb: Database) -> None:
    receive(pdb, "R1", quantity="100")
    k = key()
    apply(
        pdb,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D(30), step="WO-1/10"),
        idem=k,
    )
    err = refused(
        pdb,
        IdempotencyKeyReused,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D(31), step="WO-1/10"),
        idem=k,
        field="Idempotency-Key",
    )
    assert "already used" in err.detail
    # the same key for another kind of operation is just as much a conflict
    refused(
        pdb,
        IdempotencyKeyReused,
        ledger.scrap,
        ScrapCommand(container="R1", item="WIRE", quantity=D(30)),
        idem=k,
    )
    assert quantity(pdb, "R1") == 70


def test_a_refusal_is_the_answer_to_its_key_even_after_the_cause_is_gone(pdb: Database) -> None:
    receive(pdb, "R1", quantity="10")
    k = key()
    cmd = ConsumeCommand(container="R1", item="WIRE", quantity=D(20), step="WO-1/10")
    first = refused(pdb, Conflict, ledger.consume, cmd, idem=k)
    apply(
        pdb,
        ledger.adjust,
        AdjustCommand(container="R1", item="WIRE", quantity_delta=D(10), reason_code="found"),
    )
    again = refused(pdb, Conflict, ledger.consume, cmd, idem=k)  # a resend: refused again
    assert again.to_problem() == first.to_problem() and quantity(pdb, "R1") == 20
    done = apply(pdb, ledger.consume, cmd)  # a new request (new key) is applied
    assert not done.replayed and quantity(pdb, "R1") == 0


# --- 2 and 7. all or nothing; bad input changes nothing -----------------------------------------


def test_a_failing_event_changes_nothing_at_all(pdb: Database) -> None:
    busy_plant(pdb)
    counts = row_counts(pdb)
    assert all(
        counts[t] > 0
        for t in (
            "ledger_event",
            "ledger_event_line",
            "ledger_content",
            "ledger_balance",
            "ledger_genealogy",
            "ledger_outbox",
        )
    )
    failing = [
        # the container, a new lot and the counter are written before the third line fails
        (
            NotFound,
            ledger.receive,
            ReceiveCommand(
                container="NEW",
                location="BIN-1",
                lines=[
                    ReceiveLine(item="WIRE", lot=LotIn(code="L-NEW"), quantity=D(5)),
                    ReceiveLine(item="CONN", quantity=D(5)),
                    ReceiveLine(item="NOPE", quantity=D(5)),
                ],
            ),
        ),
        (
            InvalidInput,
            ledger.receive,
            ReceiveCommand(
                location="BIN-1",
                lines=[
                    ReceiveLine(item="WIRE", lot=LotIn(code="L-NEW"), quantity=D(5)),
                    ReceiveLine(item="CONN", quantity=D("0.5")),
                ],
            ),
        ),
        # the new container and its move are written before the content check fails
        (
            Conflict,
            ledger.split,
            SplitCommand(
                container="R2",
                new_container="S9",
                lines=[
                    QuantityLine(item="WIRE", quantity=D(1)),
                    QuantityLine(item="WIRE", quantity=D(60)),
                ],
            ),
        ),
        # the pallet's own line is taken before the held reel nested on it is found
        (Conflict, ledger.ship, ShipCommand(container="B1", customer="CUS")),
        (NotFound, ledger.move, MoveCommand(container="B1", to_location="NOWHERE")),
        (Conflict, ledger.nest, NestCommand(container="B1", parent="R1")),
    ]
    apply(pdb, ledger.hold, HoldCommand(container="R1", reason="check"))
    counts = row_counts(pdb)
    for error, operation, cmd in failing:
        refused(pdb, error, operation, cmd)
        assert row_counts(pdb) == counts, operation.__name__
    assert_verified(pdb)


# --- 5. conservation ----------------------------------------------------------------------------


def test_every_event_balances_and_material_is_conserved(pdb: Database) -> None:
    busy_plant(pdb)

    def per_event(s):
        return s.execute(
            select(EventLine.event_id, EventLine.item_id, func.sum(EventLine.quantity)).group_by(
                EventLine.event_id, EventLine.item_id
            )
        ).all()

    sums = pdb.read(per_event)
    assert sums and all(total == 0 for _, _, total in sums)

    def by_place(s):
        rows = s.execute(
            select(EventLine.place, func.sum(EventLine.quantity))
            .where(EventLine.place.is_not(None), EventLine.item_id == _wire_id(s))
            .group_by(EventLine.place)
        ).all()
        return {place: total for place, total in rows}

    places = pdb.read(by_place)
    assert places == {
        "supplier:SUP": D(-150),  # received
        "step:WO-1/10": D("12.5"),  # consumed
        "scrap": D("0.25"),
        "adjustment": D(-2),  # found
    }
    received, consumed, scrapped, adjusted = D(150), D("12.5"), D("0.25"), D(2)
    on_hand = sum(stock(pdb, item="WIRE").values(), Decimal(0))
    assert on_hand == received - consumed - scrapped + adjusted == D("139.25")
    cable_places = pdb.read(
        lambda s: s.execute(
            text(
                "SELECT place, SUM(quantity) FROM ledger_event_line l JOIN md_item i ON i.id = l.item_id "
                "WHERE i.code = 'CABLE' AND place IS NOT NULL GROUP BY place ORDER BY place"
            )
        ).all()
    )
    assert [(p, int(q)) for p, q in cable_places] == [
        ("customer:CUS", 3_000_000),
        ("step:WO-1/10", -3_000_000),
    ]  # produced, then shipped
    assert stock(pdb, item="CABLE") == {}
    assert_verified(pdb)


def _wire_id(s):
    from isom.masterdata.models import Item

    return s.scalar(select(Item.id).where(Item.code == "WIRE"))


# --- verify detects tampering -------------------------------------------------------------------


def run_verify_cli(db: Database) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ISOM_DATABASE_URL": db.url, "NO_COLOR": "1", "COLUMNS": "200"}
    exe = [str(ISOM)] if ISOM.exists() else [sys.executable, "-m", "isom.cli"]
    return subprocess.run(
        [*exe, "ledger", "verify"], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_verify_passes_on_an_untouched_ledger_and_the_cli_exits_zero(pdb: Database) -> None:
    busy_plant(pdb)
    report = pdb.read(verify)
    assert report.ok and report.events >= 8 and report.containers == 4
    done = run_verify_cli(pdb)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ledger verified" in done.stdout


@pytest.mark.parametrize(
    ("table", "projection"), [("ledger_balance", "balance"), ("ledger_content", "content")]
)
def test_verify_reports_a_tampered_projection_and_the_cli_exits_non_zero(
    pdb: Database, table: str, projection: str
) -> None:
    busy_plant(pdb)
    where = "item_id = (SELECT id FROM md_item WHERE code = 'CONN')"
    set_quantity_sql(pdb, table, D(41), where)

    report = pdb.read(verify)
    assert not report.ok
    (diff,) = report.differences
    assert diff.projection == projection
    assert (diff.expected, diff.actual) == (D(40), D(41))
    if projection == "content":
        assert diff.events  # names the events behind the line

    if projection == "balance":  # the command line is slow to start: once is enough
        done = run_verify_cli(pdb)
        assert done.returncode != 0, done.stdout
        assert "1 difference" in done.stdout and projection in done.stdout


def test_verify_reports_a_container_moved_behind_the_ledgers_back(pdb: Database) -> None:
    busy_plant(pdb)
    with pdb.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ledger_container SET location_id = (SELECT id FROM md_location "
                "WHERE code = 'BIN-1') WHERE code = 'R2'"
            )
        )
    report = pdb.read(verify)
    assert {d.projection for d in report.differences} == {"container"}
    assert report.differences[0].key == {"container": "R2"}


def test_verify_reports_an_event_that_does_not_balance(pdb: Database) -> None:
    busy_plant(pdb)
    with pdb.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_event_line SET quantity = quantity + 1000000 WHERE place = 'scrap'")
        )
    report = pdb.read(verify)
    kinds = {d.projection for d in report.differences}
    assert "event_balance" in kinds
