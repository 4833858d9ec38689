"""SSCCs from the site counter, containers labelled with them, and what a scan names."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from isom.db import Database
from isom.devices import gs1
from isom.devices import services as devices
from isom.devices.models import Sscc
from isom.devices.schemas import Gs1SiteIn
from isom.errors import Conflict, NotFound
from isom.ledger import queries as ledger_queries
from isom.web.app import create_app
from tests.builders import key, token
from tests.devices.support import ACTOR, API, receive

GS = gs1.GS


@pytest.fixture
def client(db: Database, plant: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as c:
        yield c


def allocate(db: Database, idem: str | None = None) -> str:
    k = idem or key()
    return db.write(lambda s: devices.allocate_sscc(s, ACTOR, k, "KW1")).sscc


def test_ssccs_follow_the_site_counter_with_prefix_extension_and_check_digit(
    db: Database, plant: dict[str, str]
) -> None:
    first, second = allocate(db), allocate(db)
    assert first == "040123450000000011"[:17] + str(gs1.check_digit("04012345000000001"))
    assert first[:17] == "04012345000000001" and second[:17] == "04012345000000002"
    assert gs1.is_valid_key(first) and gs1.is_valid_key(second)
    site = db.read(lambda s: devices.gs1_site(s, "KW1"))
    assert site.last_serial == 2 and site.serials_left == 10**9 - 3


def test_the_same_key_answers_the_same_sscc_and_uses_no_serial(
    db: Database, plant: dict[str, str]
) -> None:
    k = key()
    assert allocate(db, k) == allocate(db, k)
    assert db.read(lambda s: s.scalar(select(func.count()).select_from(Sscc))) == 1


def test_a_site_without_gs1_settings_gets_a_clear_404(db: Database, plant: dict[str, str]) -> None:
    with pytest.raises(NotFound) as err:
        db.write(lambda s: devices.allocate_sscc(s, ACTOR, key(), "KW1-X"))
    assert err.value.field == "site"


def test_the_prefix_cannot_change_once_serials_were_issued(
    db: Database, plant: dict[str, str]
) -> None:
    allocate(db)
    with pytest.raises(Conflict) as err:
        db.write(
            lambda s: devices.set_gs1_site(
                s, Gs1SiteIn(site="KW1", company_prefix="4099999", extension_digit=0)
            )
        )
    assert err.value.field == "company_prefix"


def test_concurrent_allocations_never_reuse_a_serial(db: Database, plant: dict[str, str]) -> None:
    def run(_: int) -> list[str]:
        return [allocate(db) for _ in range(10)]

    with ThreadPoolExecutor(4) as pool:
        got = [s for batch in pool.map(run, range(4)) for s in batch]
    assert len(got) == len(set(got)) == 40
    assert sorted(int(s[8:17]) for s in got) == list(range(1, 41))


def test_receive_labels_a_new_container_with_an_sscc(client: TestClient, db: Database) -> None:
    body = {
        "receive": {
            "location": "DOCK-IN",
            "lines": [{"item": "CONN-M8-4F", "lot": {"code": "CM-1"}, "quantity": "200"}],
        }
    }
    k = key()
    headers = {**token(db, "clerk"), "Idempotency-Key": k}
    r = client.post(f"{API}/devices/receive", json=body, headers=headers)
    assert r.status_code == 201, r.text
    sscc = r.json()["containers"][0]
    assert gs1.is_valid_key(sscc) and sscc.startswith("04012345")
    view = db.read(lambda s: ledger_queries.container(s, sscc))
    assert view.location == "DOCK-IN" and view.contents[0].quantity == 200
    again = client.post(f"{API}/devices/receive", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["containers"] == [sscc]
    assert again.headers["Idempotent-Replayed"] == "true"


def _resolve(client: TestClient, db: Database, data: str) -> dict[str, object]:
    r = client.post(
        f"{API}/devices/scan/resolve", json={"data": data}, headers=token(db, "operator")
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_scans_resolve_to_what_they_name(client: TestClient, db: Database) -> None:
    sscc = allocate(db)
    receive(db, sscc, "CONN-M8-4F", "40", "A-01", lot="JOB-4711")
    receive(db, "T-1", "TERM-JST", "500", "A-02")
    raw = "]C100" + sscc + "0204012345000016" + "3740" + GS + "10JOB-4711"
    cont = _resolve(client, db, raw)
    assert (cont["kind"], cont["code"], cont["form"]) == ("container", sscc, "gs1-128")
    assert cont["container"]["location"] == "A-01"  # type: ignore[index]
    assert cont["item"]["code"] == "CONN-M8-4F" and cont["item"]["quantity"] == "40"  # type: ignore[index]
    dm = _resolve(client, db, "]d2" + "0104012345000016" + "17261231" + "10LOT-88123")
    assert dm["kind"] == "item"
    assert dm["item"]["lot"] == "LOT-88123" and dm["item"]["expiry_date"] == "2026-12-31"  # type: ignore[index]
    link = _resolve(client, db, f"https://id.gs1.org/00/{sscc}")
    assert (link["kind"], link["code"]) == ("container", sscc)
    loc = _resolve(client, db, "(414)4012345000009(254)A-02")
    assert (loc["kind"], loc["code"]) == ("location", "A-02")
    assert _resolve(client, db, "B1001")["person"]["name"] == "Anna Berg"  # type: ignore[index]
    assert _resolve(client, db, "T-1")["kind"] == "container"
    assert _resolve(client, db, "]C0A-03")["kind"] == "location"
    assert _resolve(client, db, "L:A-01")["kind"] == "location"
    assert _resolve(client, db, "CUT-1")["kind"] == "workstation"
    assert _resolve(client, db, "NOTHING-HERE")["kind"] == "unknown"


def test_a_job_step_code_names_the_job(client: TestClient, db: Database) -> None:
    r = client.post(
        f"{API}/production/work-orders",
        json={"item": "LEAD-RD-300", "quantity": "10", "due_date": "2026-12-01", "release": True},
        headers={**token(db, "planner"), "Idempotency-Key": key()},
    )
    number = r.json()["work_order"]
    job = _resolve(client, db, f"{number}/10")
    assert job["kind"] == "job"
    assert job["job"] == {  # type: ignore[comparator-overlap]
        "work_order": number,
        "status": "released",
        "step": 10,
        "step_status": "ready",
        "operation": "cut",
    }


def test_bad_scans_are_clear_errors_and_need_a_signed_in_caller(
    client: TestClient, db: Database
) -> None:
    cases = [
        ("]C100040123450000001113", 422),  # wrong SSCC check digit
        ("(01)04012345000092", 404),  # a valid GTIN no item has
        ("(414)4012345000016(254)A-01", 404),  # a GLN no site has
        ("", 422),
    ]
    headers = token(db, "clerk")
    for data, status in cases:
        r = client.post(f"{API}/devices/scan/resolve", json={"data": data}, headers=headers)
        assert r.status_code == status, (data, r.text)
        assert r.json()["field"] == "data"
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.post(f"{API}/devices/scan/resolve", json={"data": "B1001"}).status_code == 401
