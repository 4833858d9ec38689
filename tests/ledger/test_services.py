"""Each ledger operation, as a clerk, operator or supervisor sees its effect.

Every scenario ends with `verify()`: the projections rebuilt from the events equal the live ones.
"""

from __future__ import annotations

import datetime as dt

import pytest

from isom.db import Database
from isom.errors import Conflict, InvalidInput, NotFound
from isom.ledger import queries
from isom.ledger import services as ledger
from isom.ledger.schemas import (
    AdjustCommand,
    ConsumeCommand,
    CountCommand,
    CreateContainerCommand,
    HoldCommand,
    LotIn,
    MergeCommand,
    MoveCommand,
    NestCommand,
    ProduceCommand,
    QuantityLine,
    ReceiveCommand,
    ReceiveLine,
    ReleaseCommand,
    ReverseCommand,
    ScrapCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from isom.masterdata.models import Tracking, UnitConversion
from tests import builders
from tests.ledger.support import (
    D,
    apply,
    assert_verified,
    contents,
    quantity,
    receive,
    refused,
    sql_total,
    stock,
    stock_at,
    view,
)

AVAILABLE = "available"


def consume(db: Database, container: str, qty: str, step: str = "WO-1/10", **ref: str):
    return apply(
        db,
        ledger.consume,
        ConsumeCommand(
            container=container, item=ref.pop("item", "WIRE"), quantity=D(qty), step=step, **ref
        ),
    )


def nest(db: Database, child: str, parent: str):
    return apply(db, ledger.nest, NestCommand(container=child, parent=parent))


# --- receive ------------------------------------------------------------------------------------


def test_receive_makes_a_labelled_container_with_its_lines_at_the_location(pdb: Database) -> None:
    cmd = ReceiveCommand(
        container="R1",
        location="BIN-1",
        supplier="SUP",
        reference="PO-7",
        lines=[
            ReceiveLine(
                item="WIRE",
                lot=LotIn(code="L1", supplier_lot="S-99"),
                quantity=D("100"),
                unit_cost=D("0.12"),
            ),
            ReceiveLine(item="CONN", quantity=D("50"), unit_cost=D("0.5")),
        ],
    )
    result = apply(pdb, ledger.receive, cmd)

    assert result.kind == "receive" and not result.replayed
    assert result.containers == ["R1"]
    assert result.detail == {"container": "R1", "location": "BIN-1"}
    got = view(pdb, "R1")
    assert (got.status, got.location, got.parent) == ("active", "BIN-1", None)
    assert contents(pdb, "R1") == {
        ("CONN", None, AVAILABLE): D(50),
        ("WIRE", "L1", AVAILABLE): D(100),
    }
    wire = next(c for c in got.contents if c.item == "WIRE")
    assert (wire.unit, wire.unit_cost, wire.value) == ("m", D("0.12"), D("12.00"))
    assert stock(pdb) == {
        ("CONN", "BIN-1", None, AVAILABLE): D(50),
        ("WIRE", "BIN-1", "L1", AVAILABLE): D(100),
    }
    # the supplier place gave exactly what the container got
    supplier_lines = [ln for ln in result.lines if ln["place"] == "supplier:SUP"]
    assert sorted(ln["quantity"] for ln in supplier_lines) == ["-100", "-50"]
    (history,) = got.history
    assert (history.kind, history.reference, history.location) == ("receive", "PO-7", "BIN-1")
    back = pdb.read(lambda s: queries.genealogy(s, "WIRE", "L1", "backward"))
    assert back.supplier == "SUP"
    assert_verified(pdb)


def test_receive_without_a_code_generates_a_fresh_label(pdb: Database) -> None:
    first = receive(pdb, None)
    second = receive(pdb, None, "CONN", "5", lot=None)
    (a,), (b,) = first.containers, second.containers
    assert a != b and a.startswith("C") and b.startswith("C")
    assert quantity(pdb, b, "CONN") == 5
    assert_verified(pdb)


def test_receive_refuses_a_code_already_in_use(pdb: Database) -> None:
    receive(pdb, "R1")
    cmd = ReceiveCommand(
        container="R1", location="BIN-2", lines=[ReceiveLine(item="CONN", quantity=D(1))]
    )
    refused(pdb, Conflict, ledger.receive, cmd, field="container")


def test_receive_lot_expiry_comes_from_shelf_life_unless_given(pdb: Database) -> None:
    pdb.write(
        lambda s: builders.item(
            s, "GLUE", s.scalar(_unit("ea")), tracking=Tracking.lot, shelf_life_days=30
        )
    )
    at = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)
    apply(
        pdb,
        ledger.receive,
        ReceiveCommand(
            container="G1",
            location="BIN-1",
            occurred_at=at,
            lines=[ReceiveLine(item="GLUE", lot=LotIn(code="G-A"), quantity=D(4))],
        ),
    )
    apply(
        pdb,
        ledger.receive,
        ReceiveCommand(
            container="G2",
            location="BIN-1",
            occurred_at=at,
            lines=[
                ReceiveLine(
                    item="GLUE",
                    lot=LotIn(code="G-B", expiry_date=dt.date(2026, 3, 20)),
                    quantity=D(4),
                )
            ],
        ),
    )

    assert view(pdb, "G1").contents[0].expiry_date == dt.date(2026, 4, 9)
    assert view(pdb, "G2").contents[0].expiry_date == dt.date(2026, 3, 20)
    rows = pdb.read(lambda s: queries.inventory(s, item="GLUE")).rows
    assert {(r.lot, r.expiry_date) for r in rows} == {
        ("G-A", dt.date(2026, 4, 9)),
        ("G-B", dt.date(2026, 3, 20)),
    }
    # an expired lot cannot be consumed
    late = dt.datetime(2026, 3, 21, tzinfo=dt.UTC)
    err = refused(
        pdb,
        Conflict,
        ledger.consume,
        ConsumeCommand(
            container="G2", item="GLUE", quantity=D(1), step="WO-1/10", occurred_at=late
        ),
        field="lot",
    )
    assert "expired" in err.detail
    assert_verified(pdb)


