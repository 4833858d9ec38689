"""One way a status changes: each kind of record has a transition table, and every change of its
status is checked against it here, so a move the table does not allow is refused loudly (409
`invalid_transition`) and the statuses it could have come from are named in the answer."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from isom.errors import InvalidTransition

S = TypeVar("S", bound=enum.Enum)


def allowed_before(table: Mapping[S, frozenset[S]], to: S) -> str:
    """The statuses from which `to` may be reached, for an error message."""
    return " or ".join(sorted(str(k.value) for k, v in table.items() if to in v)) or "nothing"


def check_transition(
    table: Mapping[S, frozenset[S]], now: S, to: S, *, what: str, kind: str, field: str
) -> None:
    """Refuse moving `what` (a `kind`, e.g. "work order W-1") from `now` to `to` unless the
    table allows it."""
    if to not in table[now]:
        raise InvalidTransition(
            f"{what} is {now.value}; it cannot become {to.value}",
            field=field,
            expected=f"a {kind} that is {allowed_before(table, to)}",
        )
