"""Who is calling, remembered for a second: authentication that costs microseconds on a hit.

Every request names its caller by a bearer token or a session cookie. Looking either up is a
database round trip; remembering the answer in this process, keyed by the secret's SHA-256
digest, makes a hit a dictionary lookup. Two rules keep it safe:

- In this process, a change to who may do what (a token revoked, a user disabled or given other
  roles, a password changed, a sign-out) empties the cache at once and again when its
  transaction commits, and an answer read from the store while such a change was under way is
  not kept: revocation is immediate.
- Another process (`isom serve --workers N`, or `isom tokens revoke` beside a running server)
  cannot empty this cache: an entry lives at most `ISOM_AUTH_CACHE_SECONDS` (default 1 s, at
  most 1 s), so a change made elsewhere is in force everywhere within that bound.

Misses are not kept: a new token works from its first request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session

from isom.types import utcnow

if TYPE_CHECKING:
    from isom.auth.services import Principal
    from isom.db import Database

#: How long this process trusts what it read about a caller; the bound for other processes.
TTL_SECONDS = min(1.0, float(os.environ.get("ISOM_AUTH_CACHE_SECONDS", "1")))
_CHANGED = "isom.auth_changed"

#: The caller, and when its session expires (None: a token, valid until revoked).
Entry = tuple["Principal", dt.datetime | None]
#: One minute: how stale a token's `last_used_at` may get (one write a minute, not one a call).
TOUCH_EVERY = 60.0


class PrincipalCache:
    """A thread-safe TTL map from (store, kind, secret digest) to the caller and its expiry."""

    def __init__(self, ttl: float = TTL_SECONDS, timer: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._entries: TTLCache[tuple[str, str, str], Entry] = TTLCache(10_000, ttl, timer=timer)
        self.generation = 0

    def get(self, key: tuple[str, str, str]) -> Entry | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, str, str], entry: Entry, generation: int) -> None:
        """Keep `entry` unless the cache was emptied since it was read (`generation`)."""
        with self._lock:
            if generation == self.generation:
                self._entries[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.generation += 1


principals = PrincipalCache()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def changed(session: Session) -> None:
    """Say that this transaction changes who may do what: forget every caller now and on commit."""
    session.info[_CHANGED] = True
    principals.clear()


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        principals.clear()


@event.listens_for(Session, "after_rollback")
def _drop_mark(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def known(db: Database, kind: str, secret: str) -> Principal | None:
    """The caller named by `secret` if this process remembers it (no database round trip)."""
    hit = principals.get((db.url, kind, digest(secret)))
    if hit is not None:
        principal, expires_at = hit
        if expires_at is None or expires_at > utcnow():
            return principal
    return None


def remembered(
    db: Database, kind: str, secret: str, load: Callable[[Session, str], Entry | None]
) -> Principal | None:
    """The caller named by `secret`, from this process's memory or else read by `load`."""
    hit = known(db, kind, secret)
    if hit is not None:
        return hit
    generation = principals.generation
    found = db.read(lambda s: load(s, secret))
    if found is None:
        return None
    principals.put((db.url, kind, digest(secret)), found, generation)
    return found[0]


class TouchThrottle:
    """Which tokens this process recorded as used within the last minute (`last_used_at`)."""

    def __init__(self, every: float = TOUCH_EVERY, timer: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._last: TTLCache[str, bool] = TTLCache(100_000, every, timer=timer)

    def due(self, secret: str) -> bool:
        """True once a minute per token: this call should write `last_used_at`."""
        key = digest(secret)
        with self._lock:
            if key in self._last:
                return False
            self._last[key] = True
            return True


touches = TouchThrottle()
