"""Schemathesis against the ledger and inventory endpoints of the OpenAPI document.

Generated requests (valid and not) as an admin: the API never answers with a server error,
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
from tests.ledger.support import receive

LEDGER_PATHS = r"^/api/v1/(ledger/|inventory|containers/|events/|lots/)"


@pytest.fixture
def admin(pdb: Database) -> dict[str, str]:
    return token(pdb, "admin")


class _NoStoreYet:
    """Stands in for the store while the schema is loaded at import; each test sets the real one."""


# The OpenAPI document does not touch the store, so the app can be built once, at import.
APP = create_app(_NoStoreYet())  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).include(
    path_regex=LEDGER_PATHS
)


@pytest.fixture(autouse=True)
def _store(pdb: Database) -> None:
    """The app on this test's store, over a plant with a little stock to act on."""
    receive(pdb, "R1", quantity="100")
    receive(pdb, "B1", "CONN", "20", lot=None, location="BIN-2")
    APP.state.db = pdb


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)
def test_ledger_api_conforms_to_its_schema(case: schemathesis.Case, admin: dict[str, str]) -> None:
    case.call_and_validate(
        headers=admin,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
