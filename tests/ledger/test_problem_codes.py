"""Every problem+json answer carries a stable `code` a client can act on without the message."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.errors import InvalidTransition
from isom.transitions import check_transition
from isom.web.app import create_app
from tests.builders import key, token
from tests.ledger.test_api import API, PROBLEM, post, reel


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(pdb)) as c:
        yield c


def coded(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["detail"]
    return body


def test_each_kind_of_refusal_answers_its_own_code(client: TestClient, pdb: Database) -> None:
    clerk = token(pdb, "clerk")
    idem = key()
    assert post(client, "receive", reel(), clerk, idem).status_code == 201

    coded(post(client, "receive", reel(qty="99"), clerk, idem), 409, "idempotency_key_reused")
    coded(post(client, "receive", reel("R2", item="NOPE"), clerk), 404, "not_found")
    coded(post(client, "receive", reel("R3", qty="-5"), clerk), 422, "invalid_input")  # validation
    coded(client.post(f"{API}/ledger/receive", json=reel("R4")), 401, "not_authenticated")
    coded(post(client, "receive", reel("R5"), token(pdb, "operator")), 403, "forbidden")
    coded(client.get(f"{API}/no-such-thing", headers=clerk), 404, "not_found")
    coded(client.delete(f"{API}/ledger/receive", headers=clerk), 405, "method_not_allowed")
    # the refused requests changed nothing
    inv = client.get(f"{API}/inventory", headers=clerk).json()
    assert inv["total_quantity_by_item"] == {"WIRE": "100"}


class _Light(enum.Enum):
    red = "red"
    green = "green"
    off = "off"


def test_a_move_the_table_does_not_allow_is_invalid_transition_naming_where_it_could_come_from() -> (
    None
):
    table = {
        _Light.red: frozenset({_Light.green}),
        _Light.green: frozenset({_Light.red, _Light.off}),
        _Light.off: frozenset[_Light](),
    }
    check_transition(table, _Light.red, _Light.green, what="light 1", kind="light", field="light")

    with pytest.raises(InvalidTransition) as refused:
        check_transition(table, _Light.off, _Light.red, what="light 1", kind="light", field="light")

    problem = refused.value.to_problem()
    assert (problem["status"], problem["code"], problem["field"]) == (
        409,
        "invalid_transition",
        "light",
    )
    assert problem["detail"] == "light 1 is off; it cannot become red"
    assert problem["expected"] == "a light that is green"


def test_the_openapi_document_lists_every_code_and_each_error_response_its_codes() -> None:
    doc = TestClient(create_app(Database.__new__(Database))).get("/api/v1/openapi.json").json()
    listing = doc["components"]["schemas"]["ProblemCode"]["description"]
    for code in ("insufficient_stock", "invalid_transition", "idempotency_key_reused", "not_found"):
        assert f"`{code}` (" in listing
    assert "code" in doc["components"]["schemas"]["Problem"]["required"]
    conflict = doc["paths"]["/api/v1/ledger/move"]["post"]["responses"]["409"]["description"]
    assert "`idempotency_key_reused`" in conflict and "`insufficient_stock`" in conflict