def _unit(code: str):
    from sqlalchemy import select

    from isom.masterdata.models import Unit

    return select(Unit).where(Unit.code == code)


def test_quantities_are_exact_decimals_never_floats(pdb: Database) -> None:
    receive(pdb, "R1", quantity="0.1")
    receive(pdb, "R2", quantity="0.2")
    # the balance at BIN-1 was summed by the store: 0.1 + 0.2 is 0.3, not 0.30000000000000004
    assert stock(pdb) == {("WIRE", "BIN-1", "L1", AVAILABLE): D("0.3")}
    assert sql_total(pdb, "ledger_content") == D("0.3")
    assert sql_total(pdb, "ledger_balance") == D("0.3")
    apply(pdb, ledger.merge, MergeCommand(container="R1", into="R2"))
    assert quantity(pdb, "R2") == D("0.3")
    consume(pdb, "R2", "0.3")
    assert quantity(pdb, "R2") == 0
    assert stock(pdb) == {}
    assert_verified(pdb)


def test_sums_and_differences_of_quantities_in_sql_come_back_as_exact_decimals(
    pdb: Database,
) -> None:
    from sqlalchemy import func, select

    from isom.ledger.models import EventLine

    receive(pdb, "R1", quantity="0.1")
    receive(pdb, "R2", quantity="0.2")
    line = EventLine.quantity
    total, spread = pdb.read(
        lambda s: s.execute(
            select(func.sum(line), func.sum(line + line)).where(EventLine.container_id.is_not(None))
        ).one()
    )
    assert (total, spread) == (D("0.3"), D("0.6"))  # never the raw millionths 300000


def test_receive_converts_units_exactly_or_refuses(pdb: Database) -> None:
    def units(s):
        km = builders.unit(s, "km", 3)
        ft = builders.unit(s, "ft", 0)
        m = s.scalar(_unit("m"))
        s.add(UnitConversion(from_unit_id=km.id, to_unit_id=m.id, numerator=1000, denominator=1))
        # 1 ft = 0.3048 m = 381/1250 m
        s.add(UnitConversion(from_unit_id=ft.id, to_unit_id=m.id, numerator=381, denominator=1250))
        s.flush()

    pdb.write(units)
    receive(pdb, "R1", quantity="0.25", unit="km", unit_cost="120")  # 120 per km
    assert contents(pdb, "R1") == {("WIRE", "L1", AVAILABLE): D(250)}
    assert view(pdb, "R1").contents[0].unit_cost == D("0.12")  # per metre
    receive(pdb, "R2", quantity="10", unit="ft")  # 3.048 m: exact in 3 decimals
    assert quantity(pdb, "R2") == D("3.048")

    # 1 ft is 0.3048 m: finer than the metre's 3 decimals, so refused, not rounded
    cmd = ReceiveCommand(
        container="R3",
        location="BIN-1",
        lines=[ReceiveLine(item="WIRE", lot=LotIn(code="L1"), quantity=D(1), unit="ft")],
    )
    err = refused(pdb, InvalidInput, ledger.receive, cmd, field="lines[0].quantity")
    assert err.expected and "3 decimals" in err.expected
    # a unit with no conversion to metres
    cmd = ReceiveCommand(
        container="R3",
        location="BIN-1",
        lines=[ReceiveLine(item="WIRE", lot=LotIn(code="L1"), quantity=D(1), unit="ea")],
    )
    refused(pdb, InvalidInput, ledger.receive, cmd, field="lines[0].quantity.unit")
    assert_verified(pdb)


@pytest.mark.parametrize(
    ("item", "qty", "lot"),
    [("WIRE", "1.0005", "L1"), ("CONN", "1.5", None)],
    ids=["metre-3-decimals", "each-whole"],
)
def test_a_quantity_finer_than_its_unit_is_refused_never_rounded(
    pdb: Database, item: str, qty: str, lot: str | None
) -> None:
    receive(pdb, "R0", "CONN", "1", lot=None)  # something already there
    cmd = ReceiveCommand(
        container="R1",
        location="BIN-1",
        lines=[
            ReceiveLine(item="CONN", quantity=D(2)),
            ReceiveLine(item=item, lot=LotIn(code=lot) if lot else None, quantity=D(qty)),
        ],
    )
    err = refused(pdb, InvalidInput, ledger.receive, cmd, field="lines[1].quantity")
    assert qty in err.detail
    assert "decimals" in (err.expected or "")


def test_receive_checks_tracking_and_codes(pdb: Database) -> None:
    bad = [
        (NotFound, "lines[0].item", [ReceiveLine(item="NOPE", quantity=D(1))], "BIN-1"),
        (InvalidInput, "lines[0].lot", [ReceiveLine(item="WIRE", quantity=D(1))], "BIN-1"),
        (
            InvalidInput,
            "lines[0].lot",
            [ReceiveLine(item="CONN", lot=LotIn(code="X"), quantity=D(1))],
            "BIN-1",
        ),
        (NotFound, "location", [ReceiveLine(item="CONN", quantity=D(1))], "NOWHERE"),
    ]
    for error, field, lines, location in bad:
        refused(
            pdb,
            error,
            ledger.receive,
            ReceiveCommand(container="R1", location=location, lines=lines),
            field=field,
        )
    assert_verified(pdb)


