"""The planner's and buyer's order pages on the demo plant, through the test client."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from isom import demo
from isom.db import Database
from isom.orders import services as orders
from isom.orders.customer import list_customer_orders
from tests.web.seed import sign_in, user


def _order_count(db: Database) -> int:
    return len(db.read(lambda s: list_customer_orders(s, limit=1000)))


def test_a_planner_enters_an_order_and_is_told_what_is_wrong(
    db: Database, client: TestClient
) -> None:
    demo.load_if_empty(db)
    user(db, "pia", "planner")
    csrf = sign_in(client, "pia", "/orders")
    listing = client.get("/orders")
    assert "SO-9002" in listing.text and "rush" in listing.text
    key = re.search(r'name="key" value="([^"]+)"', listing.text)
    assert key is not None
    before = _order_count(db)
    form = {
        "csrf_token": csrf,
        "key": key.group(1),
        "customer": "SENSORPRO",
        "priority": "normal",
        "allow_partial": "on",
        "item_0": "CORD-M8-2M",
        "quantity_0": "-5",
        "due_0": "2026-12-10",
    }

    bad = client.post("/orders", data=form)
    assert bad.status_code == 422 and "lines[0].quantity" in bad.text
    assert _order_count(db) == before

    good = client.post("/orders", data={**form, "quantity_0": "12"})
    assert good.status_code == 303
    number = good.headers["location"].rsplit("/", 1)[1]
    again = client.post("/orders", data={**form, "quantity_0": "12"})  # a double click
    assert again.headers["location"] == good.headers["location"]
    assert _order_count(db) == before + 1
    view = db.read(lambda s: orders.customer_order_view(s, number))
    assert (view.customer, [(ln.item, ln.quantity) for ln in view.lines]) == (
        "SENSORPRO",
        [("CORD-M8-2M", 12)],
    )

    page = client.get(f"/orders/{number}")
    assert page.status_code == 200 and "CORD-M8-2M" in page.text
    line_key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert line_key is not None
    cancelled = client.post(
        f"/orders/{number}/cancel",
        data={
            "csrf_token": csrf,
            "key": line_key.group(1),
            "line_no": "1",
            "reason": "customer changed their mind",
        },
    )
    assert cancelled.status_code == 303
    assert db.read(lambda s: orders.customer_order_view(s, number)).status == "cancelled"


def test_a_buyer_approves_and_sends_a_proposed_purchase_order(
    db: Database, client: TestClient
) -> None:
    demo.load_if_empty(db)
    user(db, "ben", "buyer")
    user(db, "clara", "clerk")
    csrf = sign_in(client, "ben", "/orders")
    page = client.get("/purchasing")
    assert page.status_code == 200 and "Approve PO-000002" in page.text
    key = re.search(r'name="key" value="([^"]+)-PO-000002"', page.text)
    assert key is not None

    for action, status in (("approve", "approved"), ("send", "sent")):
        r = client.post(
            f"/purchasing/PO-000002/{action}",
            data={"csrf_token": csrf, "key": f"{key.group(1)}-PO-000002"},
        )
        assert r.status_code == 303
        assert db.read(lambda s: orders.purchase_order_view(s, "PO-000002")).status == status
    pdf = client.get("/api/v1/orders/purchase-orders/PO-000002/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    client.cookies.clear()
    clerk_csrf = sign_in(client, "clara", "/orders")
    refused = client.post(
        "/purchasing/PO-000002/cancel", data={"csrf_token": clerk_csrf, "key": "k"}
    )
    assert refused.status_code == 403
    assert db.read(lambda s: orders.purchase_order_view(s, "PO-000002")).status == "sent"


def test_the_schedule_shows_every_open_step_on_its_workstation(
    db: Database, client: TestClient
) -> None:
    from isom.planning import scheduling

    demo.load_if_empty(db)
    user(db, "pia", "planner")
    sign_in(client, "pia", "/orders")
    plan = db.read(lambda s: scheduling.backward_schedule(s, learned=False))
    assert plan.steps

    page = client.get("/planning/schedule")
    assert page.status_code == 200
    figure = re.search(r'data-chart="chart-gantt">(.+?)</script>', page.text, re.S)
    assert figure is not None
    bars = json.loads(figure.group(1))["data"]
    assert sum(len(trace["text"]) for trace in bars) == len(plan.steps)
    assert {f"{s.work_order}/{s.sequence}" for s in plan.steps} == {
        label for trace in bars for label in trace["text"]
    }
    steps = page.text[page.text.index('id="steps"') :].split("</table>", 1)[0]
    assert steps.count("<tr>") == len(plan.steps) + 1
