"""Small typed builders for test data, and helpers to call the API as a given role."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from isom.auth import services as auth_service
from isom.db import Database
from isom.masterdata.models import (
    Customer,
    Item,
    ItemType,
    Location,
    LocationKind,
    Supplier,
    Tracking,
    Unit,
)


def unit(s: Session, code: str = "ea", decimals: int = 0) -> Unit:
    u = Unit(code=code, name=code, decimals=decimals)
    s.add(u)
    s.flush()
    return u


def item(
    s: Session,
    code: str,
    base_unit: Unit,
    *,
    tracking: Tracking = Tracking.none,
    type: ItemType = ItemType.raw,
    standard_cost: Decimal = Decimal("1"),
    shelf_life_days: int | None = None,
) -> Item:
    it = Item(
        code=code,
        name=code.title(),
        type=type,
        base_unit_id=base_unit.id,
        tracking=tracking,
        standard_cost=standard_cost,
        shelf_life_days=shelf_life_days,
        attributes={},
    )
    s.add(it)
    s.flush()
    return it


def location(
    s: Session, code: str, kind: LocationKind = LocationKind.bin, parent: Location | None = None
) -> Location:
    loc = Location(
        code=code, name=code, kind=kind, parent_id=parent.id if parent else None, path=""
    )
    s.add(loc)
    s.flush()
    loc.site_id = parent.site_id if parent else loc.id
    loc.path = (parent.path if parent else "/") + f"{loc.id}/"
    s.flush()
    return loc


def plant(db: Database) -> dict[str, Any]:
    """A small plant: units m and ea, a lot-tracked wire, an untracked connector, bins, partners."""

    def build(s: Session) -> dict[str, Any]:
        m = unit(s, "m", 3)
        ea = unit(s, "ea", 0)
        site = location(s, "SITE", LocationKind.site)
        store = location(s, "STORE", LocationKind.area, site)
        out = {
            "wire": item(s, "WIRE", m, tracking=Tracking.lot, standard_cost=Decimal("0.12")),
            "conn": item(s, "CONN", ea, standard_cost=Decimal("0.5")),
            "cable": item(s, "CABLE", ea, tracking=Tracking.lot, type=ItemType.finished),
            "site": site,
            "store": store,
            "bin1": location(s, "BIN-1", LocationKind.bin, store),
            "bin2": location(s, "BIN-2", LocationKind.bin, store),
            "dock": location(s, "DOCK", LocationKind.dock, site),
        }
        s.add(Supplier(code="SUP", name="Wire Supplier"))
        s.add(Customer(code="CUS", name="A Customer"))
        s.flush()
        return {k: v.code for k, v in out.items()}

    return db.write(build)


def token(db: Database, *roles: str) -> dict[str, str]:
    """Authorization headers for a fresh API token holding `roles`."""
    secret, _ = db.write(
        lambda s: auth_service.create_api_token(
            s, name=f"t-{uuid.uuid4().hex[:8]}", roles=list(roles)
        )
    )
    return {"Authorization": f"Bearer {secret}"}


def key() -> str:
    """A fresh idempotency key."""
    return uuid.uuid4().hex


def poster(prefix: str) -> Callable[..., Any]:
    """`post(client, path, body, headers, idem=None)`: POST a command to `prefix/path` with an
    Idempotency-Key (a fresh one unless `idem` is given)."""

    def post(
        client: TestClient,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
        idem: str | None = None,
    ) -> Any:
        return client.post(
            f"{prefix}/{path}", json=body, headers={**headers, "Idempotency-Key": idem or key()}
        )

    return post
