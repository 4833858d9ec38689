"""The OpenAPI document tells a client the truth about headers, media types and errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.builders import token


class _NoStore:
    """The document is built without touching a store."""


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    document: dict[str, Any] = (
        TestClient(create_app(_NoStore()))
        .get(  # type: ignore[arg-type]
            "/api/v1/openapi.json"
        )
        .json()
    )
    return document


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items()]


def test_the_idempotency_key_is_required_wherever_a_command_takes_it(doc: dict[str, Any]) -> None:
    keyed = {
        (m, p): prm
        for m, p, op in operations(doc)
        for prm in op.get("parameters", [])
        if prm["name"] == "Idempotency-Key"
    }

    assert ("post", "/api/v1/ledger/move") in keyed
    optional = [mp for mp, prm in keyed.items() if not prm.get("required")]
    # Only an import may leave it out: the file itself is then the key.
    assert optional == [("post", "/api/v1/orders/import/{kind}")]


def test_a_missing_idempotency_key_is_422_naming_the_header(db: Database) -> None:
    r = TestClient(create_app(db)).post(
        "/api/v1/ledger/move",
        json={"container": "C-1", "to_location": "B"},
        headers=token(db, "clerk"),
    )

    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/api/v1/export/inventory.csv", "text/csv"),
        ("/api/v1/export/feed.csv", "text/csv"),
        ("/api/v1/reconciliations/{run_id}/differences.csv", "text/csv"),
        ("/api/v1/orders/purchase-orders/{number}/csv", "text/csv"),
        ("/api/v1/b2mml/material-lots", "application/xml"),
        ("/api/v1/b2mml/operations-performance", "application/xml"),
        ("/api/v1/production/wip/stream", "text/event-stream"),
    ],
)
def test_exports_are_documented_in_their_own_media_type(
    doc: dict[str, Any], path: str, media_type: str
) -> None:
    assert list(doc["paths"][path]["get"]["responses"]["200"]["content"]) == [media_type]


def test_every_error_is_documented_as_problem_json(doc: dict[str, Any]) -> None:
    undocumented = [
        (m, p, status)
        for m, p, op in operations(doc)
        for status, response in op["responses"].items()
        if status[0] in "45" and list(response.get("content", {})) != ["application/problem+json"]
    ]

    assert undocumented == []
    move = doc["paths"]["/api/v1/ledger/move"]["post"]["responses"]
    assert {"400", "413", "422"} <= set(move)
    problem = doc["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "code", "field", "expected"} <= set(problem)
    assert "429" in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]


def test_trace_is_405_with_allow(db: Database) -> None:
    r = TestClient(create_app(db)).request("TRACE", "/api/v1/inventory")

    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    assert r.headers["content-type"].startswith("application/problem+json")
