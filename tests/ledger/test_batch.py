"""The batch door: a device's queue of scans sent at once, each command answered on its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.ledger.models import Event
from isom.ledger.verify import verify
from isom.web.app import create_app
from tests.builders import token
from tests.ledger.support import quantity, row_counts

API = "/api/v1/ledger/batch"


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


def receive(key: str, code: str, qty: str = "100") -> dict[str, Any]:
    body = {
        "container": code,
        "location": "BIN-1",
        "supplier": "SUP",
        "lines": [{"item": "WIRE", "lot": {"code": "L1"}, "quantity": qty, "unit_cost": "0.12"}],
    }
    return {"key": key, "operation": "receive", "body": body}


def move(key: str, code: str, to: str) -> dict[str, Any]:
    return {"key": key, "operation": "move", "body": {"container": code, "to_location": to}}


def consume(key: str, code: str, qty: str) -> dict[str, Any]:
    body = {"container": code, "item": "WIRE", "quantity": qty, "step": "WO-1/10"}
    return {"key": key, "operation": "consume", "body": body}


def send(client: TestClient, headers: dict[str, str], *commands: dict[str, Any]) -> Any:
    return client.post(API, json={"commands": list(commands)}, headers=headers)


def events(pdb: Database) -> int:
    return row_counts(pdb)[Event.__tablename__]


def test_one_bad_command_is_refused_alone_and_the_others_are_applied(
    client: TestClient, pdb: Database
) -> None:
    supervisor = token(pdb, "supervisor")
    batch = [
        receive("b-1", "R1"),
        consume("b-2", "R1", "30"),
        consume("b-3", "R1", "500"),  # more than R1 holds
        move("b-4", "R1", "NOWHERE"),  # no such location
        move("b-5", "R1", "BIN-2"),
    ]
    r = send(client, supervisor, *batch)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(a["key"], a["status"]) for a in out["answers"]] == [
        ("b-1", 201),
        ("b-2", 201),
        ("b-3", 409),
        ("b-4", 404),
        ("b-5", 201),
    ]
    assert (out["applied"], out["replayed"], out["refused"]) == (3, 0, 2)
    refused = out["answers"][2]["body"]
    assert refused["status"] == 409 and "500" in refused["detail"] and refused["field"]
    assert out["answers"][3]["body"]["field"] == "to_location"
    assert quantity(pdb, "R1") == 70 and events(pdb) == 3
    assert pdb.read(lambda s: verify(s).ok)


def test_the_same_batch_again_answers_the_same_and_applies_nothing_twice(
    client: TestClient, pdb: Database
) -> None:
    clerk = token(pdb, "clerk")
    batch = [receive("r-1", "R1"), move("r-2", "R1", "BIN-2"), consume("r-3", "R1", "1")]
    first = send(client, clerk, *batch).json()["answers"]
    counts = row_counts(pdb)
    again = send(client, clerk, *batch).json()["answers"]
    assert [a["status"] for a in first] == [201, 201, 403]  # a clerk may not consume
    assert [a["status"] for a in again] == [200, 200, 403]
    for one, two in zip(first[:2], again[:2], strict=True):
        assert two["outcome"] == "replayed" and two["body"] == {**one["body"], "replayed": True}
    assert again[2]["body"] == first[2]["body"]
    assert row_counts(pdb) == counts


def test_a_refused_command_stays_refused_under_its_key(client: TestClient, pdb: Database) -> None:
    supervisor = token(pdb, "supervisor")
    send(client, supervisor, receive("k-1", "R1", "10"))
    first = send(client, supervisor, consume("k-2", "R1", "20")).json()["answers"][0]
    send(client, supervisor, receive("k-3", "R2", "50"), move("k-4", "R2", "BIN-1"))
    merged = {"key": "k-5", "operation": "merge", "body": {"container": "R2", "into": "R1"}}
    assert send(client, supervisor, merged).json()["answers"][0]["status"] == 201, "R1 holds 60"
    again = send(client, supervisor, consume("k-2", "R1", "20")).json()["answers"][0]
    assert (again["status"], again["body"]) == (409, first["body"])
    assert quantity(pdb, "R1") == 60


def test_one_key_twice_in_a_batch_is_applied_once(client: TestClient, pdb: Database) -> None:
    clerk = token(pdb, "clerk")
    out = send(
        client,
        clerk,
        receive("d-1", "R1"),
        move("d-2", "R1", "BIN-2"),
        move("d-2", "R1", "BIN-2"),  # the scanner queued its retry too
        move("d-2", "R1", "BIN-1"),  # the same key for another move
    ).json()["answers"]
    assert [a["status"] for a in out] == [201, 201, 200, 409]
    assert out[3]["body"]["field"] == "Idempotency-Key"
    assert events(pdb) == 2


def test_thousands_of_commands_and_more_than_a_mebibyte_are_taken(
    client: TestClient, pdb: Database
) -> None:
    note = "x" * 400
    batch = [
        {"key": f"big-{n}", "operation": "teleport", "body": {"note": note}} for n in range(3000)
    ]
    r = send(client, token(pdb, "clerk"), *batch)
    assert r.status_code == 200, r.text[:300]
    answers = r.json()["answers"]
    assert len(answers) == 3000 and {a["status"] for a in answers} == {422}
    assert answers[0]["body"]["field"] == "operation"
    too_many = [move(f"m-{n}", "R1", "BIN-1") for n in range(5001)]
    assert send(client, token(pdb, "clerk"), *too_many).status_code == 422


def test_bad_bodies_and_roles_are_answered_per_command(client: TestClient, pdb: Database) -> None:
    out = send(
        client,
        token(pdb, "operator"),
        {"key": "v-1", "operation": "move", "body": {"container": "R1"}},
        receive("v-2", "R1"),  # an operator does not receive
    ).json()["answers"]
    assert [(a["status"], a["body"]["field"]) for a in out] == [
        (422, "body.to_location"),
        (403, "operation"),
    ]
    assert client.post(API, json={"commands": []}, headers=token(pdb, "clerk")).status_code == 422
    assert client.post(API, json={"commands": [receive("x", "R1")]}).status_code == 401
