"""What the ledger's reads share: rows by Core, two-column rows as a dict, codes looked up by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def _rows(session: Session, query: Any, params: dict[str, Any]) -> Sequence[Any]:
    """The rows of a column query, run by Core on the session's connection: a read of plain
    columns needs none of the ORM's per-statement set-up (a third of the cost of a small one)."""
    return session.connection().execute(query, params).all()


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
