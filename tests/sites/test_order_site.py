"""A caller spanning sites (the ERP, an administrator) names the site that serves a new customer
order; a caller of one site cannot place an order in another."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.sites.support import DC, PLANT, Sites, state

API = "/api/v1"


def _order(sites: Sites, number: str, **extra: Any) -> dict[str, Any]:
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    return {
        "number": number,
        "customer": sites.objects[DC]["customer"],
        "lines": [{"item": sites.objects[DC]["item"], "quantity": "2", "due_date": due}],
        **extra,
    }


def _post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(
        f"{API}/orders/customer-orders",
        json=body,
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


def test_the_erp_names_the_dc_as_the_site_of_a_new_order(client: TestClient, sites: Sites) -> None:
    number = f"SO-DC-{uuid.uuid4().hex[:6].upper()}"
    r = _post(client, sites.callers["admin"], _order(sites, number, site=DC))
    assert r.status_code == 201, r.text
    seen = client.get(f"{API}/orders/customer-orders/{number}", headers=sites.callers["dc-clerk"])
    assert seen.status_code == 200, seen.text
    hidden = client.get(
        f"{API}/orders/customer-orders/{number}", headers=sites.callers["plant-clerk"]
    )
    assert hidden.status_code == 404

    moved = _post(client, sites.callers["admin"], _order(sites, number, site=PLANT))
    assert moved.status_code == 409, moved.text
    assert moved.json()["field"] == "site"


def test_a_plant_caller_cannot_place_an_order_in_the_dc(
    client: TestClient, migrated_db: Any, sites: Sites
) -> None:
    before = state(migrated_db)
    number = f"SO-X-{uuid.uuid4().hex[:6].upper()}"
    r = _post(client, sites.callers["plant-broad"], _order(sites, number, site=DC))
    assert r.status_code == 404, r.text
    assert r.json()["field"] == "site"
    assert state(migrated_db) == before


def test_an_unknown_site_is_named_with_the_sites_there_are(
    client: TestClient, sites: Sites
) -> None:
    r = _post(client, sites.callers["admin"], _order(sites, "SO-NOWHERE", site="NOWHERE"))
    assert r.status_code == 404, r.text
    problem = r.json()
    assert problem["field"] == "site"
    assert DC in problem["expected"] and PLANT in problem["expected"]
