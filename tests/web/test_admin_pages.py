"""Master data and admin pages through the test client: what a supervisor and an admin see and do.

Every form goes through the same services as the API: a refused form shows what is wrong beside
the field and saves nothing; a person without the role gets a 403 page; a form without the
session's csrf token is refused.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from isom.auth import services as auth_service
from isom.db import Database
from isom.masterdata import records
from isom.web.app import create_app
from tests.web.seed import PASSWORD, received_box, sign_in, user


def _item(db: Database, code: str) -> dict[str, object]:
    return db.read(lambda s: records.get_record(s, "items", code)).model_dump(mode="json")


def test_a_supervisor_searches_edits_and_is_told_what_is_wrong(
    db: Database, client: TestClient
) -> None:
    codes = received_box(db)
    user(db, "sam", "supervisor")
    csrf = sign_in(client, "sam")
    wire = codes["wire"]

    listing = client.get("/masterdata?kind=items&q=wir")
    assert listing.status_code == 200 and f">{wire}</a>" in listing.text
    assert "1 items" in listing.text
    assert "Admin" not in listing.text  # the menu shows a supervisor's screens only

    form = client.get(f"/masterdata/items/{wire}")
    assert form.status_code == 200 and 'name="standard_cost"' in form.text
    before = _item(db, wire)

    bad = client.post(
        "/masterdata/items",
        data={
            "csrf_token": csrf,
            "code": wire,
            "name": "Wire",
            "type": "raw",
            "base_unit": before["base_unit"],
            "standard_cost": "-1",
        },
    )
    assert bad.status_code == 422
    assert 'id="e-standard_cost"' in bad.text and "greater than or equal to 0" in bad.text
    assert _item(db, wire) == before  # nothing saved

    good = client.post(
        "/masterdata/items",
        data={
            "csrf_token": csrf,
            "code": wire,
            "name": "Wire 0.5 mm² red",
            "type": "raw",
            "base_unit": before["base_unit"],
            "standard_cost": "0.12",
            "active": "on",
        },
    )
    assert good.status_code == 303 and good.headers["location"].endswith("?saved=1")
    after = _item(db, wire)
    assert (after["name"], after["standard_cost"]) == ("Wire 0.5 mm² red", "0.12")

    stale = client.post(
        "/masterdata/items",
        data={
            "csrf_token": "forged",
            "code": wire,
            "name": "Hijacked",
            "type": "raw",
            "base_unit": before["base_unit"],
        },
    )
    assert stale.status_code == 403 and _item(db, wire)["name"] == "Wire 0.5 mm² red"


def test_a_clerk_reads_master_data_but_may_not_change_it(db: Database, client: TestClient) -> None:
    codes = received_box(db)
    user(db, "clara", "clerk")
    csrf = sign_in(client, "clara")

    page = client.get(f"/masterdata/items/{codes['wire']}")
    assert page.status_code == 200 and 'name="standard_cost"' not in page.text
    refused = client.post(
        "/masterdata/items", data={"csrf_token": csrf, "code": codes["wire"], "name": "x"}
    )
    assert refused.status_code == 403 and "may not change items" in refused.text
    assert client.get("/admin").status_code == 403


def test_an_import_with_a_bad_row_lists_it_and_loads_nothing(
    db: Database, client: TestClient
) -> None:
    received_box(db)
    user(db, "sam", "supervisor")
    csrf = sign_in(client, "sam")
    csv = "code,name,kind,parent\nZ-01,Site 9,site,\nZ-02,Zone 2,nowhere,Z-01\n"

    bad = client.post(
        "/masterdata-import",
        data={"csrf_token": csrf, "kind": "locations"},
        files={"file": ("locations.csv", csv, "text/csv")},
    )
    assert bad.status_code == 422
    assert "nothing was imported" in bad.text and "<td>kind</td>" in bad.text
    assert db.read(lambda s: records.list_records(s, "locations", q="Z-0"))[1] == 0

    good = client.post(
        "/masterdata-import",
        data={"csrf_token": csrf, "kind": "locations"},
        files={"file": ("locations.csv", csv.replace("nowhere", "zone"), "text/csv")},
    )
    assert good.status_code == 200 and "Imported 2 locations: 2 new, 0 updated" in good.text


def test_an_admin_adds_a_user_changes_roles_and_issues_and_revokes_a_token(
    db: Database, client: TestClient
) -> None:
    user(db, "ada", "admin")
    csrf = sign_in(client, "ada")

    made = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "action": "create",
            "username": "otto",
            "full_name": "Otto Operator",
            "password": PASSWORD,
            "roles": ["operator"],
        },
    )
    assert made.status_code == 303
    short = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "action": "create",
            "username": "tim",
            "password": "short",
            "roles": ["clerk"],
        },
    )
    assert short.status_code == 422 and "password too short" in short.text
    changed = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "otto",
            "roles": ["operator", "supervisor"],
            "active": "on",
        },
    )
    assert changed.status_code == 303
    otto = db.read(
        lambda s: (lambda u: (sorted(u.roles), u.active))(auth_service.get_user(s, "otto"))
    )
    assert otto == (["operator", "supervisor"], True)
    assert db.read(lambda s: [u.username for u in auth_service.list_users(s)]) == ["ada", "otto"]

    last_admin = client.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "ada", "roles": ["clerk"], "active": "on"},
    )
    assert last_admin.status_code == 409 and "no active administrator" in last_admin.text

    issued = client.post(
        "/admin/tokens", data={"csrf_token": csrf, "name": "erp-sap", "roles": ["integrator"]}
    )
    assert issued.status_code == 200
    secret = re.search(r'id="new-secret">([^<]+)<', issued.text)
    assert secret is not None
    api = TestClient(create_app(db))
    auth = {"Authorization": f"Bearer {secret.group(1)}"}
    assert api.get("/api/v1/auth/me", headers=auth).status_code == 200
    assert secret.group(1) not in client.get("/admin").text  # shown once, never again

    token_id = db.read(lambda s: auth_service.list_api_tokens(s)[0].id)
    revoked = client.post(
        "/admin/tokens", data={"csrf_token": csrf, "action": "revoke", "token_id": str(token_id)}
    )
    assert revoked.status_code == 303
    assert api.get("/api/v1/auth/me", headers=auth).status_code == 401
