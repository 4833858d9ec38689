"""Master data over REST: what an administrator, an operator and a stranger see."""

from __future__ import annotations

from isom.db import Database
from tests.builders import token

API = "/api/v1/masterdata"
WIRE = {
    "code": "WIRE-RED",
    "name": "Wire 0.5 mm2 red",
    "type": "raw",
    "base_unit": "m",
    "tracking": "lot",
    "standard_cost": "0.12",
    "gtin": "4006381333931",
    "attributes": {"colour": "red", "size": "0.5"},
    "conversions": [{"unit": "ea", "factor": "100"}],
}


def test_an_item_put_by_code_reads_back_by_code(client, admin, units) -> None:
    r = client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    assert r.status_code == 201, r.text
    got = client.get(f"{API}/items/WIRE-RED", headers=admin).json()
    assert got["base_unit"] == "m"
    assert got["standard_cost"] == "0.12"
    assert got["attributes"] == {"colour": "red", "size": "0.5"}
    assert got["conversions"] == [{"unit": "ea", "factor": "100"}]
    again = client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    assert again.status_code == 200
    page = client.get(f"{API}/items", params={"q": "red"}, headers=admin).json()
    assert page["total"] == 1 and page["items"][0]["code"] == "WIRE-RED"


def test_an_update_keeps_the_fields_it_leaves_out(client, admin, units) -> None:
    client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    part = {"code": "WIRE-RED", "name": "Red wire", "type": "raw", "base_unit": "m"}
    assert client.put(f"{API}/items/WIRE-RED", json=part, headers=admin).status_code == 200
    got = client.get(f"{API}/items/WIRE-RED", headers=admin).json()
    assert (got["name"], got["standard_cost"], got["tracking"]) == ("Red wire", "0.12", "lot")


def test_an_unknown_unit_is_a_404_naming_the_field(client, admin, units) -> None:
    r = client.put(f"{API}/items/WIRE-RED", json={**WIRE, "base_unit": "kg"}, headers=admin)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "base_unit"
    assert "kg" in r.json()["detail"]


