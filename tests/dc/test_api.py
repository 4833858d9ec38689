"""The DC over HTTP and on its pages: every route needs a signed-in caller with its role, bad
input is a problem+json 4xx that changes nothing, and the clerk's dock form receives a pallet."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.builders import key, token
from tests.dc.support import container, dc_site, dc_stock, sscc
from tests.dc.test_inbound import CASE_1, PALLET, supplier_advice
from tests.web.seed import sign_in, user

API = "/api/v1/dc"


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    dc_site(db)
    with TestClient(create_app(db), follow_redirects=False) as c:
        yield c


def test_receiving_by_sscc_over_http_checks_who_and_what(client: TestClient, db: Database) -> None:
    clerk, operator = token(db, "clerk"), token(db, "operator")
    anonymous = client.post(
        f"{API}/advices/epcis", json=supplier_advice(), headers={"Idempotency-Key": key()}
    )
    assert anonymous.status_code == 401
    refused = client.post(
        f"{API}/advices/epcis",
        json=supplier_advice(),
        headers={**operator, "Idempotency-Key": key()},
    )
    assert refused.status_code == 403
    bad = supplier_advice()
    bad["epcisBody"]["eventList"][0]["action"] = "SOMETIMES"
    invalid = client.post(
        f"{API}/advices/epcis", json=bad, headers={**clerk, "Idempotency-Key": key()}
    )
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith("application/problem+json")
    assert "eventList[0].action" in invalid.json()["field"]

    idem = key()
    made = client.post(
        f"{API}/advices/epcis", json=supplier_advice(), headers={**clerk, "Idempotency-Key": idem}
    )
    assert made.status_code == 201, made.text
    again = client.post(
        f"{API}/advices/epcis", json=supplier_advice(), headers={**clerk, "Idempotency-Key": idem}
    )
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"

    scan = {"scan": f"(00){PALLET}", "location": "DC-DOCK-IN"}
    assert (
        client.post(
            f"{API}/receive", json=scan, headers={**operator, "Idempotency-Key": key()}
        ).status_code
        == 403
    )
    got = client.post(f"{API}/receive", json=scan, headers={**clerk, "Idempotency-Key": key()})
    assert got.status_code == 201, got.text
    assert container(db, CASE_1)["parent"] == PALLET
    unknown = client.post(
        f"{API}/receive",
        json={**scan, "scan": sscc(4242)},
        headers={**clerk, "Idempotency-Key": key()},
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "scan"
    assert client.get(f"{API}/pallets/{PALLET}").status_code == 401
    assert client.get(f"{API}/pallets/{PALLET}", headers=clerk).json()["status"] == "received"


def test_the_clerk_receives_on_the_dock_page_and_an_operator_may_not(
    client: TestClient, db: Database
) -> None:
    assert client.get("/dc/dock", follow_redirects=False).status_code in (303, 401)
    csv = f"pallet_sscc,case,item,quantity\n{sscc(77)},BOX-A,BRACKET-M12,100\n"
    clerk = token(db, "clerk")
    made = client.post(
        f"{API}/advices/csv?number=FX-1&supplier=FIXPRO",
        content=csv,
        headers={**clerk, "Idempotency-Key": key()},
    )
    assert made.status_code == 201, made.text
    user(db, "lina", "clerk")
    csrf = sign_in(client, "lina", "/dc/dock")
    page = client.get("/dc/dock")
    assert sscc(77) in page.text and "Receive pallet" in page.text
    form_key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert form_key is not None
    done = client.post(
        "/dc/dock",
        data={
            "csrf_token": csrf,
            "key": form_key.group(1),
            "scan": sscc(77),
            "location": "DC-DOCK-IN",
            "counted": "BOX-A=90",
        },
    )
    assert done.status_code == 303
    done = client.get(done.headers["location"])
    assert "short" in done.text and "BOX-A" in done.text

    user(db, "tom", "operator")
    with TestClient(create_app(db), follow_redirects=False) as other:
        csrf = sign_in(other, "tom", "/dc/dock")
        refused = other.post("/dc/dock", data={"csrf_token": csrf, "scan": sscc(77)})
    assert refused.status_code == 403


def test_the_wave_and_kit_pages_show_their_lists(client: TestClient, db: Database) -> None:
    dc_stock(db)
    user(db, "lina", "clerk")
    sign_in(client, "lina", "/dc/waves")
    assert "No wave yet" in client.get("/dc/waves").text
    assert "No kit or repack job is open" in client.get("/dc/kits").text
    assert client.get(f"{API}/waves", headers=token(db, "clerk")).json() == []
