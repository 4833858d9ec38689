"""Views of stored rows: a response schema filled from an ORM row's attributes of the same name.

Most views show a row's own columns as they are and change only a few fields (an id shown as
its code, a value the row does not hold); `view_of` reads the rest from the row, so a view
names just what differs.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

V = TypeVar("V", bound=BaseModel)


def view_of(view: type[V], row: object, **given: Any) -> V:
    """`view` of `row`: each field from `given` when there, else the row's attribute of that
    name (validated like any input)."""
    return view.model_validate(
        {name: given[name] if name in given else getattr(row, name) for name in view.model_fields}
    )
