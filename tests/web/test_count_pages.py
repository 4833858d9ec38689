"""Counts beyond tolerance on the pages: the clerk's count waits, marked as awaiting approval,
and the supervisor approves one and rejects another from /counts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from isom.db import Database
from isom.ledger import queries
from tests.builders import key, token
from tests.web.seed import received_box, sign_in, user


def _count(client: TestClient, headers: dict[str, str], quantity: str) -> int:
    body = {"container": "BOX-1", "item": "WIRE", "lot": "L-42", "counted_quantity": quantity}
    r = client.post(
        "/api/v1/ledger/count", json=body, headers={**headers, "Idempotency-Key": key()}
    )
    assert r.status_code == 202, r.text
    return int(r.json()["detail"]["proposal"])


def test_a_supervisor_approves_and_rejects_counts_from_the_page(
    db: Database, client: TestClient
) -> None:
    received_box(db)
    clerk = token(db, "clerk")
    first, second = _count(client, clerk, "10"), _count(client, clerk, "300")
    user(db, "clara")
    user(db, "sam", "supervisor")

    sign_in(client, "clara", "/counts")
    page = client.get("/counts")
    assert page.status_code == 200
    assert page.text.count("awaiting approval") >= 2 and 'value="approve"' not in page.text
    row = page.text[page.text.index(f'id="count-{first}"') :].split("</tr>", 1)[0]
    assert ">150.5</td>" in row and ">10</td>" in row and ">-140.5</td>" in row
    warehouse = client.get("/warehouse")
    assert 'href="/counts"' in warehouse.text

    client.cookies.clear()
    csrf = sign_in(client, "sam", "/counts")
    approved = client.post(
        f"/counts/{first}", data={"action": "approve", "csrf_token": csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    no_reason = client.post(f"/counts/{second}", data={"action": "reject", "csrf_token": csrf})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    rejected = client.post(
        f"/counts/{second}",
        data={"action": "reject", "reason": "recount", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    box = db.read(lambda s: queries.container(s, "BOX-1"))
    assert [c.quantity for c in box.contents] == [10]
    page = client.get("/counts").text
    assert "No count is waiting" in page
    decided = page[page.index('id="decided-counts"') :]
    assert re.search(r"approved", decided) and "recount" in decided
    stale = client.post(f"/counts/{first}", data={"action": "approve", "csrf_token": "x"})
    assert stale.status_code == 403
