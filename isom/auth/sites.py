"""Sites apart: which sites the caller of this request holds, checked where objects are loaded.

A person or API token holds one or more sites, or none, meaning every site (see
`docs/design/auth.md`). Authentication enters the caller's sites for the rest of the request
(`acting_in`, a context variable: the request's thread and its reactions see it, other requests
and background workers do not). Every domain's shared loading step for a container, location or
order calls `check`: an object of a site the caller does not hold answers 404, exactly as if it
did not exist, so nothing leaks and nothing changes. Lists add `within(column)` to their query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import ColumnElement, column, select, table, true
from sqlalchemy.orm import Session

from isom.errors import NotFound

#: Master data's locations, read here by name only (auth sits below master data).
_LOCATION = table("md_location", column("id"), column("kind"), column("code"))

#: The site ids the caller holds; None: every site (no caller restricted to sites is acting).
_HELD: ContextVar[frozenset[int] | None] = ContextVar("isom_sites_held", default=None)


def held() -> frozenset[int] | None:
    """The sites the caller of this request holds, or None when it spans every site."""
    return _HELD.get()


def enter(sites: Iterable[int] | None) -> None:
    """From now on in this request, act only in `sites` (None or empty: every site)."""
    chosen = frozenset(sites or ())
    _HELD.set(chosen or None)


@contextmanager
def acting_in(sites: Iterable[int] | None) -> Iterator[None]:
    """Act only in `sites` within the block (a script or demo loader speaking for one site)."""
    chosen = frozenset(sites or ())
    token = _HELD.set(chosen or None)
    try:
        yield
    finally:
        _HELD.reset(token)


def allows(site_id: int | None) -> bool:
    """Whether the caller may see an object of `site_id` (one without a site: only a caller
    spanning every site)."""
    sites = _HELD.get()
    return sites is None or site_id in sites


def check(site_id: int | None, what: str, code: str, *, field: str) -> None:
    """404 when the object is of a site the caller does not hold: it does not exist for them."""
    if not allows(site_id):
        raise NotFound(f"no {what} {code!r}", field=field, expected=f"an existing {what}")


def within(column: Any) -> ColumnElement[bool]:
    """A filter for a list query: rows whose `column` (a site id) the caller holds."""
    sites = _HELD.get()
    if sites is None:
        return true()
    return column.in_(sorted(sites))  # type: ignore[no-any-return]


#: The home site: the first one.
_HOME = select(_LOCATION.c.id).where(_LOCATION.c.kind == "site").order_by(_LOCATION.c.id).limit(1)


def home_site(session: Session) -> int | None:
    """The site a new order belongs to when nothing names one: the caller's only site, else
    the first site (the installation's home)."""
    sites = _HELD.get()
    if sites is not None and len(sites) == 1:
        return next(iter(sites))
    return session.scalar(_HOME)


def new_order_site(context: Any) -> int | None:
    """The column default of a new order's site (`home_site`, in the insert's connection)."""
    sites = _HELD.get()
    if sites is not None and len(sites) == 1:
        return next(iter(sites))
    found = context.connection.scalar(_HOME)
    return None if found is None else int(found)
