"""`isom devices ...` on the test store, and the device/printer/GS1 settings endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from isom.db import Database
from isom.devices import cli as devices_cli
from isom.web.app import create_app
from tests.builders import token
from tests.devices.support import API, receive


@pytest.fixture
def runner(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(devices_cli, "_open_db", lambda: db)
    return CliRunner()


@pytest.fixture
def client(db: Database, plant: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as c:
        yield c


def test_resolve_and_label_from_the_command_line(
    db: Database, plant: dict[str, str], runner: CliRunner, tmp_path: Path
) -> None:
    receive(db, "T-7", "TERM-JST", "10", "A-01")
    r = runner.invoke(devices_cli.app, ["resolve", r"]C191T-7\x1d"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["code"] == "T-7"
    bad = runner.invoke(devices_cli.app, ["resolve", "(00)040123450000001113"])
    assert bad.exit_code == 1 and "check digit" in bad.output
    out = tmp_path / "t7.zpl"
    r = runner.invoke(devices_cli.app, ["label", "container", "T-7", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "^FD(91)T-7^FS" in out.read_text()


def test_devices_printers_and_gs1_settings_over_http(client: TestClient, db: Database) -> None:
    admin = token(db, "admin")
    r = client.post(
        f"{API}/devices",
        json={"code": "SCALE-9", "kind": "scale", "site": "KW1", "location": "A-01"},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["token"].startswith("isom_")
    listed = client.get(f"{API}/devices", headers=token(db, "clerk")).json()
    assert {"SCALE-9", "CTRL-CUT-1"} <= {d["code"] for d in listed}
    assert all(d["token"] is None for d in listed)  # shown once, never again
    again = client.post(
        f"{API}/devices", json={"code": "SCALE-9", "kind": "scale", "site": "KW1"}, headers=admin
    )
    assert again.status_code == 409
    controller = client.post(
        f"{API}/devices", json={"code": "C-X", "kind": "controller", "site": "KW1"}, headers=admin
    )
    assert controller.status_code == 422 and controller.json()["field"] == "workstation"
    gln = client.put(
        f"{API}/devices/gs1-sites",
        json={"site": "KW1", "company_prefix": "4012345", "gln": "4012345000008"},
        headers=admin,
    )
    assert gln.status_code == 422 and gln.json()["expected"] == "4012345000009"
    short = client.put(
        f"{API}/devices/gs1-sites", json={"site": "KW1", "company_prefix": "123"}, headers=admin
    )
    assert short.status_code == 422 and short.json()["field"] == "company_prefix"
    assert (
        client.put(
            f"{API}/devices/gs1-sites",
            json={"site": "KW1", "company_prefix": "4012345"},
            headers=token(db, "clerk"),
        ).status_code
        == 403
    )
    zpl = client.put(f"{API}/devices/printers", json={"code": "Z", "kind": "zpl"}, headers=admin)
    assert zpl.status_code == 422 and zpl.json()["field"] == "host"
    printers = client.get(f"{API}/devices/printers", headers=token(db, "clerk")).json()
    assert [p["code"] for p in printers] == ["PDF", "ZEBRA-DOCK"]
    sscc = client.post(
        f"{API}/devices/sscc",
        json={"site": "KW1"},
        headers={**token(db, "clerk"), "Idempotency-Key": "k-1"},
    )
    assert sscc.status_code == 201
    assert sscc.json()["digital_link"] == f"https://id.gs1.org/00/{sscc.json()['sscc']}"
