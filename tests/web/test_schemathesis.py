"""Schemathesis against every operation of the OpenAPI document (the live stream excepted).

Generated requests, valid and not, each with the token of a role drawn at random (admin and
device included): the API never answers with a server error and every 4xx is problem+json.
The ledger's and the orders' operations are held to more: every status they answer is one
they document, and every documented body matches its schema.

`ISOM_FUZZ_EXAMPLES` sets the examples per operation: a few in `make test`, hundreds in the
long run of `scripts/fuzz-api.sh`.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from isom.auth.models import Role
from isom.db import Database
from isom.web.app import create_app
from tests.builders import token
from tests.conftest import wipe
from tests.ledger.support import receive
from tests.orders.support import order_plant, stock

EXAMPLES = int(os.environ.get("ISOM_FUZZ_EXAMPLES", "2"))
STRICT = re.compile(r"^/api/v1/(ledger/|inventory|containers/|events/|lots/|orders/)")


class _NoStoreYet:
    """Stands in for the store while the schema is loaded at import; the fixture sets the real one."""


# The OpenAPI document does not touch the store, so the app can be built once, at import.
APP = create_app(_NoStoreYet())  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).exclude(
    path="/api/v1/production/wip/stream"
)


@schemathesis.check
def problem_json_for_every_4xx(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A client error says what is wrong in an RFC 9457 problem document."""
    if 400 <= response.status_code < 500:
        media = response.headers.get("content-type", [""])[0]
        assert media.startswith("application/problem+json"), (
            f"{response.status_code} answered as {media!r}: {response.text[:200]}"
        )
    return None


@pytest.fixture(scope="module")
def plant(migrated_db: Database) -> Database:
    """One small plant for every generated request: items, bins, stock and a price list."""
    wipe(migrated_db)
    order_plant(migrated_db)
    stock(migrated_db, "C-1", "CONN", "20")
    receive(migrated_db, "R1", quantity="100")
    APP.state.db = migrated_db
    return migrated_db


@schema.parametrize()
@schema.given(role=st.sampled_from([r.value for r in Role]))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_never_fails_and_explains_every_refusal(
    case: schemathesis.Case, role: str, plant: Database
) -> None:
    checks = [not_a_server_error, problem_json_for_every_4xx]
    if STRICT.match(case.path):
        checks += [status_code_conformance, response_schema_conformance]
    case.call_and_validate(headers=token(plant, role), checks=checks)
