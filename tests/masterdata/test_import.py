"""Importing an ERP's CSV and JSON exports: upsert by code, all or nothing, row-by-row errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from isom.db import Database
from isom.masterdata import records
from tests.builders import token

IMPORT = "/api/v1/masterdata/import"
ITEMS_CSV = (
    ("code,name,type,base_unit,tracking,shelf_life_days,standard_cost,gtin,attr.size,attr.colour\n")
    + """WIRE-RED,Wire red,raw,m,lot,,0.12,,0.5,red
WIRE-BLK,Wire black,raw,m,lot,365,0.13,,0.5,black
CABLE-1,Cable,finished,ea,serial,,12.50,4006381333931,,
"""
)


def _count(db: Database, kind: str) -> int:
    return db.read(lambda s: records.list_records(s, kind))[1]


def test_csv_items_import_creates_then_updates(client, admin, units, db: Database) -> None:
    csv_headers = {**admin, "Content-Type": "text/csv"}
    r = client.post(f"{IMPORT}/items", content=ITEMS_CSV, headers=csv_headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"kind": "items", "rows": 3, "created": 3, "updated": 0}
    got = client.get("/api/v1/masterdata/items/WIRE-BLK", headers=admin).json()
    assert got["attributes"] == {"size": "0.5", "colour": "black"}
    assert got["shelf_life_days"] == 365 and got["standard_cost"] == "0.13"
    again = client.post(f"{IMPORT}/items", content=ITEMS_CSV, headers=csv_headers)
    assert again.json()["updated"] == 3


def test_one_bad_row_of_three_changes_nothing_and_names_row_2(client, admin, units, db) -> None:
    rows = [
        {"code": "A", "name": "A", "type": "raw", "base_unit": "m"},
        {"code": "B", "name": "B", "type": "raw", "base_unit": "m", "standard_cost": "-2"},
        {"code": "C", "name": "C", "type": "raw", "base_unit": "m"},
    ]
    r = client.post(f"{IMPORT}/items", json=rows, headers=admin)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "standard_cost")]
    assert errors[0]["expected"]
    assert _count(db, "items") == 0


def test_a_reference_error_in_a_late_row_rolls_back_the_earlier_rows(client, admin, units, db):
    csv = ITEMS_CSV.replace("CABLE-1,Cable,finished,ea", "CABLE-1,Cable,finished,kg")
    r = client.post(f"{IMPORT}/items", content=csv, headers={**admin, "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "base_unit")]
    assert _count(db, "items") == 0


def test_json_import_as_a_multipart_file(client, admin, units) -> None:
    rows = [{"code": "TERM", "name": "Terminal", "type": "raw", "base_unit": "ea"}]
    files = {"file": ("items.json", json.dumps(rows).encode(), "application/octet-stream")}
    r = client.post(f"{IMPORT}/items", files=files, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1


def test_locations_import_in_any_order_builds_the_tree(client, admin) -> None:
    csv = "code,name,kind,parent\nB1,Bin 1,bin,A1\nA1,Area 1,area,SITE\nSITE,Site,site,\n"
    r = client.post(
        f"{IMPORT}/locations", content=csv, headers={**admin, "Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    site = client.get("/api/v1/masterdata/locations/SITE", headers=admin).json()
    b1 = client.get("/api/v1/masterdata/locations/B1", headers=admin).json()
    assert b1["site"] == "SITE" and b1["path"].startswith(site["path"])


def test_a_flat_route_csv_groups_into_steps_and_boms(client, admin, units) -> None:
    items = [
        {"code": c, "name": c, "type": t, "base_unit": u}
        for c, t, u in (
            ("WIRE", "raw", "m"),
            ("LEAD", "intermediate", "ea"),
            ("HARN", "finished", "ea"),
        )
    ]
    assert client.post(f"{IMPORT}/items", json=items, headers=admin).status_code == 200
    csv = (
        "route,item,sequence,operation,workstation_kind,run_minutes,run_basis,input_item,input_qty,"
        "floor_stock,output_item,output_qty,output_kind\n"
        "R1,HARN,10,cut,cutter,0.05,unit,WIRE,0.305,,LEAD,1,main\n"
        "R1,HARN,20,crimp,crimper,0.4,unit,LEAD,2,,HARN,1,main\n"
        "R1,HARN,20,,,,,WIRE,0.01,yes,WIRE,0.002,scrap\n"
    )
    r = client.post(f"{IMPORT}/routes", content=csv, headers={**admin, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    route = client.get("/api/v1/masterdata/routes/R1", headers=admin).json()
    crimp = route["steps"][1]
    assert [(i["item"], i["floor_stock"]) for i in crimp["inputs"]] == [
        ("LEAD", False),
        ("WIRE", True),
    ]
    assert [o["kind"] for o in crimp["outputs"]] == ["main", "scrap"]
    bad = csv.replace("R1,HARN,20,,,,,WIRE,0.01", "R1,HARN,20,,,,,NOPE,0.01")
    r = client.post(f"{IMPORT}/routes", content=bad, headers={**admin, "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "steps.1.inputs.1.item")]


def test_duplicate_codes_and_unknown_columns_are_row_errors(client, admin, units) -> None:
    csv = "code,name,type,base_unit,colour\nA,A,raw,m,red\nA,A,raw,m,\n"
    r = client.post(f"{IMPORT}/items", content=csv, headers={**admin, "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(1, "colour"), (2, "code")]


def test_import_needs_a_writer_role_and_a_known_kind(client, admin, db: Database) -> None:
    r = client.post(f"{IMPORT}/items", json=[], headers=token(db, "operator"))
    assert r.status_code == 403
    assert client.post(f"{IMPORT}/widgets", json=[], headers=admin).status_code == 422
    assert client.post(f"{IMPORT}/items", json=[]).status_code == 401


def test_cli_import_prints_row_errors_and_exits_1(
    db: Database, tmp_path: Path, monkeypatch
) -> None:
    from isom import cli, schema

    monkeypatch.setattr(schema, "open_db", lambda: db)
    runner = CliRunner()
    units = tmp_path / "units.json"
    units.write_text(json.dumps([{"code": "m", "name": "metre", "decimals": 3}]))
    ok = runner.invoke(cli.app, ["md", "import", "units", str(units)])
    assert ok.exit_code == 0, ok.output
    assert "1 created" in ok.output
    items = tmp_path / "items.csv"
    items.write_text(ITEMS_CSV)
    bad = runner.invoke(cli.app, ["md", "import", "items", str(items)])
    assert bad.exit_code == 1
    assert "base_unit" in bad.output and "ea" in bad.output
    listed = runner.invoke(cli.app, ["md", "list", "units"])
    assert listed.exit_code == 0 and "metre" in listed.output
