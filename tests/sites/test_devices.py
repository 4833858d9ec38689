"""A device acts only in its own site: a plant scanner that reads a DC label moves nothing, and
a DC scanner moves the DC's containers as before."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.db import Database
from isom.devices import services as devices
from isom.devices.models import DeviceKind
from isom.devices.schemas import DeviceIn
from isom.ledger.models import Container
from isom.masterdata.models import Location
from tests.sites.support import DC, PLANT, Sites, state

API = "/api/v1"


def _scanner(db: Database, code: str, site: str) -> dict[str, str]:
    """A handheld scanner registered at `site`: the headers it sends with."""
    out = db.write(
        lambda s: devices.register_device(
            s, DeviceIn(code=code, kind=DeviceKind.scanner, site=site)
        )
    )
    assert out.token is not None
    return {"Authorization": f"Bearer {out.token}"}


def _another_bin(db: Database, container: str) -> str:
    """A bin of the container's site other than the one it stands in."""

    def read(s: Session) -> str:
        here = s.scalar(select(Container.location_id).where(Container.code == container))
        site = s.scalar(select(Container.site_id).where(Container.code == container))
        found = s.scalar(
            select(Location.code)
            .where(Location.site_id == site, Location.kind == "bin", Location.id != here)
            .order_by(Location.code)
            .limit(1)
        )
        assert found is not None
        return found

    return db.read(read)


def _move(client: TestClient, headers: dict[str, str], device: str, container: str, to: str) -> Any:
    body = {
        "device": device,
        "kind": "scan",
        "eventID": str(uuid.uuid4()),
        "action": "move",
        "codes": [container, to],
    }
    return client.post(f"{API}/devices/events", json=body, headers=headers)


def test_a_plant_scanner_cannot_move_a_dc_container(
    client: TestClient, migrated_db: Database, sites: Sites
) -> None:
    scanner = f"SCN-PLANT-{uuid.uuid4().hex[:6]}"
    headers = _scanner(migrated_db, scanner, PLANT)
    before = state(migrated_db)
    dc_container = sites.objects[DC]["container"]
    plant_bin = sites.objects[PLANT]["location"]
    r = _move(client, headers, scanner, dc_container, plant_bin)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert dc_container in r.json()["detail"]
    assert state(migrated_db) == before


def test_a_dc_scanner_moves_a_dc_container_within_the_dc(
    client: TestClient, migrated_db: Database, sites: Sites
) -> None:
    scanner = f"SCN-DC-{uuid.uuid4().hex[:6]}"
    headers = _scanner(migrated_db, scanner, DC)
    dc_container = sites.objects[DC]["container"]
    dc_bin = _another_bin(migrated_db, dc_container)
    r = _move(client, headers, scanner, dc_container, dc_bin)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted"
    shown = client.get(f"{API}/containers/{dc_container}", headers=sites.callers["dc-clerk"])
    assert shown.json()["location"] == dc_bin
