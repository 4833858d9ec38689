"""The ledger through HTTP, as a scanner, a clerk's screen or the ERP would call it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.builders import key, poster, token

PROBLEM = "application/problem+json"
API = "/api/v1"


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


@pytest.fixture
def clerk(pdb: Database) -> dict[str, str]:
    return token(pdb, "clerk")


@pytest.fixture
def supervisor(pdb: Database) -> dict[str, str]:
    return token(pdb, "supervisor")


post = poster(f"{API}/ledger")


def reel(
    code: str = "R1", qty: str = "100", lot: str = "L1", location: str = "BIN-1", item: str = "WIRE"
) -> dict[str, Any]:
    return {
        "container": code,
        "location": location,
        "supplier": "SUP",
        "reference": "PO-1",
        "lines": [{"item": item, "lot": {"code": lot}, "quantity": qty, "unit_cost": "0.12"}],
    }


def field_path(field: str) -> str:
    """'lines.0.quantity' (request validation) and 'lines[0].quantity' (services) name one field."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", field)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_receive_answers_201_with_the_container(client: TestClient, clerk: dict[str, str]) -> None:
    r = post(client, "receive", reel(), clerk)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json"
    assert "Idempotent-Replayed" not in r.headers
    body = r.json()
    assert body["kind"] == "receive" and body["replayed"] is False
    assert body["containers"] == ["R1"]
    assert body["balances"] == [
        {
            "location": "BIN-1",
            "item": "WIRE",
            "lot": "L1",
            "status": "available",
            "delta": "100",
            "quantity": "100",
        }
    ]


def test_a_replay_answers_200_with_the_first_body(
    client: TestClient, clerk: dict[str, str]
) -> None:
    idem = key()
    first = post(client, "receive", reel(), clerk, idem)
    again = post(client, "receive", reel(), clerk, idem)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    a, b = first.json(), again.json()
    assert b.pop("replayed") is True and a.pop("replayed") is False
    assert a == b
    inv = client.get(f"{API}/inventory", headers=clerk).json()
    assert inv["total_quantity_by_item"] == {"WIRE": "100"}  # applied once
    # the same key with another body
    other = problem(post(client, "receive", reel(qty="99"), clerk, idem), 409)
    assert other["field"] == "Idempotency-Key"


def test_a_write_without_an_idempotency_key_is_refused(
    client: TestClient, clerk: dict[str, str]
) -> None:
    r = client.post(f"{API}/ledger/receive", json=reel(), headers=clerk)
    body = problem(r, 422)
    assert body["field"] == "Idempotency-Key" and body["expected"]
    assert client.get(f"{API}/containers/R1", headers=clerk).status_code == 404


def test_an_unknown_item_is_404_naming_the_line(client: TestClient, clerk: dict[str, str]) -> None:
    body = problem(post(client, "receive", reel(item="NOPE"), clerk), 404)
    assert body["field"] == "lines[0].item"
    assert "NOPE" in body["detail"]
    assert body["type"].endswith("/not_found") and body["instance"] == f"{API}/ledger/receive"


@pytest.mark.parametrize(
    ("qty", "expected"),
    [
        ("-5", "greater than 0"),
        ("0", "greater than 0"),
        ("0.0000001", "6 decimal"),  # finer than any quantity is kept
        ("1.0005", "3 decimals for unit m"),  # finer than the metre's 3 decimals
    ],
)
def test_a_bad_quantity_is_422_with_field_and_expected(
    client: TestClient, clerk: dict[str, str], qty: str, expected: str
) -> None:
    body = problem(post(client, "receive", reel(qty=qty), clerk), 422)
    assert field_path(body["field"]) == "lines[0].quantity"
    assert expected in body["expected"] or expected in body["detail"], body
    assert client.get(f"{API}/inventory", headers=clerk).json()["rows"] == []


