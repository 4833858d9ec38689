"""Single look-ups other domains need by code: a container's id, a lot, which lot codes exist.

They are the ledger's door for those reads, so no other domain queries the ledger's tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.ledger.models import Container, Lot


def container_id(session: Session, code: str) -> int | None:
    """The id of the container with `code`, if there is one."""
    found: int | None = session.scalar(select(Container.id).where(Container.code == code))
    return found


def find_lot(session: Session, item_id: int, code: str) -> Lot | None:
    """The lot `code` of an item, if it exists."""
    return session.scalar(select(Lot).where(Lot.item_id == item_id, Lot.code == code))


def lot_codes_in_use(session: Session, item_id: int, codes: Iterable[str]) -> list[str]:
    """Which of `codes` are already lots (or serials) of the item, sorted."""
    wanted = list(codes)
    return sorted(
        session.scalars(select(Lot.code).where(Lot.item_id == item_id, Lot.code.in_(wanted)))
    )
