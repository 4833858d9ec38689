"""The login throttle: too many wrong passwords for one user or from one address answer 429.

The failures live in the store (`auth_login_failure`), not in process memory, so several
server processes on one PostgreSQL count them together. A refused attempt is not verified and
not counted, so hammering a locked account neither costs a hash nor extends the lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from isom.auth.models import LoginFailure
from isom.errors import IsomError
from isom.types import utcnow

log = logging.getLogger("isom.auth")

WINDOW = dt.timedelta(minutes=15)
#: Wrong passwords within the window after which a user name is refused (whoever tries).
PER_USER = 10
#: Wrong passwords within the window after which an address is refused (whichever user).
PER_ADDRESS = 30


class TooManyAttempts(IsomError):
    """Too many wrong passwords lately: try again after `retry_after` seconds."""

    status_code = 429
    code = "too_many_attempts"
    title = "Too many sign-in attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(
            detail, expected=f"a new attempt in {retry_after} s", retry_after=retry_after
        )
        self.retry_after = retry_after


def _key(text: str) -> str:
    return text[:64]


def _wait(
    session: Session, column: InstrumentedAttribute[str], value: str, limit: int, now: dt.datetime
) -> int:
    """Seconds until fewer than `limit` failures match `value` in the window; 0 if already so."""
    recent = list(
        session.scalars(
            select(LoginFailure.at)
            .where(column == value, LoginFailure.at > now - WINDOW)
            .order_by(LoginFailure.at.desc())
            .limit(limit)
        )
    )
    if len(recent) < limit:
        return 0
    return max(1, math.ceil((recent[-1] + WINDOW - now).total_seconds()))


def check(session: Session, username: str, address: str) -> None:
    """Refuse with 429 while the user name or the address has too many recent failures."""
    now = utcnow()
    user_wait = _wait(session, LoginFailure.username, _key(username), PER_USER, now)
    address_wait = _wait(session, LoginFailure.address, _key(address), PER_ADDRESS, now)
    wait = max(user_wait, address_wait)
    if wait:
        log.warning(
            "sign-in refused for %r from %s: too many failures (retry in %d s)",
            username,
            address,
            wait,
        )
        what = "this user name" if user_wait >= address_wait else "this address"
        raise TooManyAttempts(
            f"too many wrong passwords for {what}; try again later", retry_after=wait
        )


def record_failure(session: Session, username: str, address: str) -> None:
    """Count a wrong password (and forget failures older than the window)."""
    now = utcnow()
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
    session.add(LoginFailure(username=_key(username), address=_key(address), at=now))
    session.flush()
    log.warning("sign-in failed for %r from %s", username, address)


def clear(session: Session, username: str) -> None:
    """A right password forgets the user's failures (not the address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == _key(username)))
