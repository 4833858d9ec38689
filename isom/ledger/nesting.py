"""Container trees: what is nested in what, walked with recursive queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from isom.ledger.models import Container


def _subtree_select() -> Select[Any]:
    tree = (
        select(Container.id).where(Container.id == bindparam("root_id")).cte("tree", recursive=True)
    )
    tree = tree.union_all(select(Container.id).where(Container.parent_id == tree.c.id))
    return select(tree.c.id)


#: The ids of a container (`root_id`) and everything nested in it, at any depth; built once.
SUBTREE = _subtree_select()


def subtree_ids(session: Session, root_id: int) -> list[int]:
    """The container and everything nested in it, at any depth, in ascending id order."""
    return sorted(int(i) for i in session.scalars(SUBTREE, {"root_id": root_id}))


def ancestor_ids(session: Session, container_id: int) -> list[int]:
    """The chain of parents above a container, nearest first."""
    chain: list[int] = []
    current = session.get(Container, container_id)
    while current is not None and current.parent_id is not None:
        if current.parent_id in chain:  # pragma: no cover - guarded by the cycle check on nest
            break
        chain.append(current.parent_id)
        current = session.get(Container, current.parent_id)
    return chain
