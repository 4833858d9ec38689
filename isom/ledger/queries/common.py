"""What the ledger's reads share: two-column rows as a dict, and codes looked up by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def _pairs(rows: Any) -> dict[Any, Any]:
    """A two-column result as a dict from the first column to the second."""
    return {row[0]: row[1] for row in rows}


def _codes(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(
        (row[0], row[1])
        for row in session.execute(select(model.id, model.code).where(model.id.in_(ids)))
    )
