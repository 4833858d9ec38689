"""One way a status changes: each kind of record has a transition table, and every change of its
status goes through `move` here, so a move the table does not allow is refused loudly (409
`invalid_transition`) and the statuses it could have come from are named in the answer.

Production's jobs and steps, orders' orders, lines, picks and reservations, the agents'
decisions and alerts, planning's runs and the distribution centre's waves and pallets all keep
their tables beside their models and move through here; nothing else assigns a `status`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from isom.errors import InvalidTransition

S = TypeVar("S", bound=enum.Enum | str)


def _name(status: enum.Enum | str) -> str:
    return str(status.value) if isinstance(status, enum.Enum) else status


def allowed_before(table: Mapping[S, frozenset[S]], to: S) -> str:
    """The statuses from which `to` may be reached, for an error message."""
    return " or ".join(sorted(_name(k) for k, v in table.items() if to in v)) or "nothing"


def check_transition(
    table: Mapping[S, frozenset[S]], now: S, to: S, *, what: str, kind: str, field: str
) -> None:
    """Refuse moving `what` (a `kind`, e.g. "work order W-1") from `now` to `to` unless the
    table allows it."""
    if to not in table[now]:
        raise InvalidTransition(
            f"{what} is {_name(now)}; it cannot become {_name(to)}",
            field=field,
            expected=f"a {kind} that is {allowed_before(table, to)}",
        )


def move(
    record: Any, table: Mapping[S, frozenset[S]], to: S, *, what: str, kind: str, field: str
) -> None:
    """Set `record.status` to `to` if the table allows the move from its status now: the one
    place a status is assigned."""
    check_transition(table, record.status, to, what=what, kind=kind, field=field)
    record.status = to