def test_bad_values_are_422_naming_the_field(client, admin, units) -> None:
    bad = {**WIRE, "standard_cost": "-1", "colour": "red"}
    r = client.put(f"{API}/items/WIRE-RED", json=bad, headers=admin)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"standard_cost", "colour"} <= fields
    r = client.put(f"{API}/items/WIRE-RED", json={**WIRE, "gtin": "4006381333932"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "gtin"
    r = client.put(f"{API}/items/OTHER", json=WIRE, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "code"


def test_delete_deactivates_but_keeps_the_record(client, admin, units) -> None:
    client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    r = client.delete(f"{API}/items/WIRE-RED", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get(f"{API}/items/WIRE-RED", headers=admin).json()["active"] is False
    active = client.get(f"{API}/items", params={"active": True}, headers=admin).json()
    assert active["total"] == 0
    assert client.get(f"{API}/items/NOPE", headers=admin).status_code == 404


def test_an_operator_cannot_put_an_item_but_can_read(client, db: Database, units) -> None:
    operator = token(db, "operator")
    r = client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=operator)
    assert r.status_code == 403
    assert client.get(f"{API}/items", headers=operator).status_code == 200


def test_a_device_cannot_read_master_data(client, db: Database) -> None:
    assert client.get(f"{API}/items", headers=token(db, "device")).status_code == 403


def test_an_unauthenticated_get_is_401(client) -> None:
    assert client.get(f"{API}/items").status_code == 401
    assert client.get(f"{API}/routes/R1").status_code == 401


def test_a_location_tree_keeps_paths_below_their_site(client, admin) -> None:
    tree = [
        {"code": "PLANT", "name": "Plant", "kind": "site"},
        {"code": "STORE", "name": "Store", "kind": "area", "parent": "PLANT"},
        {"code": "Z1", "name": "Zone 1", "kind": "zone", "parent": "STORE"},
        {"code": "B1", "name": "Bin 1", "kind": "bin", "parent": "Z1"},
    ]
    for loc in tree:
        r = client.put(f"{API}/locations/{loc['code']}", json=loc, headers=admin)
        assert r.status_code == 201, r.text
    got = {c: client.get(f"{API}/locations/{c}", headers=admin).json() for c in ("PLANT", "B1")}
    assert got["B1"]["site"] == "PLANT"
    assert got["B1"]["path"].startswith(got["PLANT"]["path"])
    bad = {"code": "X", "name": "X", "kind": "bin", "parent": "B1"}
    r = client.put(f"{API}/locations/X", json=bad, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "parent"
    cycle = {"code": "STORE", "name": "Store", "kind": "area", "parent": "Z1"}
    r = client.put(f"{API}/locations/STORE", json=cycle, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "parent"


ROUTE = {
    "code": "R-HARNESS",
    "item": "HARNESS",
    "revision": "B",
    "batch_size": "50",
    "steps": [
        {
            "sequence": 20,
            "operation": "crimp",
            "workstation_kind": "crimper",
            "skill": "crimp",
            "setup_minutes": "15",
            "run_minutes": "0.4",
            "cleanup_minutes": "5",
            "inputs": [
                {"item": "LEAD", "quantity_per": "2"},
                {"item": "TERM", "quantity_per": "4", "floor_stock": True},
            ],
            "outputs": [
                {"item": "HARNESS", "kind": "main", "quantity_per": "1"},
                {"item": "WIRE-RED", "kind": "scrap", "quantity_per": "0.002"},
            ],
        },
        {
            "sequence": 10,
            "operation": "cut",
            "workstation_kind": "cutter",
            "run_minutes": "12",
            "run_basis": "batch",
            "inputs": [{"item": "WIRE-RED", "quantity_per": "0.305"}],
            "outputs": [{"item": "LEAD", "kind": "main"}],
        },
    ],
}


def test_a_route_with_steps_and_boms_round_trips(client, admin, units) -> None:
    client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    for code, kind in (("LEAD", "intermediate"), ("TERM", "raw"), ("HARNESS", "finished")):
        body = {"code": code, "name": code, "type": kind, "base_unit": "ea"}
        assert client.put(f"{API}/items/{code}", json=body, headers=admin).status_code == 201
    r = client.put(f"{API}/routes/R-HARNESS", json=ROUTE, headers=admin)
    assert r.status_code == 201, r.text
    got = client.get(f"{API}/routes/R-HARNESS", headers=admin).json()
    assert [s["sequence"] for s in got["steps"]] == [10, 20]
    cut, crimp = got["steps"]
    assert cut["run_basis"] == "batch" and cut["inputs"][0]["quantity_per"] == "0.305"
    assert crimp["inputs"][1] == {
        "item": "TERM",
        "quantity_per": "4",
        "floor_stock": True,
        "cut_length": None,
    }
    assert [(o["item"], o["kind"]) for o in crimp["outputs"]] == [
        ("HARNESS", "main"),
        ("WIRE-RED", "scrap"),
    ]
    shorter = {**ROUTE, "steps": [ROUTE["steps"][0]]}
    assert client.put(f"{API}/routes/R-HARNESS", json=shorter, headers=admin).status_code == 200
    assert len(client.get(f"{API}/routes/R-HARNESS", headers=admin).json()["steps"]) == 1
    unknown = {
        **ROUTE,
        "steps": [{**ROUTE["steps"][0], "inputs": [{"item": "NOPE", "quantity_per": "1"}]}],
    }
    r = client.put(f"{API}/routes/R-HARNESS", json=unknown, headers=admin)
    assert r.status_code == 404 and r.json()["field"] == "steps.0.inputs.0.item"


def test_a_route_step_without_a_main_output_is_refused_on_save(client, admin, units) -> None:
    """Such a step could be started but never stopped, and its job never finished."""
    client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    for code, kind in (("LEAD", "intermediate"), ("TERM", "raw"), ("HARNESS", "finished")):
        body = {"code": code, "name": code, "type": kind, "base_unit": "ea"}
        client.put(f"{API}/items/{code}", json=body, headers=admin)
    cut = {**ROUTE["steps"][1], "outputs": [{"item": "LEAD", "kind": "intermediate"}]}
    for outputs_of_cut in (
        cut["outputs"],
        [],
        [*cut["outputs"], {"item": "LEAD"}, {"item": "LEAD"}],
    ):
        bad = {**ROUTE, "steps": [ROUTE["steps"][0], {**cut, "outputs": outputs_of_cut}]}
        r = client.put(f"{API}/routes/R-HARNESS", json=bad, headers=admin)
        problem = r.json()
        assert r.status_code == 422 and problem["field"] == "steps[1].outputs", problem
        assert problem["expected"] == "exactly one output of kind 'main'"
    assert client.get(f"{API}/routes/R-HARNESS", headers=admin).status_code == 404


def test_resources_people_calendars_and_partners(client, admin, db: Database, units) -> None:
    cal = {
        "code": "2SHIFT",
        "name": "Two shifts",
        "timezone": "Europe/Berlin",
        "shifts": [{"name": "early", "weekday": 0, "start": "06:00", "end": "14:00"}],
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
    }
    assert client.put(f"{API}/calendars/2SHIFT", json=cal, headers=admin).status_code == 201
    site = {"code": "S", "name": "S", "kind": "site"}
    ws_loc = {"code": "WS-CUT", "name": "Cutter", "kind": "workstation", "parent": "S"}
    client.put(f"{API}/locations/S", json=site, headers=admin)
    client.put(f"{API}/locations/WS-CUT", json=ws_loc, headers=admin)
    ws = {
        "code": "CUT-1",
        "name": "Cutter 1",
        "kind": "cutter",
        "location": "WS-CUT",
        "operations": ["cut", "strip"],
        "hourly_rate": "55.5",
        "calendar": "2SHIFT",
    }
    assert client.put(f"{API}/workstations/CUT-1", json=ws, headers=admin).status_code == 201
    got = client.get(f"{API}/workstations/CUT-1", headers=admin).json()
    assert got["calendar"] == "2SHIFT" and got["hourly_rate"] == "55.5"
    anna = {"code": "P1", "name": "Anna", "badge_code": "B1", "skills": ["cut"], "shift": "early"}
    assert client.put(f"{API}/people/P1", json=anna, headers=admin).status_code == 201
    bob = {"code": "P2", "name": "Bob", "badge_code": "B1"}
    r = client.put(f"{API}/people/P2", json=bob, headers=admin)
    assert r.status_code == 409 and r.json()["field"] == "badge_code"
    buyer = token(db, "buyer")
    sup = {
        "code": "WIRECO",
        "name": "WireCo",
        "items": [{"item": "NOPE", "lead_time_days": 10}],
    }
    r = client.put(f"{API}/suppliers/WIRECO", json=sup, headers=buyer)
    assert r.status_code == 404 and r.json()["field"] == "items.0.item"
    client.put(f"{API}/items/WIRE-RED", json=WIRE, headers=admin)
    sup["items"] = [
        {"item": "WIRE-RED", "lead_time_days": 10, "min_order_qty": "500", "price": "0.115"}
    ]
    assert client.put(f"{API}/suppliers/WIRECO", json=sup, headers=buyer).status_code == 201
    line = client.get(f"{API}/suppliers/WIRECO", headers=buyer).json()["items"][0]
    assert (line["item"], line["min_order_qty"], line["price"]) == ("WIRE-RED", "500", "0.115")
    cust = {"code": "ACME", "name": "Acme", "ship_to": "Malmo"}
    assert client.put(f"{API}/customers/ACME", json=cust, headers=buyer).status_code == 201


def test_the_openapi_document_lists_master_data(client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/masterdata/items/{code}" in paths
    assert "/api/v1/masterdata/import/{kind}" in paths
