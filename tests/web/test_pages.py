"""The server-rendered pages through the test client: sign-in, inventory, containers, trace."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from isom.db import Database
from tests.builders import token
from tests.web.seed import PASSWORD, received_box, sign_in, user


def test_an_unauthenticated_page_redirects_to_login(client: TestClient) -> None:
    for path in ("/inventory", "/", "/trace", "/containers/BOX-1", "/terminal"):
        r = client.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")


def test_after_login_the_inventory_lists_the_received_container(
    db: Database, client: TestClient
) -> None:
    received_box(db)
    user(db)

    sign_in(client)
    r = client.get("/inventory")

    assert r.status_code == 200
    assert "WIRE" in r.text and "150.5 m" in r.text and "L-42" in r.text and "BIN-1" in r.text
    assert client.get("/").headers["location"] == "/inventory"


def test_inventory_filters_and_a_friendly_error_for_an_unknown_item(
    db: Database, client: TestClient
) -> None:
    received_box(db)
    user(db)
    sign_in(client)

    assert "150.5 m" in client.get("/inventory?item=WIRE&lot=L-42&status=available").text
    assert "Nothing on hand" in client.get("/inventory?location=BIN-2").text
    unknown = client.get("/inventory?item=NOPE")
    assert unknown.status_code == 404 and "no item with code" in unknown.text
    bad_status = client.get("/inventory?status=lost")
    assert bad_status.status_code == 422 and "unknown status" in bad_status.text


def test_the_container_page_shows_contents_and_history(db: Database, client: TestClient) -> None:
    received_box(db)
    user(db)
    sign_in(client)

    r = client.get("/containers/BOX-1")

    assert r.status_code == 200
    assert "150.5 m" in r.text and "receive" in r.text and "PO-7" in r.text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.text)
    search = client.get("/containers?code=BOX-1")
    assert search.status_code == 303 and search.headers["location"] == "/containers/BOX-1"


def test_an_unknown_container_gets_a_friendly_404_page(db: Database, client: TestClient) -> None:
    user(db)
    sign_in(client)

    r = client.get("/containers/NOPE-9")

    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "no container with code" in r.text and "Traceback" not in r.text


def test_the_trace_page_shows_genealogy_and_recall(db: Database, client: TestClient) -> None:
    received_box(db)
    user(db)
    sign_in(client)

    r = client.get("/trace?item=WIRE&lot=L-42")

    assert r.status_code == 200
    assert "Where it came from" in r.text and "Recall" in r.text and "BOX-1" in r.text
    assert client.get("/trace?item=WIRE&lot=NOPE").status_code == 404


def test_a_wrong_password_shows_the_form_again(db: Database, client: TestClient) -> None:
    user(db)
    form = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None

    r = client.post(
        "/login", data={"username": "clara", "password": "nope nope", "csrf_token": csrf.group(1)}
    )

    assert r.status_code == 401 and "Wrong user name or password" in r.text
    assert "isom_session" not in client.cookies


def test_login_without_the_form_token_is_refused(db: Database, client: TestClient) -> None:
    user(db)
    r = client.post("/login", data={"username": "clara", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403
    assert "isom_session" not in client.cookies


def test_next_never_leads_off_site(db: Database, client: TestClient) -> None:
    user(db)
    sign_in(client, next_url="/trace")
    client.cookies.delete("isom_session")
    form = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/inventory"' in form.text


def test_logout_needs_the_session_csrf_token(db: Database, client: TestClient) -> None:
    user(db)
    sign_in(client)
    page = client.get("/inventory").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None

    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    r = client.post("/logout", data={"csrf_token": csrf.group(1)})

    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/inventory").status_code == 303


def test_a_device_may_not_read_pages(db: Database, client: TestClient) -> None:
    r = client.get("/inventory", headers=token(db, "device"))
    assert r.status_code == 403 and "may not read" in r.text


def test_the_scan_terminal_is_for_operators_and_supervisors(
    db: Database, client: TestClient
) -> None:
    received_box(db)
    user(db, "clara", "clerk")
    user(db, "otto", "operator")

    sign_in(client, "clara", "/terminal")
    refused = client.get("/terminal")
    assert refused.status_code == 403 and "may not use the scan terminal" in refused.text

    client.cookies.clear()
    sign_in(client, "otto", "/terminal")
    page = client.get("/terminal")
    assert page.status_code == 200
    assert 'id="t-scan"' in page.text and "/static/terminal.js" in page.text
    assert 'data-csrf=""' not in page.text  # writes from the page carry the session's token


def test_the_trace_shows_the_tree_to_suppliers_and_customers_and_a_recall_file(
    db: Database, client: TestClient
) -> None:
    from isom import demo

    demo.load_if_empty(db)
    user(db)
    sign_in(client, next_url="/trace")

    back = client.get("/trace?item=HARN-JST-300&lot=WO-000001")
    assert back.status_code == 200
    tree = back.text[back.text.index("Where it came from") : back.text.index("What it went into")]
    # the harness lot branches into its two lead lots, each down to the supplier's wire lot
    for made, raw in (("WO-000002", "WR-2611-01"), ("WO-000003", "WB-2611-01")):
        assert tree.index(made) < tree.index(raw)
    assert "from <strong>WIRECO</strong>" in tree

    forward = client.get("/trace?item=WIRE-0.5-RD&lot=WR-2611-01").text
    went = forward[forward.index("What it went into") :]
    assert went.index("WO-000002") < went.index("WO-000001") < went.index("ACME-ROBOTICS")

    report = client.get("/trace.csv?item=WIRE-0.5-RD&lot=WR-2611-01")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    shipped = [r for r in report.text.splitlines() if r.startswith("shipment,")]
    assert shipped and all(",ACME-ROBOTICS," in r for r in shipped)