# --- move, nest, unnest -------------------------------------------------------------------------


def test_moving_a_pallet_moves_everything_nested_in_it(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1", "WIRE", "100")
    receive(pdb, "B1", "CONN", "10", lot=None, location="BIN-2")
    nest(pdb, "R1", "P1")
    nest(pdb, "B1", "P1")  # B1 comes over from BIN-2
    assert stock_at(pdb, "BIN-2", "CONN") == 0
    assert stock_at(pdb, "BIN-1", "CONN") == 15

    result = apply(pdb, ledger.move, MoveCommand(container="P1", to_location="DOCK"))

    assert result.detail == {"container": "P1", "from": "BIN-1", "to": "DOCK"}
    assert stock(pdb) == {
        ("CONN", "DOCK", None, AVAILABLE): D(15),
        ("WIRE", "DOCK", "L1", AVAILABLE): D(100),
    }
    for code in ("R1", "B1"):
        child = view(pdb, code)
        assert (child.location, child.parent) == ("DOCK", "P1")
    pallet = view(pdb, "P1")
    assert pallet.location == "DOCK"
    assert sorted(c.code for c in pallet.children) == ["B1", "R1"]
    # already there
    refused(
        pdb,
        Conflict,
        ledger.move,
        MoveCommand(container="P1", to_location="DOCK"),
        field="to_location",
    )
    refused(
        pdb,
        NotFound,
        ledger.move,
        MoveCommand(container="P9", to_location="DOCK"),
        field="container",
    )
    refused(
        pdb,
        NotFound,
        ledger.move,
        MoveCommand(container="P1", to_location="MOON"),
        field="to_location",
    )
    assert_verified(pdb)


def test_an_empty_pallet_is_registered_then_loaded_and_moved(pdb: Database) -> None:
    made = apply(
        pdb, ledger.create_container, CreateContainerCommand(container="PAL-1", location="DOCK")
    )
    assert made.containers == ["PAL-1"]
    pallet = view(pdb, "PAL-1")
    assert (pallet.kind, pallet.location, pallet.contents) == ("pallet", "DOCK", [])
    receive(pdb, "R1")
    nest(pdb, "R1", "PAL-1")
    assert stock(pdb) == {("WIRE", "DOCK", "L1", AVAILABLE): D(100)}
    apply(pdb, ledger.move, MoveCommand(container="PAL-1", to_location="BIN-2"))
    assert stock(pdb) == {("WIRE", "BIN-2", "L1", AVAILABLE): D(100)}
    # an empty pallet has nothing to ship
    apply(pdb, ledger.unnest, UnnestCommand(container="R1"))
    refused(
        pdb,
        Conflict,
        ledger.ship,
        ShipCommand(container="PAL-1", customer="CUS"),
        field="container",
    )
    assert_verified(pdb)


def test_moving_a_nested_container_takes_it_off_its_parent(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    apply(pdb, ledger.move, MoveCommand(container="R1", to_location="BIN-2"))
    got = view(pdb, "R1")
    assert (got.location, got.parent) == ("BIN-2", None)
    assert view(pdb, "P1").children == []
    assert stock_at(pdb, "BIN-2") == 100 and stock_at(pdb, "BIN-1") == 0
    assert_verified(pdb)


def test_nest_and_unnest(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None, location="BIN-2")
    receive(pdb, "R1")
    result = nest(pdb, "R1", "P1")
    assert result.detail == {"container": "R1", "parent": "P1"}
    assert (view(pdb, "R1").location, view(pdb, "R1").parent) == ("BIN-2", "P1")
    assert stock(pdb, item="WIRE") == {("WIRE", "BIN-2", "L1", AVAILABLE): D(100)}
    refused(pdb, Conflict, ledger.nest, NestCommand(container="R1", parent="P1"), field="parent")

    apply(pdb, ledger.unnest, UnnestCommand(container="R1"))  # stays where the pallet is
    assert (view(pdb, "R1").location, view(pdb, "R1").parent) == ("BIN-2", None)
    refused(pdb, Conflict, ledger.unnest, UnnestCommand(container="R1"), field="container")

    nest(pdb, "R1", "P1")
    apply(pdb, ledger.unnest, UnnestCommand(container="R1", to_location="BIN-1"))
    assert (view(pdb, "R1").location, view(pdb, "R1").parent) == ("BIN-1", None)
    assert stock(pdb, item="WIRE") == {("WIRE", "BIN-1", "L1", AVAILABLE): D(100)}
    assert [e.kind.value for e in view(pdb, "R1").history] == [
        "unnest",
        "nest",
        "unnest",
        "nest",
        "receive",
    ]
    assert_verified(pdb)


def test_nesting_that_would_make_a_cycle_is_refused(pdb: Database) -> None:
    for code in ("A", "B", "C"):
        receive(pdb, code, "CONN", "1", lot=None)
    nest(pdb, "A", "B")
    nest(pdb, "B", "C")  # A in B in C
    refused(pdb, InvalidInput, ledger.nest, NestCommand(container="A", parent="A"), field="parent")
    refused(pdb, Conflict, ledger.nest, NestCommand(container="B", parent="A"), field="parent")
    refused(pdb, Conflict, ledger.nest, NestCommand(container="C", parent="A"), field="parent")
    apply(pdb, ledger.move, MoveCommand(container="C", to_location="DOCK"))
    assert {view(pdb, c).location for c in "ABC"} == {"DOCK"}
    assert stock(pdb) == {("CONN", "DOCK", None, AVAILABLE): D(3)}
    assert_verified(pdb)


# --- split, merge -------------------------------------------------------------------------------


def test_split_takes_part_into_a_new_or_existing_container(pdb: Database) -> None:
    receive(pdb, "R1", unit_cost="0.12")
    result = apply(
        pdb,
        ledger.split,
        SplitCommand(
            container="R1", new_container="S1", lines=[QuantityLine(item="WIRE", quantity=D(30))]
        ),
    )
    assert result.detail == {"container": "R1", "into": "S1"}
    assert contents(pdb, "R1") == {("WIRE", "L1", AVAILABLE): D(70)}
    assert contents(pdb, "S1") == {("WIRE", "L1", AVAILABLE): D(30)}
    s1 = view(pdb, "S1")
    assert (s1.location, s1.contents[0].unit_cost) == ("BIN-1", D("0.12"))
    assert stock(pdb) == {("WIRE", "BIN-1", "L1", AVAILABLE): D(100)}

    receive(pdb, "S2", "CONN", "1", lot=None, location="BIN-2")
    apply(
        pdb,
        ledger.split,
        SplitCommand(
            container="R1", into="S2", lines=[QuantityLine(item="WIRE", lot="L1", quantity=D(20))]
        ),
    )
    assert quantity(pdb, "R1") == 50 and quantity(pdb, "S2") == 20
    assert stock_at(pdb, "BIN-2") == 20

    err = refused(
        pdb,
        Conflict,
        ledger.split,
        SplitCommand(
            container="R1", new_container="S3", lines=[QuantityLine(item="WIRE", quantity=D(51))]
        ),
        field="quantity",
    )
    assert err.expected == "at most 50"
    refused(
        pdb,
        InvalidInput,
        ledger.split,
        SplitCommand(container="R1", into="R1", lines=[QuantityLine(item="WIRE", quantity=D(1))]),
        field="into",
    )
    refused(
        pdb,
        Conflict,
        ledger.split,
        SplitCommand(
            container="R1", new_container="S3", lines=[QuantityLine(item="CONN", quantity=D(1))]
        ),
        field="item",
    )
    refused(
        pdb,
        Conflict,
        ledger.split,
        SplitCommand(
            container="R1", new_container="S1", lines=[QuantityLine(item="WIRE", quantity=D(1))]
        ),
        field="new_container",
    )
    assert_verified(pdb)


def test_merge_combines_lines_at_the_weighted_average_cost(pdb: Database) -> None:
    receive(pdb, "R1", quantity="40", unit_cost="0.10")
    receive(pdb, "R2", quantity="60", unit_cost="0.15", location="BIN-2")
    receive(pdb, "R3", quantity="5", lot="L2", unit_cost="0.20")
    apply(pdb, ledger.merge, MergeCommand(container="R3", into="R1"))
    result = apply(pdb, ledger.merge, MergeCommand(container="R1", into="R2"))

    assert result.detail == {"container": "R1", "into": "R2"}
    assert contents(pdb, "R1") == {}
    assert contents(pdb, "R2") == {
        ("WIRE", "L1", AVAILABLE): D(100),
        ("WIRE", "L2", AVAILABLE): D(5),
    }
    cost = {c.lot: c.unit_cost for c in view(pdb, "R2").contents}
    assert cost == {"L1": D("0.13"), "L2": D("0.20")}  # (40*0.10 + 60*0.15) / 100
    assert stock(pdb) == {
        ("WIRE", "BIN-2", "L1", AVAILABLE): D(100),
        ("WIRE", "BIN-2", "L2", AVAILABLE): D(5),
    }
    refused(
        pdb, Conflict, ledger.merge, MergeCommand(container="R1", into="R2"), field="container"
    )  # empty now
    refused(pdb, InvalidInput, ledger.merge, MergeCommand(container="R2", into="R2"), field="into")
    assert_verified(pdb)


# --- adjust, count ------------------------------------------------------------------------------


def test_adjust_moves_quantity_with_a_reason_code(pdb: Database) -> None:
    receive(pdb, "R1")
    down = apply(
        pdb,
        ledger.adjust,
        AdjustCommand(
            container="R1",
            item="WIRE",
            quantity_delta=D("-2.5"),
            reason_code="damaged",
            reason="crushed end",
        ),
    )
    assert down.detail == {"previous": "100", "quantity": "97.5"}
    apply(
        pdb,
        ledger.adjust,
        AdjustCommand(container="R1", item="CONN", quantity_delta=D(4), reason_code="found"),
    )
    assert contents(pdb, "R1") == {
        ("WIRE", "L1", AVAILABLE): D("97.5"),
        ("CONN", None, AVAILABLE): D(4),
    }
    latest, first = view(pdb, "R1").history[:2]
    assert (latest.kind.value, latest.reason_code) == ("adjust", "found")
    assert (first.reason_code, first.reason) == ("damaged", "crushed end")
    assert {ln.place for ln in first.lines} == {None, "adjustment"}

    err = refused(
        pdb,
        Conflict,
        ledger.adjust,
        AdjustCommand(container="R1", item="WIRE", quantity_delta=D(-98), reason_code="lost"),
        field="quantity",
    )
    assert err.expected == "at most 97.5"
    refused(
        pdb,
        InvalidInput,
        ledger.adjust,
        AdjustCommand(container="R1", item="WIRE", quantity_delta=D("0.0001"), reason_code="found"),
        field="quantity_delta",
    )
    assert_verified(pdb)


def test_count_records_the_counted_quantity_and_the_difference(pdb: Database) -> None:
    receive(pdb, "R1")
    result = apply(
        pdb, ledger.count, CountCommand(container="R1", item="WIRE", counted_quantity=D("97.5"))
    )
    assert result.detail == {
        "item": "WIRE",
        "lot": "L1",
        "book": "100",
        "counted": "97.5",
        "delta": "-2.5",
    }
    assert quantity(pdb, "R1") == D("97.5")
    assert stock_at(pdb, "BIN-1") == D("97.5")
    (entry, *_rest) = view(pdb, "R1").history
    assert (entry.kind.value, entry.reason_code) == ("count", "count")

    same = apply(
        pdb, ledger.count, CountCommand(container="R1", item="WIRE", counted_quantity=D("97.5"))
    )
    assert same.detail["delta"] == "0" and same.lines == []
    up = apply(
        pdb,
        ledger.count,
        CountCommand(container="R1", item="WIRE", lot="L1", counted_quantity=D(101)),
    )
    assert up.detail["delta"] == "3.5"
    assert quantity(pdb, "R1") == 101
    assert_verified(pdb)


# --- hold, release ------------------------------------------------------------------------------


def test_held_material_cannot_be_consumed_or_shipped_until_released(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    apply(pdb, ledger.hold, HoldCommand(container="P1", reason="supplier alert"))

    assert contents(pdb, "R1") == {("WIRE", "L1", "hold"): D(100)}
    assert contents(pdb, "P1") == {("CONN", None, "hold"): D(5)}
    assert stock(pdb) == {
        ("CONN", "BIN-1", None, "hold"): D(5),
        ("WIRE", "BIN-1", "L1", "hold"): D(100),
    }
    err = refused(
        pdb,
        Conflict,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D(1), step="WO-1/10"),
        field="container",
    )
    assert "hold" in err.detail
    refused(
        pdb, Conflict, ledger.ship, ShipCommand(container="P1", customer="CUS"), field="container"
    )
    refused(
        pdb, Conflict, ledger.hold, HoldCommand(container="P1", reason="again"), field="container"
    )

    apply(pdb, ledger.release, ReleaseCommand(container="P1", reason="cleared"))
    assert contents(pdb, "R1") == {("WIRE", "L1", AVAILABLE): D(100)}
    refused(pdb, Conflict, ledger.release, ReleaseCommand(container="P1"), field="container")
    consume(pdb, "R1", "10")
    assert quantity(pdb, "R1") == 90
    assert_verified(pdb)


# --- consume, produce, scrap --------------------------------------------------------------------


def test_consume_moves_material_into_the_work_order_step(pdb: Database) -> None:
    receive(pdb, "R1")
    result = consume(pdb, "R1", "30", step="WO-1/10")
    assert result.detail == {"step": "WO-1/10"}
    assert quantity(pdb, "R1") == 70
    assert stock_at(pdb, "SITE") == 70
    step_line = next(ln for ln in result.lines if ln["place"])
    assert step_line == {
        "container": None,
        "place": "step:WO-1/10",
        "item": "WIRE",
        "lot": "L1",
        "status": AVAILABLE,
        "wip_step": "WO-1/10",
        "quantity": "30",
        "unit_cost": "0.12",
    }
    refused(
        pdb,
        InvalidInput,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D("0.0001"), step="WO-1/10"),
        field="quantity",
    )
    refused(
        pdb,
        Conflict,
        ledger.consume,
        ConsumeCommand(container="R1", item="CONN", quantity=D(1), step="WO-1/10"),
        field="item",
    )
    assert_verified(pdb)


def test_a_30_m_and_a_50_m_reel_are_not_a_75_m_reel(pdb: Database) -> None:
    receive(pdb, "REEL-30", quantity="30")
    receive(pdb, "REEL-50", quantity="50")
    assert stock_at(pdb, "BIN-1") == 80  # 80 m in stock ...

    err = refused(
        pdb,
        Conflict,
        ledger.consume,
        ConsumeCommand(container="REEL-50", item="WIRE", quantity=D(75), step="WO-1/10"),
        field="quantity",
    )

    assert "REEL-50 holds 50" in err.detail and "75 was asked" in err.detail
    assert err.expected == "at most 50"
    assert quantity(pdb, "REEL-30") == 30 and quantity(pdb, "REEL-50") == 50
    assert_verified(pdb)


def test_produce_traces_the_produced_lot_back_to_the_consumed_lots(pdb: Database) -> None:
    receive(pdb, "R1", lot="L1")
    receive(pdb, "R2", lot="L2", quantity="50")
    consume(pdb, "R1", "30", step="WO-1/10")
    consume(pdb, "R2", "10", step="WO-1/10")
    result = apply(
        pdb,
        ledger.produce,
        ProduceCommand(
            step="WO-1/10",
            item="CABLE",
            lot=LotIn(code="CB-1"),
            quantity=D(10),
            unit_cost=D("4.5"),
            new_container="FG1",
            location="BIN-2",
        ),
    )

    assert result.detail == {"step": "WO-1/10", "container": "FG1", "lot": "CB-1"}
    assert contents(pdb, "FG1") == {("CABLE", "CB-1", AVAILABLE): D(10)}
    assert view(pdb, "FG1").contents[0].unit_cost == D("4.5")
    assert stock(pdb, item="CABLE") == {("CABLE", "BIN-2", "CB-1", AVAILABLE): D(10)}

    back = pdb.read(lambda s: queries.genealogy(s, "CABLE", "CB-1", "backward"))
    assert {(n.item, n.lot, n.step, n.depth) for n in back.nodes} == {
        ("WIRE", "L1", "WO-1/10", 1),
        ("WIRE", "L2", "WO-1/10", 1),
    }
    assert {n.supplier for n in back.nodes} == {"SUP"}
    fwd = pdb.read(lambda s: queries.genealogy(s, "WIRE", "L2", "forward"))
    assert [(n.item, n.lot) for n in fwd.nodes] == [("CABLE", "CB-1")]

    # WIP output stays in the step until it becomes stock; default cost is the standard cost
    apply(
        pdb,
        ledger.produce,
        ProduceCommand(
            step="WO-1/10",
            item="CABLE",
            lot=LotIn(code="CB-2"),
            quantity=D(3),
            wip=True,
            container="FG1",
        ),
    )
    fg = {(c.lot, c.status.value, c.wip_step): c.unit_cost for c in view(pdb, "FG1").contents}
    assert fg[("CB-2", "wip", "WO-1/10")] == D(1)
    refused(
        pdb,
        InvalidInput,
        ledger.produce,
        ProduceCommand(step="WO-1/10", item="CABLE", lot=LotIn(code="CB-3"), quantity=D(1)),
        field="location",
    )
    refused(
        pdb,
        InvalidInput,
        ledger.produce,
        ProduceCommand(step="WO-1/10", item="CABLE", quantity=D(1), location="BIN-2"),
        field="lot",
    )
    assert_verified(pdb)


def test_scrap_takes_material_out_with_a_reason(pdb: Database) -> None:
    receive(pdb, "R1")
    result = apply(
        pdb,
        ledger.scrap,
        ScrapCommand(
            container="R1", item="WIRE", quantity=D(5), reason_code="damaged", reason="kinked"
        ),
    )
    assert quantity(pdb, "R1") == 95
    assert {ln["place"] for ln in result.lines} == {None, "scrap"}
    (entry, _) = view(pdb, "R1").history
    assert (entry.kind.value, entry.reason_code, entry.reason) == ("scrap", "damaged", "kinked")
    refused(
        pdb,
        Conflict,
        ledger.scrap,
        ScrapCommand(container="R1", item="WIRE", quantity=D(96)),
        field="quantity",
    )
    assert_verified(pdb)


# --- ship ---------------------------------------------------------------------------------------


def test_ship_sends_the_container_and_its_children_to_the_customer(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    receive(pdb, "R2", lot="L2", quantity="20")
    nest(pdb, "R1", "P1")
    nest(pdb, "R2", "R1")
    refused(
        pdb, Conflict, ledger.ship, ShipCommand(container="R1", customer="CUS"), field="container"
    )  # nested: ship the pallet
    refused(
        pdb, NotFound, ledger.ship, ShipCommand(container="P1", customer="NOBODY"), field="customer"
    )

    result = apply(
        pdb, ledger.ship, ShipCommand(container="P1", customer="CUS", reference="SO-1/1")
    )

    assert result.detail == {"container": "P1", "customer": "CUS"}
    assert result.containers == ["P1", "R1", "R2"]
    for code in ("P1", "R1", "R2"):
        assert view(pdb, code).status == "shipped"
        assert contents(pdb, code) == {}
    assert stock(pdb) == {}
    to_customer = {
        (ln["item"], ln["quantity"]) for ln in result.lines if ln["place"] == "customer:CUS"
    }
    assert to_customer == {("CONN", "5"), ("WIRE", "100"), ("WIRE", "20")}
    # a shipped container can no longer change
    refused(
        pdb,
        Conflict,
        ledger.move,
        MoveCommand(container="R1", to_location="BIN-2"),
        field="container",
    )
    refused(
        pdb, Conflict, ledger.ship, ShipCommand(container="P1", customer="CUS"), field="container"
    )
    assert_verified(pdb)


# --- reverse ------------------------------------------------------------------------------------


def test_reverse_restores_balances_and_keeps_the_original(pdb: Database) -> None:
    receive(pdb, "R1")
    wrong = consume(pdb, "R1", "30")
    result = apply(
        pdb, ledger.reverse, ReverseCommand(event_id=wrong.event_id, reason="wrong reel")
    )

    assert result.detail == {"reverses": wrong.event_id, "reversed_kind": "consume"}
    assert quantity(pdb, "R1") == 100
    assert stock(pdb) == {("WIRE", "BIN-1", "L1", AVAILABLE): D(100)}
    original = pdb.read(lambda s: queries.event(s, wrong.event_id))
    assert original.kind.value == "consume" and original.reversed_by_event_id == result.event_id
    assert [ln.quantity for ln in original.lines] == [D(-30), D(30)]  # history unchanged
    assert [e.kind.value for e in view(pdb, "R1").history] == ["reverse", "consume", "receive"]

    err = refused(
        pdb,
        Conflict,
        ledger.reverse,
        ReverseCommand(event_id=wrong.event_id, reason="again"),
        field="event_id",
    )
    assert "already reversed" in err.detail
    refused(
        pdb,
        Conflict,
        ledger.reverse,
        ReverseCommand(event_id=result.event_id, reason="undo the undo"),
        field="event_id",
    )
    refused(
        pdb,
        NotFound,
        ledger.reverse,
        ReverseCommand(event_id=999_999, reason="x"),
        field="event_id",
    )
    assert_verified(pdb)


def test_reverse_a_move_puts_the_pallet_back(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    moved = apply(pdb, ledger.move, MoveCommand(container="P1", to_location="DOCK"))
    apply(pdb, ledger.reverse, ReverseCommand(event_id=moved.event_id, reason="wrong dock"))
    assert (view(pdb, "R1").location, view(pdb, "R1").parent) == ("BIN-1", "P1")
    assert stock_at(pdb, "DOCK", "CONN") == 0 and stock_at(pdb, "BIN-1", "CONN") == 5
    assert stock_at(pdb, "BIN-1") == 100
    assert_verified(pdb)


def test_reverse_a_receive_voids_the_container(pdb: Database) -> None:
    received = receive(pdb, "R1")
    apply(pdb, ledger.reverse, ReverseCommand(event_id=received.event_id, reason="not ours"))
    assert view(pdb, "R1").status == "void"
    assert stock(pdb) == {}
    refused(
        pdb,
        Conflict,
        ledger.consume,
        ConsumeCommand(container="R1", item="WIRE", quantity=D(1), step="WO-1/10"),
        field="container",
    )
    assert_verified(pdb)


def test_reversing_a_receive_whose_material_was_used_is_refused(pdb: Database) -> None:
    received = receive(pdb, "R1")
    consume(pdb, "R1", "30")
    refused(
        pdb, Conflict, ledger.reverse, ReverseCommand(event_id=received.event_id, reason="not ours")
    )
    assert quantity(pdb, "R1") == 70
    assert_verified(pdb)


def test_reversing_a_move_after_a_later_move_is_refused(pdb: Database) -> None:
    receive(pdb, "R1")
    first = apply(pdb, ledger.move, MoveCommand(container="R1", to_location="BIN-2"))
    apply(pdb, ledger.move, MoveCommand(container="R1", to_location="DOCK"))
    refused(
        pdb,
        Conflict,
        ledger.reverse,
        ReverseCommand(event_id=first.event_id, reason="x"),
        field="event_id",
    )
    assert view(pdb, "R1").location == "DOCK"


def test_reverse_a_ship_brings_the_pallet_back(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    shipped = apply(pdb, ledger.ship, ShipCommand(container="P1", customer="CUS"))
    apply(pdb, ledger.reverse, ReverseCommand(event_id=shipped.event_id, reason="truck left"))
    assert view(pdb, "P1").status == "active" and view(pdb, "R1").status == "active"
    assert view(pdb, "R1").parent == "P1"
    assert contents(pdb, "R1") == {("WIRE", "L1", AVAILABLE): D(100)}
    assert stock_at(pdb, "BIN-1", "CONN") == 5
    recall = pdb.read(lambda s: queries.recall(s, "WIRE", "L1"))
    assert recall.shipments == [] and recall.customers == []
    assert_verified(pdb)


def test_reversing_into_a_shipped_container_is_refused(pdb: Database) -> None:
    receive(pdb, "R1")
    used = consume(pdb, "R1", "30")
    apply(pdb, ledger.ship, ShipCommand(container="R1", customer="CUS"))
    # giving 30 m back to a reel that has left would show stock that is not here
    refused(pdb, Conflict, ledger.reverse, ReverseCommand(event_id=used.event_id, reason="x"))
    assert stock(pdb) == {}
    assert view(pdb, "R1").status == "shipped"
    assert_verified(pdb)


def test_reverse_a_produce_voids_its_new_container_and_genealogy(pdb: Database) -> None:
    receive(pdb, "R1")
    consume(pdb, "R1", "30")
    made = apply(
        pdb,
        ledger.produce,
        ProduceCommand(
            step="WO-1/10",
            item="CABLE",
            lot=LotIn(code="CB-1"),
            quantity=D(10),
            new_container="FG1",
            location="BIN-2",
        ),
    )
    apply(pdb, ledger.reverse, ReverseCommand(event_id=made.event_id, reason="mislabelled"))
    assert view(pdb, "FG1").status == "void"
    assert stock(pdb, item="CABLE") == {}
    fwd = pdb.read(lambda s: queries.genealogy(s, "WIRE", "L1", "forward"))
    assert fwd.nodes == []
    assert_verified(pdb)


# --- queries ------------------------------------------------------------------------------------


def test_inventory_by_location_includes_its_sub_locations(pdb: Database) -> None:
    receive(pdb, "R1", location="BIN-1", quantity="10")
    receive(pdb, "R2", location="BIN-2", quantity="20", lot="L2")
    receive(pdb, "R3", location="DOCK", quantity="40")
    store = pdb.read(lambda s: queries.inventory(s, location="STORE"))
    assert {(r.location, r.lot, r.quantity) for r in store.rows} == {
        ("BIN-1", "L1", D(10)),
        ("BIN-2", "L2", D(20)),
    }
    assert store.total_quantity_by_item == {"WIRE": D(30)}
    assert stock_at(pdb, "SITE") == 70
    assert stock_at(pdb, "BIN-2") == 20
    by_lot = pdb.read(lambda s: queries.inventory(s, item="WIRE", lot="L1"))
    assert {r.location for r in by_lot.rows} == {"BIN-1", "DOCK"}
    with pytest.raises(NotFound):
        pdb.read(lambda s: queries.inventory(s, location="MOON"))


def test_container_view_shows_contents_children_and_history(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    consume(pdb, "R1", "30")
    got = view(pdb, "R1")
    assert [e.kind.value for e in got.history] == ["consume", "nest", "receive"]
    assert got.history[-1].actor == "tester" and got.history[-1].device == "test-scanner"
    assert got.history[1].moves[0]["to_parent"] == "P1"
    pallet = view(pdb, "P1")
    assert [c.code for c in pallet.children] == ["R1"]
    assert pallet.children[0].contents[0].quantity == 70
    # the pallet's history shows what was nested onto it
    assert [e.kind.value for e in pallet.history] == ["nest", "receive"]
    with pytest.raises(NotFound):
        view(pdb, "NOPE")


def test_recall_lists_containers_jobs_shipments_and_customers(pdb: Database) -> None:
    receive(pdb, "R1", lot="L1")
    receive(pdb, "R9", lot="L9")  # another lot: not in the recall
    apply(
        pdb,
        ledger.split,
        SplitCommand(
            container="R1", new_container="S1", lines=[QuantityLine(item="WIRE", quantity=D(20))]
        ),
    )
    consume(pdb, "S1", "20", step="WO-1/10")
    consume(pdb, "R9", "5", step="WO-2/10")
    apply(
        pdb,
        ledger.produce,
        ProduceCommand(
            step="WO-1/10",
            item="CABLE",
            lot=LotIn(code="CB-1"),
            quantity=D(4),
            new_container="FG1",
            location="BIN-2",
        ),
    )
    consume(pdb, "FG1", "4", step="WO-5/20", item="CABLE")  # the cable goes into a kit
    apply(
        pdb,
        ledger.produce,
        ProduceCommand(
            step="WO-5/20",
            item="CABLE",
            lot=LotIn(code="KIT-1"),
            quantity=D(1),
            new_container="FG2",
            location="DOCK",
        ),
    )
    apply(pdb, ledger.ship, ShipCommand(container="FG2", customer="CUS", reference="SO-9"))

    recall = pdb.read(lambda s: queries.recall(s, "WIRE", "L1"))
    assert {(x["item"], x["lot"]) for x in recall.lots} == {
        ("WIRE", "L1"),
        ("CABLE", "CB-1"),
        ("CABLE", "KIT-1"),
    }
    assert {c["container"] for c in recall.containers} == {"R1", "S1", "FG1", "FG2"}
    now = {c["container"]: c["quantity_now"] for c in recall.containers}
    assert now == {"R1": D(80), "S1": D(0), "FG1": D(0), "FG2": D(0)}
    assert recall.jobs == ["WO-1", "WO-5"]
    assert recall.steps == ["WO-1/10", "WO-5/20"]
    assert [
        (sh.customer, sh.container, sh.item, sh.lot, sh.quantity, sh.reference)
        for sh in recall.shipments
    ] == [("CUS", "FG2", "CABLE", "KIT-1", D(1), "SO-9")]
    assert recall.customers == ["CUS"]

    back = pdb.read(lambda s: queries.genealogy(s, "CABLE", "KIT-1", "backward"))
    assert {(n.item, n.lot, n.depth) for n in back.nodes} == {
        ("CABLE", "CB-1", 1),
        ("WIRE", "L1", 2),
    }
    fwd = pdb.read(lambda s: queries.genealogy(s, "WIRE", "L1", "forward"))
    assert {(n.lot, n.depth) for n in fwd.nodes} == {("CB-1", 1), ("KIT-1", 2)}
    assert pdb.read(lambda s: queries.recall(s, "WIRE", "L9")).jobs == ["WO-2"]
    with pytest.raises(NotFound):
        pdb.read(lambda s: queries.recall(s, "WIRE", "NOPE"))
    assert_verified(pdb)


def test_reversing_an_unnest_puts_the_reel_back_where_its_pallet_is_now(pdb: Database) -> None:
    receive(pdb, "P1", "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    off = apply(pdb, ledger.unnest, UnnestCommand(container="R1", to_location="BIN-2"))
    apply(pdb, ledger.move, MoveCommand(container="P1", to_location="DOCK"))

    apply(pdb, ledger.reverse, ReverseCommand(event_id=off.event_id, reason="never left it"))

    assert (view(pdb, "R1").location, view(pdb, "R1").parent) == ("DOCK", "P1")
    assert stock(pdb) == {
        ("CONN", "DOCK", None, AVAILABLE): D(5),
        ("WIRE", "DOCK", "L1", AVAILABLE): D(100),
    }
    assert_verified(pdb)


def test_a_reel_cannot_go_back_onto_a_pallet_that_shipped_or_sits_on_it(pdb: Database) -> None:
    for code in ("P1", "P2"):
        receive(pdb, code, "CONN", "5", lot=None)
    receive(pdb, "R1")
    nest(pdb, "R1", "P1")
    nest(pdb, "P2", "R1")  # P2 sits on R1 on P1
    off = apply(pdb, ledger.unnest, UnnestCommand(container="R1"))  # R1 (with P2) off P1
    apply(pdb, ledger.ship, ShipCommand(container="P1", customer="CUS"))
    err = refused(
        pdb,
        Conflict,
        ledger.reverse,
        ReverseCommand(event_id=off.event_id, reason="x"),
        field="event_id",
    )
    assert "shipped" in err.detail

    apply(pdb, ledger.unnest, UnnestCommand(container="P2"))
    nest(pdb, "R1", "P2")
    lifted = apply(pdb, ledger.unnest, UnnestCommand(container="R1"))
    nest(pdb, "P2", "R1")  # now P2 is on R1: R1 cannot go back onto P2
    err = refused(
        pdb,
        Conflict,
        ledger.reverse,
        ReverseCommand(event_id=lifted.event_id, reason="x"),
        field="event_id",
    )
    assert "cycle" in err.detail
    assert_verified(pdb)
