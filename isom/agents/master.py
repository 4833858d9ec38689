"""Master data an agent run reads again and again, read once per run.

A run is several units of work (one per agent step) that all read the same routes, item
codes, units, supplier offers and price breaks; none of them writes master data. The runner
hands every step of a run the same cache (`share`); an agent called on its own gets one for
its unit of work. The rows are read with their relationships loaded, so they serve the later
steps after their own session has closed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.masterdata.models import Item, Route, Supplier, SupplierItem, Unit
from isom.planning import sources

KEY = "isom.agents.master"
T = TypeVar("T")


def share(session: Session, cache: dict[str, Any]) -> None:
    """Let this unit of work use (and fill) a run's cache."""
    session.info[KEY] = cache


def _cached(session: Session, name: str, read: Callable[[], T]) -> T:
    cache: dict[str, Any] = session.info.setdefault(KEY, {})
    if name not in cache:
        cache[name] = read()
    value: T = cache[name]
    return value


def routes(session: Session) -> dict[int, Route]:
    """The newest active route of each made item, steps and BOMs loaded."""
    return _cached(session, "routes", lambda: sources.routes_by_item(session))


def codes(session: Session) -> dict[int, str]:
    """Item codes by id."""
    return _cached(session, "codes", lambda: sources.item_codes(session))


def offers(session: Session) -> dict[int, list[SupplierItem]]:
    """What each item can be bought from, preferred supplier first."""
    return _cached(session, "offers", lambda: sources.supplier_items(session))


def places(session: Session) -> dict[int, int]:
    """Each item's unit precision (decimal places), every item in one read."""
    return _cached(
        session,
        "places",
        lambda: {
            i: int(n)
            for i, n in session.execute(
                select(Item.id, Unit.decimals).join(Unit, Unit.id == Item.base_unit_id)
            )
        },
    )


def price_breaks(session: Session) -> dict[int, list[tuple[Decimal, Decimal]]]:
    """Each supplier offer's price breaks (from quantity, price), all in one read."""
    return _cached(session, "breaks", lambda: sources.price_breaks(session))


def suppliers(session: Session) -> dict[int, str]:
    """Supplier codes by id."""
    return _cached(
        session,
        "suppliers",
        lambda: {i: c for i, c in session.execute(select(Supplier.id, Supplier.code))},
    )
