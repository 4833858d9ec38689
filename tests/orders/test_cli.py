"""`isom orders` against the test store: import a buyer's file, read demand, register a shop."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isom import schema as isom_schema
from isom.db import Database
from isom.orders import queries
from isom.orders import services as orders
from isom.orders.cli import app
from isom.orders.schemas import CreateCustomerOrder, CustomerLineIn
from tests.orders.support import TODAY, do, order_plant

PO_CSV = (
    "number,supplier,line_no,item,quantity,due_date,unit_price\n"
    "PO-77,SUP,1,WIRE,500,2026-12-20,\n"
    "PO-77,SUP,2,CABLE,10,2026-12-20,\n"
)


@pytest.fixture
def runner(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    order_plant(db)
    monkeypatch.setattr(isom_schema, "open_db", lambda: db)
    return CliRunner()


def test_import_prints_bad_rows_then_imports_the_fixed_file(
    db: Database, runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "po.csv"
    bad.write_text(PO_CSV)
    r = runner.invoke(app, ["import", "purchase-orders", str(bad)])
    assert r.exit_code == 1
    assert "lines.1.unit_price" in r.output and "nothing was imported" in r.output
    assert db.read(queries.open_purchase_supply) == []
    bad.write_text(PO_CSV.replace("2026-12-20,\n", "2026-12-20,7.5\n"))
    r = runner.invoke(app, ["import", "purchase-orders", str(bad)])
    assert r.exit_code == 0, r.output
    assert "1 created" in r.output
    supply = db.read(queries.open_purchase_supply)
    assert [(s.reference, s.item) for s in supply] == [("PO-77/1", "WIRE"), ("PO-77/2", "CABLE")]
    again = runner.invoke(app, ["import", "purchase-orders", str(bad)])
    assert "imported before" in again.output


def test_shop_is_registered_and_demand_is_listed(db: Database, runner: CliRunner) -> None:
    r = runner.invoke(app, ["shop", "webshop", "--default-customer", "CUS"], input="x" * 20 + "\n")
    assert r.exit_code == 0, r.output
    assert "registered" in r.output
    short = runner.invoke(app, ["shop", "other"], input="short\n")
    assert short.exit_code == 1
    cmd = CreateCustomerOrder(
        number="SO-5",
        customer="CUS",
        lines=[CustomerLineIn(item="CONN", quantity=Decimal(7), due_date=TODAY)],
    )
    do(db, orders.create_customer_order, cmd)
    r = runner.invoke(app, ["demand"])
    assert r.exit_code == 0 and "SO-5/1" in r.output and "CONN" in r.output