def test_an_unknown_field_is_422(client: TestClient, clerk: dict[str, str]) -> None:
    body = problem(post(client, "receive", {**reel(), "colour": "red"}, clerk), 422)
    assert body["field"] == "colour" and "no such field" in body["expected"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": "a reel"}, "lines"),
        ({"location": 17}, "location"),
        (
            {"lines": [{"item": "WIRE", "lot": {"code": "L1"}, "quantity": "lots"}]},
            "lines[0].quantity",
        ),
        ({"lines": []}, "lines"),
        ({"location": "BIN 1!"}, "location"),
    ],
)
def test_a_wrong_type_or_shape_is_422_naming_the_field(
    client: TestClient, clerk: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = problem(post(client, "receive", {**reel(), **change}, clerk), 422)
    assert field_path(body["field"]) == field
    assert body["expected"]


def test_a_body_that_is_not_json_is_422(client: TestClient, clerk: dict[str, str]) -> None:
    r = client.post(
        f"{API}/ledger/receive",
        content=b"{not json",
        headers={**clerk, "Idempotency-Key": key(), "Content-Type": "application/json"},
    )
    problem(r, 422)


def test_roles_and_tokens(
    client: TestClient, pdb: Database, clerk: dict[str, str], supervisor: dict[str, str]
) -> None:
    post(client, "receive", reel(), clerk)
    adjust = {"container": "R1", "item": "WIRE", "quantity_delta": "-1", "reason_code": "lost"}
    operator = token(pdb, "operator")

    body = problem(post(client, "adjust", adjust, operator), 403)
    assert "supervisor" in body["expected"]
    problem(post(client, "adjust", adjust, clerk), 403)
    problem(
        client.post(f"{API}/ledger/adjust", json=adjust, headers={"Idempotency-Key": key()}), 401
    )
    problem(post(client, "adjust", adjust, {"Authorization": "Bearer not-a-token"}), 401)
    problem(post(client, "adjust", adjust, {"Authorization": "Basic abc"}), 401)
    problem(client.get(f"{API}/inventory"), 401)
    # a device may write but not read the inventory
    device = token(pdb, "device")
    problem(client.get(f"{API}/inventory", headers=device), 403)

    assert post(client, "adjust", adjust, supervisor).status_code == 201
    assert (
        post(client, "adjust", {**adjust, "quantity_delta": "-2"}, token(pdb, "admin")).status_code
        == 201
    )
    r = client.get(f"{API}/containers/R1", headers=operator)
    assert r.json()["contents"][0]["quantity"] == "97"


def test_not_enough_quantity_is_a_409_that_says_how_much_there_is(
    client: TestClient, clerk: dict[str, str], pdb: Database
) -> None:
    post(client, "receive", reel("REEL-50", qty="50"), clerk)
    op = token(pdb, "operator")
    body = problem(
        post(
            client,
            "consume",
            {"container": "REEL-50", "item": "WIRE", "quantity": "75", "step": "WO-1/10"},
            op,
        ),
        409,
    )
    assert body["field"] == "quantity" and body["expected"] == "at most 50"
    assert (
        client.get(f"{API}/containers/REEL-50", headers=clerk).json()["contents"][0]["quantity"]
        == "50"
    )


def test_inventory_by_location_includes_sub_locations(
    client: TestClient, clerk: dict[str, str]
) -> None:
    post(client, "receive", reel("R1", "10", location="BIN-1"), clerk)
    post(client, "receive", reel("R2", "20", lot="L2", location="BIN-2"), clerk)
    post(client, "receive", reel("R3", "40", location="DOCK"), clerk)

    store = client.get(f"{API}/inventory", params={"location": "STORE"}, headers=clerk)
    assert store.status_code == 200
    rows = {(r["location"], r["lot"], r["quantity"]) for r in store.json()["rows"]}
    assert rows == {("BIN-1", "L1", "10"), ("BIN-2", "L2", "20")}
    assert store.json()["total_quantity_by_item"] == {"WIRE": "30"}
    lot = client.get(f"{API}/inventory", params={"item": "WIRE", "lot": "L1"}, headers=clerk)
    assert {r["location"] for r in lot.json()["rows"]} == {"BIN-1", "DOCK"}
    problem(client.get(f"{API}/inventory", params={"location": "MOON"}, headers=clerk), 404)
    bad = problem(client.get(f"{API}/inventory", params={"limit": "0"}, headers=clerk), 422)
    assert bad["field"] == "limit"


@pytest.mark.parametrize("text", ["1e3", "1E3", "NaN", "Infinity", "1_000", "0x10", "10 m"])
def test_a_quantity_string_must_be_a_plain_decimal(
    client: TestClient, clerk: dict[str, str], text: str
) -> None:
    """'1e3' would be a thousand: a typo or a float a script printed, refused, not guessed."""
    body = problem(post(client, "receive", reel(qty=text), clerk), 422)
    assert body["field"] == "lines[0].quantity"
    assert "plain decimal" in body["detail"] and "1000 or 2.5" in body["expected"]
    assert client.get(f"{API}/containers/R1", headers=clerk).status_code == 404


def test_a_quantity_is_a_json_number_or_a_string_of_digits(
    client: TestClient, clerk: dict[str, str]
) -> None:
    for code, qty in (("R1", "1000"), ("R2", 1000), ("R3", "2.5"), ("R4", 2.5)):
        assert post(client, "receive", reel(code, qty=qty), clerk).status_code == 201  # type: ignore[arg-type]
        got = client.get(f"{API}/containers/{code}", headers=clerk).json()
        assert got["contents"][0]["quantity"] == str(qty)


def test_container_shows_contents_children_and_history(
    client: TestClient, pdb: Database, clerk: dict[str, str]
) -> None:
    post(client, "receive", reel("R1"), clerk)
    post(client, "receive", {**reel("P1"), "lines": [{"item": "CONN", "quantity": "4"}]}, clerk)
    post(client, "nest", {"container": "R1", "parent": "P1"}, clerk)
    post(client, "move", {"container": "P1", "to_location": "DOCK"}, clerk)
    op = token(pdb, "operator")
    post(
        client,
        "consume",
        {"container": "R1", "item": "WIRE", "quantity": "25.5", "step": "WO-1/10"},
        op,
    )

    r = client.get(f"{API}/containers/R1", headers=clerk)
    assert r.status_code == 200
    got = r.json()
    assert (got["location"], got["parent"], got["status"]) == ("DOCK", "P1", "active")
    assert [(c["item"], c["lot"], c["quantity"]) for c in got["contents"]] == [
        ("WIRE", "L1", "74.5")
    ]
    # The pallet's move carried the reel: it is in the reel's history too.
    assert [e["kind"] for e in got["history"]] == ["consume", "move", "nest", "receive"]
    assert got["history"][1]["moves"][0]["container"] == "P1"
    pallet = client.get(f"{API}/containers/P1", headers=clerk).json()
    assert [c["code"] for c in pallet["children"]] == ["R1"]
    assert [e["kind"] for e in pallet["history"]] == ["move", "nest", "receive"]
    event_id = got["history"][0]["id"]
    ev = client.get(f"{API}/events/{event_id}", headers=clerk).json()
    assert {ln["place"] for ln in ev["lines"]} == {None, "step:WO-1/10"}
    # Once off the pallet, the pallet's moves are no longer the reel's.
    post(client, "unnest", {"container": "R1"}, clerk)
    post(client, "move", {"container": "P1", "to_location": "BIN-1"}, clerk)
    got = client.get(f"{API}/containers/R1", headers=clerk).json()
    kinds = ["unnest", "consume", "move", "nest", "receive"]
    assert [e["kind"] for e in got["history"]] == kinds
    assert got["location"] == "DOCK"
    missing = problem(client.get(f"{API}/containers/NOPE", headers=clerk), 404)
    assert "NOPE" in missing["detail"]


def test_lot_genealogy_and_recall(client: TestClient, pdb: Database, clerk: dict[str, str]) -> None:
    op = token(pdb, "operator")
    post(client, "receive", reel("R1", lot="L1"), clerk)
    post(
        client,
        "consume",
        {"container": "R1", "item": "WIRE", "quantity": "30", "step": "WO-7/10"},
        op,
    )
    made = post(
        client,
        "produce",
        {
            "step": "WO-7/10",
            "item": "CABLE",
            "lot": {"code": "CB-1"},
            "quantity": "3",
            "new_container": "FG1",
            "location": "DOCK",
        },
        op,
    )
    assert made.status_code == 201, made.text
    assert (
        post(
            client, "ship", {"container": "FG1", "customer": "CUS", "reference": "SO-1"}, clerk
        ).status_code
        == 201
    )

    back = client.get(f"{API}/lots/CABLE/CB-1/genealogy", headers=clerk).json()
    assert back["direction"] == "backward"
    assert [(n["item"], n["lot"], n["step"], n["supplier"]) for n in back["nodes"]] == [
        ("WIRE", "L1", "WO-7/10", "SUP")
    ]
    fwd = client.get(
        f"{API}/lots/WIRE/L1/genealogy", params={"direction": "forward"}, headers=clerk
    ).json()
    assert [(n["item"], n["lot"]) for n in fwd["nodes"]] == [("CABLE", "CB-1")]
    recall = client.get(f"{API}/lots/WIRE/L1/recall", headers=clerk)
    assert recall.status_code == 200
    rc = recall.json()
    assert {c["container"] for c in rc["containers"]} == {"R1", "FG1"}
    assert rc["jobs"] == ["WO-7"] and rc["customers"] == ["CUS"]
    assert [(s["container"], s["lot"], s["quantity"]) for s in rc["shipments"]] == [
        ("FG1", "CB-1", "3")
    ]
    problem(client.get(f"{API}/lots/WIRE/NOPE/recall", headers=clerk), 404)
    problem(
        client.get(
            f"{API}/lots/WIRE/L1/genealogy", params={"direction": "sideways"}, headers=clerk
        ),
        422,
    )


def test_every_write_endpoint_requires_a_key_and_a_token(client: TestClient) -> None:
    schema = client.get(f"{API}/openapi.json").json()
    writes = [
        p for p, ops in schema["paths"].items() if p.startswith(f"{API}/ledger/") and "post" in ops
    ]
    assert len(writes) >= 15
    for path in writes:
        params = {p["name"] for p in schema["paths"][path]["post"].get("parameters", [])}
        if path == f"{API}/ledger/batch":  # each command of a batch carries its own key
            assert "key" in schema["components"]["schemas"]["BatchItem"]["required"]
        else:
            assert "Idempotency-Key" in params, path
        problem(client.post(path, json={}, headers={"Idempotency-Key": key()}), 401)
