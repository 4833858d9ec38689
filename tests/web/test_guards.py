"""What no client may send: NUL and lone surrogates, numbers past the store's, bodies past a cap.

Each is refused with a problem+json naming the field, the same on SQLite and PostgreSQL, and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from isom.auth.models import LoginFailure, User
from isom.db import Database
from isom.masterdata.models import Person
from isom.toolkit import guards
from isom.web.app import create_app
from tests.builders import key, plant, token


@pytest.fixture
def client(db: Database) -> TestClient:
    plant(db)
    return TestClient(create_app(db))


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    return token(db, "admin")


def refused(r: Any, field: str, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["field"] == field and body["expected"]
    return body


def count(db: Database, model: type[Any]) -> int:
    return int(db.read(lambda s: s.scalar(select(func.count()).select_from(model))))


# --- NUL and lone surrogates ----------------------------------------------------------------


def test_a_nul_in_the_login_is_refused_before_sign_in(db: Database, client: TestClient) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "admin\u0000", "password": "x" * 8})

    assert refused(r, "username")["code"] == "invalid_character"
    assert count(db, LoginFailure) == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/inventory?item=WI%00RE", "item"),
        ("/api/v1/masterdata/locations?q=%00", "q"),
        ("/api/v1/masterdata/items/WI%00RE", "code"),
        ("/api/v1/containers/C%00-1", "code"),
        ("/inventory?item=%00", "item"),
    ],
)
def test_a_nul_in_a_query_or_path_names_the_parameter(
    client: TestClient, admin: dict[str, str], path: str, field: str
) -> None:
    refused(client.get(path, headers=admin), field)


def test_a_nul_in_a_header_names_the_header(client: TestClient, admin: dict[str, str]) -> None:
    r = client.get("/api/v1/inventory", headers={**admin, "X-Device-Id": "scan\x00ner"})

    refused(r, "x-device-id")


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"])
def test_a_bad_character_deep_in_a_json_body_names_its_path(
    db: Database, client: TestClient, admin: dict[str, str], bad: str
) -> None:
    body = (
        '{"container": "C-9", "location": "BIN-1", "lines": [{"item": "CONN", "quantity": "1",'
        f' "lot": {{"code": "L{bad.encode("unicode_escape").decode().replace("x", "u00")}"}}}}]}}'
    )

    r = client.post(
        "/api/v1/ledger/receive",
        content=body,
        headers={**admin, "Idempotency-Key": key(), "Content-Type": "application/json"},
    )

    refused(r, "lines[0].lot.code")
    assert client.get("/api/v1/containers/C-9", headers=admin).status_code == 404


def test_a_nul_in_a_reason_is_refused_and_nothing_moves(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/ledger/receive",
        json={
            "container": "C-1",
            "location": "BIN-1",
            "reference": "PO\x00-1",
            "lines": [{"item": "CONN", "quantity": "5"}],
        },
        headers={**admin, "Idempotency-Key": key()},
    )

    refused(r, "reference")
    assert client.get("/api/v1/inventory?item=CONN", headers=admin).json()["rows"] == []


def test_a_nul_in_an_uploaded_import_file_names_the_file(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    csv = b"code,name,kind,parent\nBIN-\x009,Bin 9,bin,SITE\n"
    as_json = b'[{"code": "BIN-9", "name": "Bin \\u0000 9", "kind": "bin", "parent": "SITE"}]'

    r = client.post(
        "/api/v1/masterdata/import/locations",
        files={"file": ("locations.csv", csv, "text/csv")},
        headers=admin,
    )
    refused(r, "file")
    r = client.post(
        "/api/v1/masterdata/import/locations",
        files={"file": ("locations.json", as_json, "application/json")},
        headers=admin,
    )
    refused(r, "file[0].name")
    r = client.post(
        "/api/v1/reconciliations",
        content=b"item,location,quantity\nCO\x00NN,BIN-1,1\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    refused(r, "body")
    assert client.get("/api/v1/masterdata/locations/BIN-9", headers=admin).status_code == 404


def test_an_unknown_caller_gets_401_before_its_raw_body_is_read(client: TestClient) -> None:
    r = client.post(
        "/api/v1/reconciliations",
        content=b"item,location,quantity\nCO\x00NN,BIN-1,1\n",
        headers={"Content-Type": "text/csv"},
    )

    assert r.status_code == 401


def test_a_nul_in_the_sign_in_form_is_refused(db: Database, client: TestClient) -> None:
    r = client.post("/login", data={"username": "ad\x00min", "password": "x", "csrf_token": "t"})

    refused(r, "username")


# --- numbers past what the store keeps --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/agents/decisions?offset=9993676281657968640", "offset"),
        ("/api/v1/agents/decisions/9993676281657968640", "decision_id"),
        ("/api/v1/agents/decisions/2147483648", "decision_id"),
        ("/api/v1/reconciliations/2147483648", "run_id"),
        ("/api/v1/reconciliations/99999999999999999999999/differences.csv", "run_id"),
        ("/api/v1/feed?after=9223372036854775808", "after"),
        ("/api/v1/events/9223372036854775808", "event_id"),
    ],
)
def test_a_huge_id_or_offset_is_422_naming_it(
    client: TestClient, admin: dict[str, str], path: str, field: str
) -> None:
    refused(client.get(path, headers=admin), field)


def test_a_huge_integer_in_a_json_body_is_422(
    db: Database, client: TestClient, admin: dict[str, str]
) -> None:
    r = client.put(
        "/api/v1/masterdata/people/P9",
        json={"code": "P9", "name": "Nine", "user_id": 2**40},
        headers=admin,
    )

    refused(r, "user_id")
    assert count(db, Person) == 0


def walk_integers(schema: dict[str, Any], doc: dict[str, Any], path: str) -> Iterator[str]:
    """Every integer in a schema (following $refs) that has no upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        yield from walk_integers(doc["components"]["schemas"][name], doc, f"{path}<{name}>")
        return
    if schema.get("type") == "integer" and not {"maximum", "exclusiveMaximum", "enum"} & set(
        schema
    ):
        yield path
    for name, sub in schema.get("properties", {}).items():
        yield from walk_integers(sub, doc, f"{path}.{name}")
    for sub in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from walk_integers(sub, doc, path)
    if isinstance(schema.get("items"), dict):
        yield from walk_integers(schema["items"], doc, f"{path}[]")


