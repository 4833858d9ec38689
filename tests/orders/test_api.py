"""Orders through HTTP: a clerk's screen, a buyer, the ERP's import and a shop's webhook."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from isom.db import Database
from isom.orders.webhook import SIGNATURE_HEADER, SOURCE_HEADER, sign
from isom.web.app import create_app
from tests.builders import key, poster, token
from tests.orders.support import TODAY, order_plant, stock

API = "/api/v1/orders"
SECRET = "a-shop-secret-of-enough-length"


@pytest.fixture
def odb(db: Database) -> Database:
    order_plant(db)
    return db


@pytest.fixture
def client(odb: Database) -> Iterator[TestClient]:
    with TestClient(create_app(odb)) as c:
        yield c


post = poster(API)


def so_body(**extra: Any) -> dict[str, Any]:
    return {
        "customer": "CUS",
        "lines": [{"item": "CONN", "quantity": "4", "due_date": TODAY.isoformat()}],
        **extra,
    }


def test_a_clerk_takes_an_order_and_replays_it(client: TestClient, odb: Database) -> None:
    clerk = token(odb, "clerk")
    idem = key()
    first = post(client, "customer-orders", so_body(number="SO-9"), clerk, idem)
    assert first.status_code == 201, first.text
    again = post(client, "customer-orders", so_body(number="SO-9"), clerk, idem)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["number"] == "SO-9"
    got = client.get(f"{API}/customer-orders/SO-9", headers=clerk)
    assert got.status_code == 200
    assert got.json()["lines"][0] | {"due_date": None} == {
        "line_no": 1,
        "reference": "SO-9/1",
        "item": "CONN",
        "quantity": "4",
        "due_date": None,
        "status": "open",
        "quantity_reserved": "0",
        "quantity_shipped": "0",
        "quantity_open": "4",
    }
    assert post(client, "customer-orders", so_body(), token(odb, "operator")).status_code == 403
    assert client.get(f"{API}/customer-orders/SO-9").status_code == 401


def test_errors_name_the_field(client: TestClient, odb: Database) -> None:
    clerk = token(odb, "clerk")
    bad_qty = so_body(lines=[{"item": "CONN", "quantity": "-1", "due_date": "2026-12-01"}])
    r = post(client, "customer-orders", bad_qty, clerk)
    assert r.status_code == 422
    assert "lines" in json.dumps(r.json())
    r = post(client, "customer-orders", so_body(customer="NOBODY"), clerk)
    assert (r.status_code, r.json()["field"]) == (404, "customer")
    r = client.get(f"{API}/customer-orders/SO-NONE", headers=clerk)
    assert (r.status_code, r.json()["field"]) == (404, "order")
    post(client, "customer-orders", so_body(number="SO-C"), clerk)
    body = {"order": "SO-C", "reason": "no longer needed"}
    assert post(client, "customer-orders/cancel", body, clerk).status_code == 201
    r = post(
        client,
        "customer-orders/change-line",
        {"order": "SO-C", "line_no": 1, "quantity": "2"},
        clerk,
    )
    assert (r.status_code, r.json()["field"]) == (409, "line_no")


def test_buyer_proposes_approves_sends_and_gets_pdf_and_csv(
    client: TestClient, odb: Database
) -> None:
    buyer = token(odb, "buyer")
    r = post(
        client,
        "purchase-orders",
        {
            "supplier": "SUP",
            "lines": [{"item": "WIRE", "quantity": "250"}, {"item": "CONN", "quantity": "40"}],
        },
        buyer,
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    assert r.json()["status"] == "proposed"
    assert (
        post(client, "purchase-orders/approve", {"order": number}, token(odb, "clerk")).status_code
        == 403
    )
    assert (
        post(client, "purchase-orders/approve", {"order": number}, buyer).json()["status"]
        == "approved"
    )
    sent = post(client, "purchase-orders/send", {"order": number}, buyer).json()
    assert (sent["status"], sent["detail"]["csv"]) == (
        "sent",
        f"{API}/purchase-orders/{number}/csv",
    )
    csv_text = client.get(sent["detail"]["csv"], headers=buyer).text
    assert csv_text.splitlines() == [
        "po_number,line_no,supplier,item,quantity,due_date,unit_price,amount,currency",
        f"{number},1,SUP,WIRE,250,{(TODAY + dt.timedelta(days=5)).isoformat()},0.1,25,EUR",
        f"{number},2,SUP,CONN,40,{(TODAY + dt.timedelta(days=2)).isoformat()},0.45,18,EUR",
    ]
    pdf = client.get(f"{API}/purchase-orders/{number}/pdf", headers=buyer)
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdfium.PdfDocument(io.BytesIO(pdf.content))[0].get_textpage().get_text_range()
    assert f"Purchase order {number}" in text and "WIRE" in text and "43 EUR" in text
    r = post(client, "purchase-orders/cancel", {"order": "PO-NONE"}, buyer)
    assert (r.status_code, r.json()["field"]) == (404, "order")


def test_receipt_over_tolerance_is_409_and_a_held_receipt_shows(
    client: TestClient, odb: Database
) -> None:
    buyer, clerk = token(odb, "buyer"), token(odb, "clerk")
    number = post(
        client,
        "purchase-orders",
        {"supplier": "SUP", "approve": True, "lines": [{"item": "GLUE", "quantity": "10"}]},
        buyer,
    ).json()["number"]
    body = {"order": number, "line_no": 1, "quantity": "11", "location": "DOCK", "lot": "G1"}
    r = post(client, "purchase-orders/receive", body, clerk)
    assert (r.status_code, r.json()["field"]) == (409, "quantity")
    r = post(
        client, "purchase-orders/receive", {**body, "quantity": "10", "container": "GL-1"}, clerk
    )
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["detail"]["held"]) == ("received", True)
    inv = client.get("/api/v1/containers/GL-1", headers=clerk).json()
    assert [c["status"] for c in inv["contents"]] == ["hold"]


def test_pick_and_ship_over_http_with_a_packing_list(client: TestClient, odb: Database) -> None:
    stock(odb, "C-1", "CONN", "4")
    clerk = token(odb, "clerk")
    post(client, "customer-orders", so_body(number="SO-P"), clerk)
    ship = post(client, "ship-orders", {"order": "SO-P"}, clerk).json()["number"]
    view = client.get(f"{API}/ship-orders/{ship}", headers=clerk).json()
    assert [(p["container"], p["quantity"], p["location"]) for p in view["picks"]] == [
        ("C-1", "4", "BIN-1")
    ]
    assert (
        post(
            client, "ship-orders/pick", {"ship_order": ship, "container": "C-1"}, clerk
        ).status_code
        == 201
    )
    packed = post(
        client,
        "ship-orders/pack",
        {"ship_order": ship, "container": "C-1", "package": "PK-1"},
        clerk,
    )
    assert packed.json()["status"] == "packed"
    shipped = post(client, "ship-orders/ship", {"ship_order": ship}, clerk)
    assert shipped.json()["detail"]["customer_order_status"] == "shipped"
    pdf = client.get(f"{API}/ship-orders/{ship}/packing-list", headers=clerk)
    text = pdfium.PdfDocument(io.BytesIO(pdf.content))[0].get_textpage().get_text_range()
    assert f"Packing list {ship}" in text and "PK-1" in text and "CONN" in text
    assert client.get("/api/v1/containers/PK-1", headers=clerk).json()["status"] == "shipped"
    listed = client.get(f"{API}/ship-orders?status=shipped", headers=clerk).json()
    assert [(x["number"], x["packages"]) for x in listed] == [(ship, ["PK-1"])]


def test_import_reports_every_bad_row_and_changes_nothing(
    client: TestClient, odb: Database
) -> None:
    planner = token(odb, "planner")
    bad = (
        "number,customer,priority,line_no,item,quantity,due_date\n"
        "SO-I1,CUS,rush,1,CONN,5,2026-12-01\n"
        "SO-I1,CUS,rush,2,NOPE,5,2026-12-01\n"
        "SO-I2,CUS,normal,1,CONN,-3,2026-12-01\n"
    )
    headers = {**planner, "Content-Type": "text/csv"}
    r = client.post(f"{API}/import/customer-orders", content=bad, headers=headers)
    assert r.status_code == 422
    errors = [(e["row"], e["field"]) for e in r.json()["errors"]]
    assert errors == [(2, "lines.1.item"), (3, "lines.0.quantity")]
    assert client.get(f"{API}/customer-orders", headers=planner).json() == []
    good = bad.replace("NOPE", "WIRE").replace("-3", "3")
    r = client.post(f"{API}/import/customer-orders", content=good, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == {"kind": "customer_orders", "rows": 2, "created": 2, "updated": 0}
    again = client.post(f"{API}/import/customer-orders", content=good, headers=headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    orders = {o["number"]: o for o in client.get(f"{API}/customer-orders", headers=planner).json()}
    assert (orders["SO-I1"]["priority"], len(orders["SO-I1"]["lines"])) == ("rush", 2)
    demand = client.get(f"{API}/demand", headers=planner).json()
    assert [d["reference"] for d in demand][:2] == ["SO-I1/1", "SO-I1/2"]


def test_purchase_orders_import_from_json(client: TestClient, odb: Database) -> None:
    buyer = token(odb, "buyer")
    doc = [
        {
            "supplier": "SUP",
            "source": "erp",
            "external_ref": "P-77",
            "lines": [{"item": "CONN", "quantity": "100", "due_date": "2026-12-10"}],
        }
    ]
    r = client.post(f"{API}/import/purchase-orders", json=doc, headers=buyer)
    assert r.status_code == 201, r.text
    supply = client.get(f"{API}/supply", headers=buyer).json()
    assert [(s["item"], s["open_quantity"], s["order_status"]) for s in supply] == [
        ("CONN", "100", "proposed")
    ]
    r = client.post(f"{API}/import/sales-orders", json=doc, headers=buyer)
    assert (r.status_code, r.json()["field"]) == (422, "kind")


def _shop(client: TestClient, body: dict[str, Any], *, secret: str = SECRET) -> Any:
    raw = json.dumps(body).encode()
    return client.post(
        f"{API}/webhook/shop",
        content=raw,
        headers={
            SOURCE_HEADER: "webshop",
            SIGNATURE_HEADER: sign(secret, raw),
            "Content-Type": "application/json",
        },
    )


def test_shop_webhook_checks_the_signature_and_is_idempotent(
    client: TestClient, odb: Database
) -> None:
    integrator = token(odb, "integrator")
    source = {"name": "webshop", "secret": SECRET, "default_customer": "CUS"}
    assert client.put(f"{API}/webhook-sources", json=source, headers=integrator).status_code == 200
    order = {
        "id": 1001,
        "priority": "rush",
        "shipping_address": {"name": "Ada", "address1": "Main St 1", "city": "Graz"},
        "line_items": [{"sku": "CONN", "quantity": 3, "title": "Connector"}],
        "total_price": "9.99",
    }
    forged = _shop(client, order, secret="not-the-shops-secret-at-all")
    assert (forged.status_code, forged.json()["field"]) == (401, SIGNATURE_HEADER)
    unsigned = client.post(f"{API}/webhook/shop", json=order, headers={SOURCE_HEADER: "webshop"})
    assert (unsigned.status_code, unsigned.json()["field"]) == (401, SIGNATURE_HEADER)
    raw = json.dumps(order).encode()
    stranger = client.post(
        f"{API}/webhook/shop",
        content=raw,
        headers={SOURCE_HEADER: "othershop", SIGNATURE_HEADER: sign(SECRET, raw)},
    )
    assert (stranger.status_code, stranger.json()["field"]) == (401, SOURCE_HEADER)
    garbage = b"\xff\xfe not json"
    r = client.post(
        f"{API}/webhook/shop",
        content=garbage,
        headers={SOURCE_HEADER: "webshop", SIGNATURE_HEADER: sign(SECRET, garbage)},
    )
    assert (r.status_code, r.json()["field"]) == (422, "body")
    r = _shop(client, {**order, "line_items": []})
    assert (r.status_code, r.json()["field"]) == (422, "line_items")
    made = _shop(client, order)
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    again = _shop(client, order)
    assert (again.status_code, again.json()["number"]) == (200, number)
    view = client.get(f"{API}/customer-orders/{number}", headers=integrator).json()
    assert (view["source"], view["external_ref"], view["priority"], view["ship_to"]) == (
        "webshop",
        "1001",
        "rush",
        "Ada, Main St 1, Graz",
    )
    changed = _shop(client, {**order, "line_items": [{"sku": "CONN", "quantity": 5}]})
    assert (changed.status_code, changed.json()["number"]) == (201, number)
    view = client.get(f"{API}/customer-orders/{number}", headers=integrator).json()
    assert [line["quantity"] for line in view["lines"]] == ["5"]
    unknown = _shop(client, {**order, "id": 1002, "line_items": [{"sku": "NOPE", "quantity": 1}]})
    assert (unknown.status_code, unknown.json()["field"]) == (404, "line_items[0].sku")
    assert len(client.get(f"{API}/customer-orders", headers=integrator).json()) == 1
