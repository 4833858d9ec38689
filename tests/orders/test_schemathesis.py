"""Schemathesis against the order endpoints of the OpenAPI document.

Generated commands (valid and not) as an admin: the API never answers with a server error,
every status it answers is one it documents, and every documented body matches its schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from isom.db import Database
from isom.web.app import create_app
from tests.builders import token
from tests.conftest import wipe
from tests.orders.support import order_plant, stock

ORDER_PATHS = r"^/api/v1/orders/"


class _NoStoreYet:
    """Stands in for the store while the schema is loaded at import; each test sets the real one."""


APP = create_app(_NoStoreYet())  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).include(path_regex=ORDER_PATHS)


@pytest.fixture(scope="module")
def admin(migrated_db: Database) -> dict[str, str]:
    """One plant for every generated request (they only need something to act on)."""
    wipe(migrated_db)
    order_plant(migrated_db)
    stock(migrated_db, "C-1", "CONN", "20")
    APP.state.db = migrated_db
    return token(migrated_db, "admin")


@schema.parametrize()
@settings(
    max_examples=2,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)
def test_order_api_conforms_to_its_schema(case: schemathesis.Case, admin: dict[str, str]) -> None:
    case.call_and_validate(
        headers=admin,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
