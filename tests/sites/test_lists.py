"""Lists show only the caller's sites: inventory, customer, purchase and ship orders, the WIP
board, the feed and the EPCIS query; an administrator's show both sites."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import grants
from isom.db import Database
from isom.ledger.models import Container
from isom.masterdata.models import Location
from isom.orders.models import CustomerOrder, PurchaseOrder, ShipOrder
from tests.sites.support import DC, PLANT, Sites, screens

API = "/api/v1"


def _site_of_locations(db: Database) -> dict[str, str]:
    def read(s: Session) -> dict[str, str]:
        sites = {sid: code for sid, code in s.execute(select(Location.id, Location.code))}
        return {
            code: sites[sid] for code, sid in s.execute(select(Location.code, Location.site_id))
        }

    return db.read(read)


def _numbers(db: Database, model: Any, site: str) -> set[str]:
    def read(s: Session) -> set[str]:
        sid = grants.site_id(s, site)
        return set(s.scalars(select(model.number).where(model.site_id == sid)))

    return db.read(read)


@pytest.mark.parametrize(("who", "site"), [("plant-clerk", PLANT), ("dc-clerk", DC)])
def test_inventory_shows_only_the_callers_site(
    client: TestClient, migrated_db: Database, sites: Sites, who: str, site: str
) -> None:
    r = client.get(f"{API}/inventory", params={"limit": 5000}, headers=sites.callers[who])
    assert r.status_code == 200, r.text
    site_of = _site_of_locations(migrated_db)
    shown = {site_of[row["location"]] for row in r.json()["rows"]}
    assert shown == {site}

    everything = client.get(
        f"{API}/inventory", params={"limit": 5000}, headers=sites.callers["admin"]
    ).json()["rows"]
    assert {site_of[row["location"]] for row in everything} == {PLANT, DC}
    mine = [row for row in everything if site_of[row["location"]] == site]
    assert len(r.json()["rows"]) == len(mine)


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/orders/customer-orders", CustomerOrder),
        ("/orders/purchase-orders", PurchaseOrder),
        ("/orders/ship-orders", ShipOrder),
    ],
)
@pytest.mark.parametrize(("who", "site"), [("plant-broad", PLANT), ("dc-broad", DC)])
def test_order_lists_show_only_the_callers_site(
    client: TestClient,
    migrated_db: Database,
    sites: Sites,
    path: str,
    model: Any,
    who: str,
    site: str,
) -> None:
    r = client.get(API + path, params={"limit": 500}, headers=sites.callers[who])
    assert r.status_code == 200, r.text
    shown = {o["number"] for o in r.json()}
    assert shown == _numbers(migrated_db, model, site)
    assert shown  # each site has some

    both = client.get(API + path, params={"limit": 500}, headers=sites.callers["admin"]).json()
    assert {o["number"] for o in both} == _numbers(migrated_db, model, PLANT) | _numbers(
        migrated_db, model, DC
    )


def test_the_container_page_of_the_other_site_is_not_found(
    client: TestClient, sites: Sites
) -> None:
    dc_box = sites.objects[DC]["container"]
    assert client.get(f"/containers/{dc_box}", headers=sites.callers["dc-clerk"]).status_code == 200
    assert (
        client.get(f"/containers/{dc_box}", headers=sites.callers["plant-clerk"]).status_code == 404
    )


def test_the_epcis_query_and_the_feed_name_the_site_and_keep_to_the_callers(
    client: TestClient, migrated_db: Database, sites: Sites
) -> None:
    def events(who: str) -> list[dict[str, Any]]:
        r = client.get(f"{API}/epcis/events", params={"perPage": 500}, headers=sites.callers[who])
        assert r.status_code == 200, r.text
        found: list[dict[str, Any]] = r.json()["epcisBody"]["queryResults"]["resultsBody"][
            "eventList"
        ]
        return found

    assert {e["isom:site"] for e in events("admin")} == {PLANT, DC}
    assert {e["isom:site"] for e in events("dc-broad")} == {DC}
    assert {e["isom:site"] for e in events("plant-broad")} == {PLANT}

    feed = client.get(f"{API}/feed", params={"limit": 1000}, headers=sites.callers["admin"])
    assert feed.status_code == 200, feed.text
    ledger_messages = [m for m in feed.json()["messages"] if m["event_id"] is not None]
    assert {m["site"] for m in ledger_messages} == {PLANT, DC}
    dc_only = client.get(f"{API}/feed", params={"limit": 1000}, headers=sites.callers["dc-broad"])
    assert {m["site"] for m in dc_only.json()["messages"]} == {DC}


def test_a_dc_container_stays_the_dcs_and_the_plants_the_plants(
    migrated_db: Database, sites: Sites
) -> None:
    """The objects the route tests use are really of the site they stand for."""

    def site_of(s: Session, code: str) -> str | None:
        sid = s.scalar(select(Container.site_id).where(Container.code == code))
        return s.scalar(select(Location.code).where(Location.id == sid))

    for site in (PLANT, DC):
        assert (
            migrated_db.read(lambda s, site=site: site_of(s, sites.objects[site]["container"]))
            == site
        )


@pytest.mark.parametrize("who", ["plant-broad", "dc-broad", "plant-clerk", "dc-clerk"])
@pytest.mark.parametrize("path", screens())
def test_every_screen_opens_for_a_caller_of_one_site(
    client: TestClient, sites: Sites, path: str, who: str
) -> None:
    """A screen lists only the caller's site: it never trips over the other site's objects."""
    r = client.get(path, headers=sites.callers[who])
    assert r.status_code in (200, 303, 403), f"{who} GET {path}: {r.status_code} {r.text[:300]}"
