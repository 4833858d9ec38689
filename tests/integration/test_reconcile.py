"""Reconciliation: the ERP's inventory against the containers, over the API, page and CLI."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from isom.cli import app
from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import ScrapCommand
from isom.web.app import create_app
from tests.builders import token
from tests.ledger.support import apply, receive, snapshot
from tests.web.seed import user
from tests.web.test_pages import sign_in

API = "/api/v1"
ERP_CSV = (
    "item,location,lot,quantity\r\n"
    "WIRE,BIN-1,L1,100\r\n"
    "WIRE,BIN-2,L2,50\r\n"
    "CONN,STORE,,12\r\n"
    "WIRE,BIN-2,L9,3\r\n"
)


@pytest.fixture
def stocked(pdb: Database) -> Database:
    receive(pdb, "R1", lot="L1", quantity="100")
    receive(pdb, "R2", lot="L2", quantity="50", location="BIN-2")
    receive(pdb, "C1", item="CONN", lot=None, quantity="10")
    apply(
        pdb, ledger.scrap, ScrapCommand(container="R2", item="WIRE", lot="L2", quantity=Decimal(5))
    )
    return pdb


@pytest.fixture
def client(stocked: Database) -> Iterator[TestClient]:
    with TestClient(create_app(stocked), follow_redirects=False) as c:
        yield c


def test_differences_name_the_containers_and_events_behind_them(
    stocked: Database, client: TestClient
) -> None:
    headers = {**token(stocked, "integrator"), "Content-Type": "text/csv"}
    r = client.post(API + "/reconciliations?source=erp.csv", content=ERP_CSV, headers=headers)
    assert r.status_code == 201, r.json()
    run = r.json()
    assert (run["erp_rows"], run["matched"], run["source"]) == (4, 1, "erp.csv")
    diffs = {(d["item"], d["location"], d["lot"]): d for d in run["differences"]}
    assert set(diffs) == {("WIRE", "BIN-2", "L2"), ("CONN", "STORE", None), ("WIRE", "BIN-2", "L9")}
    scrapped = diffs[("WIRE", "BIN-2", "L2")]
    assert (Decimal(scrapped["erp_quantity"]), Decimal(scrapped["isom_quantity"])) == (50, 45)
    assert Decimal(scrapped["difference"]) == -5 and scrapped["unit"] == "m"
    assert [(c["container"], c["quantity"]) for c in scrapped["containers"]] == [("R2", "45")]
    assert [(e["kind"], e["quantity"]) for e in scrapped["events"]] == [
        ("scrap", "-5"),
        ("receive", "50"),
    ]
    # the ERP counts connectors per storage area; ISOM's bin below it is summed up to it
    conn = diffs[("CONN", "STORE", None)]
    assert (Decimal(conn["isom_quantity"]), Decimal(conn["difference"])) == (10, -2)
    assert [(c["container"], c["location"]) for c in conn["containers"]] == [("C1", "BIN-1")]
    missing = diffs[("WIRE", "BIN-2", "L9")]
    assert missing["containers"] == [] and Decimal(missing["isom_quantity"]) == 0
    # the same as JSON, the stored run, and its CSV
    rows = [
        {"item": "WIRE", "location": "BIN-1", "lot": "L1", "quantity": "100"},
        {"item": "CONN", "location": "BIN-1", "lot": None, "quantity": 10},
    ]
    js = client.post(
        API + "/reconciliations", json={"lines": rows}, headers=token(stocked, "accountant")
    )
    assert js.status_code == 201 and js.json()["differences"][0]["item"] == "WIRE"
    assert {d["lot"] for d in js.json()["differences"]} == {"L2"}
    stored = client.get(f"{API}/reconciliations/{run['id']}", headers=headers).json()
    assert stored["differences"] == run["differences"]
    text = client.get(f"{API}/reconciliations/{run['id']}/differences.csv", headers=headers).text
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(t["item"], t["location"], t["lot"], t["difference"]) for t in table] == [
        ("CONN", "STORE", "", "-2"),
        ("WIRE", "BIN-2", "L2", "-5"),
        ("WIRE", "BIN-2", "L9", "-3"),
    ]
    assert "R2@BIN-2=45" in table[1]["containers"]
    listed = client.get(API + "/reconciliations", headers=headers).json()
    assert [x["id"] for x in listed] == [js.json()["id"], run["id"]]


def test_bad_rows_are_all_reported_and_nothing_is_stored(
    stocked: Database, client: TestClient
) -> None:
    headers = {**token(stocked, "integrator"), "Content-Type": "text/csv"}
    before = snapshot(stocked)
    bad = "item,location,lot,quantity\nWIRE,BIN-1,L1,100\nNOPE,BIN-1,,1\nWIRE,MARS,,x\n"
    r = client.post(API + "/reconciliations", content=bad, headers=headers)
    assert r.status_code == 422
    problem = r.json()
    assert problem["field"] == "rows[2].item"
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [
        (2, "item"),
        (3, "location"),
        (3, "quantity"),
    ]
    r = client.post(API + "/reconciliations", content="sku,qty\nA,1\n", headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "header"
    r = client.post(
        API + "/reconciliations",
        content="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["field"] == "body"
    assert client.get(API + "/reconciliations", headers=headers).json() == []
    assert snapshot(stocked) == before
    clerk = token(stocked, "clerk")
    assert client.post(API + "/reconciliations", content=ERP_CSV, headers=clerk).status_code == 403
    assert client.get(API + "/reconciliations/999", headers=headers).status_code == 404


def test_the_report_page_loads_a_file_and_shows_the_differences(
    stocked: Database, client: TestClient
) -> None:
    user(stocked, "ivy", "integrator")
    sign_in(client, "ivy", "/reconciliations")
    page = client.get("/reconciliations")
    assert page.status_code == 200 and "No reconciliation yet" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    r = client.post(
        "/reconciliations",
        data={"csrf_token": csrf.group(1)},
        files={"file": ("erp.csv", ERP_CSV.encode(), "text/csv")},
    )
    assert r.status_code == 303, r.text
    report = client.get(r.headers["location"])
    assert report.status_code == 200
    assert '<strong id="difference-count">3</strong>' in report.text
    assert "R2</a> @BIN-2 45" in report.text and "scrap" in report.text
    link = re.search(r'href="(/api/v1/reconciliations/\d+/differences.csv)"', report.text)
    assert link is not None
    download = client.get(link.group(1))
    assert download.status_code == 200 and "WIRE,BIN-2,L2,m,50,45,-5" in download.text
    stale = client.post(
        "/reconciliations",
        data={"csrf_token": "stale"},
        files={"file": ("erp.csv", ERP_CSV.encode(), "text/csv")},
    )
    assert stale.status_code == 403


def test_the_clerk_may_not_open_the_report(stocked: Database, client: TestClient) -> None:
    user(stocked, "carl", "clerk")
    sign_in(client, "carl", "/inventory")
    assert client.get("/reconciliations").status_code == 403


def test_cli_reconciles_a_file(
    stocked: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOM_DATABASE_URL", stocked.url)
    source = tmp_path / "erp.csv"
    source.write_text(ERP_CSV, encoding="utf-8")
    out = tmp_path / "diff.csv"
    result = CliRunner().invoke(app, ["reconcile", "load", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 ERP rows, 1 match, 3 differ" in result.output
    assert out.read_text().startswith("item,location,lot,unit,erp_quantity")