def test_every_integer_a_client_sends_is_bounded_in_the_schema(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    unbounded = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                where = f"{method} {path} {parameter['name']}"
                unbounded += walk_integers(parameter["schema"], doc, where)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += walk_integers(media.get("schema", {}), doc, f"{method} {path} body")

    assert unbounded == []


# --- bodies past their cap ---------------------------------------------------------------------


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent in chunks with no Content-Length, as a streaming client sends it."""
    for start in range(0, total, size):
        yield b" " * min(size, total - start)


@pytest.mark.parametrize("streamed", [False, True])
def test_a_body_past_the_default_cap_is_413(
    db: Database, client: TestClient, admin: dict[str, str], streamed: bool
) -> None:
    size = guards.DEFAULT_CAP + 1
    body = chunks(size) if streamed else b" " * size

    r = client.post(
        "/api/v1/users",
        content=body,
        headers={**admin, "Content-Type": "application/json"},
    )

    problem = refused(r, "body", 413)
    assert problem["code"] == "body_too_large"
    assert problem["expected"] == f"at most {guards.DEFAULT_CAP} bytes"
    assert count(db, User) == 0


def test_an_import_may_be_larger_than_the_default_but_not_without_end(
    client: TestClient, admin: dict[str, str]
) -> None:
    big_csv = b"code,name,kind,parent\n" + b"BIN-X,Bin,bin,SITE\n" * 80_000  # about 1.5 MB
    assert len(big_csv) > guards.DEFAULT_CAP
    ok = client.post(
        "/api/v1/masterdata/import/locations",
        files={"file": ("locations.csv", big_csv, "text/csv")},
        headers=admin,
    )
    assert ok.status_code != 413, ok.text

    r = client.post(
        "/api/v1/masterdata/import/locations",
        content=chunks(guards.cap_for("/api/v1/masterdata/import/locations") + 1),
        headers={**admin, "Content-Type": "text/csv"},
    )
    refused(r, "body", 413)
