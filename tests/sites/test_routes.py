"""Sites apart on every route: a caller of one site cannot read, move or ship the other site's
containers, locations or orders (404, or 403 where the role already refuses), and nothing
changes; an administrator, who spans both sites, reads both.

The routes come from the app's own route table and OpenAPI document, so a route added later
that takes a container, location or order is covered without touching this file (or fails
`kind_of` until someone says what its parameter names)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from tests.builders import key
from tests.sites.support import (
    DC,
    NONE,
    PLANT,
    Route,
    Sites,
    command_body,
    command_routes,
    fill,
    kind_of,
    openapi,
    path_body,
    site_bound_routes,
    state,
)

ROUTES = site_bound_routes()
DOC = openapi()
COMMANDS = command_routes()
#: Who tries the other site's objects: (caller, the site it holds, the site it must not reach).
INTRUDERS = [
    ("plant-clerk", DC),
    ("plant-broad", DC),
    ("dc-clerk", PLANT),
    ("dc-broad", PLANT),
]


def _headers(route_method: str, caller: dict[str, str]) -> dict[str, str]:
    return caller if route_method == "GET" else {**caller, "Idempotency-Key": key()}


def _refused(response: Any, where: str, fields: set[str]) -> None:
    """403, or a 404 that names the other site's object (so it is the site that refused)."""
    assert response.status_code in (403, 404), f"{where}: {response.status_code} {response.text}"
    if response.status_code == 404 and response.headers["content-type"].startswith(
        "application/problem+json"
    ):
        field = response.json().get("field")
        assert field is None or field in fields, f"{where}: refused for {field}, not the site"


def test_the_route_table_has_the_routes_of_every_kind_of_object() -> None:
    """The enumeration itself finds what the bar names: ledger, order, DC and page routes."""
    paths = {r.path for r in ROUTES}
    assert {
        "/api/v1/containers/{code}",
        "/api/v1/orders/ship-orders/{number}",
        "/api/v1/production/work-orders/{number}",
        "/containers/{code:path}",
        "/orders/{number}",
    } <= paths
    commands = {path for path, _op, _fields in COMMANDS}
    assert {
        "/api/v1/ledger/move",
        "/api/v1/ledger/ship",
        "/api/v1/orders/ship-orders/ship",
        "/api/v1/dc/waves/pick",
    } <= commands


@pytest.mark.parametrize(("who", "other"), INTRUDERS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_a_caller_cannot_reach_the_other_sites_object_by_path(
    client: TestClient, migrated_db: Database, sites: Sites, route: Route, who: str, other: str
) -> None:
    before = state(migrated_db)
    objects = sites.objects[other]
    path = fill(route, objects)
    body = path_body(route, objects, DOC)
    headers = _headers(route.method, sites.callers[who])
    r = client.request(route.method, path, headers=headers, json=body)

    named = set(route.params) | {str(kind_of(route.path, p)) for p in route.params}
    _refused(r, f"{who} {route.method} {path}", named | {"code", "order", "parent"})
    assert state(migrated_db) == before


@pytest.mark.parametrize(("who", "other"), INTRUDERS)
@pytest.mark.parametrize(("path", "operation", "fields"), COMMANDS, ids=[c[1] for c in COMMANDS])
def test_a_caller_cannot_move_or_ship_the_other_sites_objects(
    client: TestClient,
    migrated_db: Database,
    sites: Sites,
    path: str,
    operation: str,
    fields: list[str],
    who: str,
    other: str,
) -> None:
    body, bound = command_body(path, sites.objects[other], DOC)
    before = state(migrated_db)
    r = client.post(path, json=body, headers={**sites.callers[who], "Idempotency-Key": key()})

    named = bound | {"order", "ship_order", "work_order", "wave", "site"}
    _refused(r, f"{who} POST {path} {body}", named)
    assert state(migrated_db) == before


@pytest.mark.parametrize("site", [PLANT, DC])
@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.method == "GET" and r.path.startswith("/api/")],
    ids=lambda r: r.id,
)
def test_the_administrator_reads_both_sites(
    client: TestClient, sites: Sites, route: Route, site: str
) -> None:
    path = fill(route, sites.objects[site])
    r = client.get(path, headers=sites.callers["admin"])
    if NONE in path:  # e.g. the plant has no waves, and nobody a count proposal
        assert r.status_code == 404
    else:
        assert r.status_code == 200, f"admin GET {path}: {r.status_code} {r.text}"
