"""Passwords, sessions and tokens: who is acting, and with which roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from isom.auth import cache
from isom.auth.models import ApiToken, Role, TokenSite, User, UserSite, WebSession
from isom.db import Database
from isom.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from isom.types import utcnow

_hasher = PasswordHasher()
SESSION_LIFETIME = dt.timedelta(hours=12)
#: How stale a token's `last_used_at` may get: one write a minute per token, not one per call.
TOKEN_TOUCH_EVERY = dt.timedelta(seconds=cache.TOUCH_EVERY)
TOKEN_PREFIX = "isom_"
ALL_ROLES = frozenset(r.value for r in Role)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user or an API token, with the roles in force."""

    name: str
    roles: frozenset[str]
    user_id: int | None = None
    token_id: int | None = None
    device: str | None = None
    csrf_token: str | None = field(default=None, compare=False)
    #: The site ids it acts in; empty: every site.
    sites: frozenset[int] = frozenset()

    def has_any(self, roles: frozenset[str]) -> bool:
        return Role.admin.value in self.roles or bool(self.roles & roles)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def validate_roles(roles: list[str], *, field: str = "roles") -> list[str]:
    """Refuse unknown role names, naming the ones we know."""
    unknown = sorted(set(roles) - ALL_ROLES)
    if unknown:
        raise InvalidInput(
            f"unknown role(s): {', '.join(unknown)}",
            field=field,
            expected=f"any of {', '.join(sorted(ALL_ROLES))}",
        )
    return sorted(set(roles))


def create_user(
    session: Session, *, username: str, password: str | None, roles: list[str], full_name: str = ""
) -> User:
    """Add a user; the password is hashed with argon2 and never stored in clear."""
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    if password is not None and len(password) < 8:
        raise InvalidInput("password too short", field="password", expected="at least 8 characters")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password) if password else None,
        roles=validate_roles(roles),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user whose password matches, or a 401 that does not say which part was wrong."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.password_hash:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        raise NotAuthenticated("wrong user name or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise NotAuthenticated("wrong user name or password") from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def has_password(session: Session, username: str, password: str) -> bool:
    """True when the active user `username` signs in with `password` (no failure is counted)."""
    try:
        authenticate(session, username, password)
    except NotAuthenticated:
        return False
    return True


def open_web_session(session: Session, user: User) -> tuple[str, WebSession]:
    """Start a browser session; returns the cookie secret (kept only as a hash)."""
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_sha256(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        expires_at=utcnow() + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return secret, row


def close_web_session(session: Session, secret: str) -> None:
    """Sign out: forget the session behind this cookie."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _sha256(secret)))
    if row is not None:
        cache.changed(session)
        session.delete(row)
        session.flush()


def session_principal(session: Session, secret: str) -> tuple[Principal, dt.datetime] | None:
    """The user behind a session cookie and when the session ends, if valid and unexpired."""
    found = session.execute(
        select(WebSession.csrf_token, WebSession.expires_at, User.id, User.username, User.roles)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == _sha256(secret), User.active.is_(True))
    ).first()
    if found is None or found.expires_at <= utcnow():
        return None
    principal = Principal(
        name=found.username,
        roles=frozenset(found.roles),
        user_id=found.id,
        csrf_token=found.csrf_token,
        sites=user_sites(session, found.id),
    )
    return principal, found.expires_at


def principal_from_cookie(session: Session, secret: str) -> Principal | None:
    """The user behind a session cookie, if it is valid and unexpired."""
    found = session_principal(session, secret)
    return None if found is None else found[0]


def principal_for_cookie(db: Database, secret: str) -> Principal | None:
    """`principal_from_cookie`, remembered for a second in this process (see `cache`)."""
    return cache.remembered(db, "cookie", secret, session_principal)


def create_api_token(
    session: Session, *, name: str, roles: list[str], user_id: int | None = None
) -> tuple[str, ApiToken]:
    """Issue a bearer token; the clear text is returned once and stored only as a hash."""
    if session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} already exists", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_sha256(secret),
        roles=validate_roles(roles),
        user_id=user_id,
    )
    session.add(token)
    session.flush()
    return secret, token


def revoke_api_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token at once; its holder gets 401 from the next request on."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token with id {token_id}", field="token_id")
    if token.revoked_at is None:
        cache.changed(session)
        token.revoked_at = utcnow()
        session.flush()
    return token


def device_of(token_name: str) -> str:
    """The device a device-role token speaks for, recorded on every event it makes.

    A registered device's token is named `device:<code>` (`device:<code>:<issued>` after a
    rotation): it speaks for `<code>`. Any other device token speaks for its own name.
    """
    if token_name.startswith("device:"):
        return token_name.split(":", 2)[1] or token_name
    return token_name


def principal_from_token(session: Session, secret: str) -> Principal | None:
    """The holder of a bearer token, if it exists, is not revoked and its user (if it has one)
    is active."""
    token = session.execute(
        select(ApiToken.id, ApiToken.name, ApiToken.roles, ApiToken.user_id)
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == _sha256(secret),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.user_id.is_(None), User.active.is_(True)),
        )
    ).first()
    if token is None:
        return None
    sites = token_sites(session, token.id)
    if not sites and token.user_id is not None:
        sites = user_sites(session, token.user_id)
    return Principal(
        name=f"token:{token.name}",
        roles=frozenset(token.roles),
        user_id=token.user_id,
        token_id=token.id,
        device=device_of(token.name) if Role.device.value in token.roles else None,
        sites=sites,
    )


def user_sites(session: Session, user_id: int) -> frozenset[int]:
    """The site ids a user holds (empty: every site)."""
    return frozenset(session.scalars(select(UserSite.site_id).where(UserSite.user_id == user_id)))


def token_sites(session: Session, token_id: int) -> frozenset[int]:
    """The site ids granted to a token itself (empty: its user's sites, else every site)."""
    return frozenset(
        session.scalars(select(TokenSite.site_id).where(TokenSite.token_id == token_id))
    )


def _token_entry(session: Session, secret: str) -> tuple[Principal, None] | None:
    principal = principal_from_token(session, secret)
    return None if principal is None else (principal, None)


def principal_for_token(db: Database, secret: str) -> Principal | None:
    """`principal_from_token`, remembered for a second in this process (see `cache`)."""
    return cache.remembered(db, "token", secret, _token_entry)


def touch_token(session: Session, token_id: int) -> None:
    """Record that a token was used now, unless another request did so within the minute."""
    now = utcnow()
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - TOKEN_TOUCH_EVERY,
            ),
        )
        .values(last_used_at=now)
    )


def get_user(session: Session, username: str) -> User:
    """The user with this name, or a 404 naming it."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def _close_sessions_of(session: Session, user_id: int) -> None:
    for row in session.scalars(select(WebSession).where(WebSession.user_id == user_id)):
        session.delete(row)
    session.flush()


def update_user(
    session: Session,
    username: str,
    *,
    roles: list[str] | None = None,
    active: bool | None = None,
    password: str | None = None,
    full_name: str | None = None,
) -> User:
    """Change roles, active flag, password or name; deactivating or a new password signs out."""
    user = get_user(session, username)
    cache.changed(session)  # roles, the active flag or the password: callers are read again
    was_admin = user.active and Role.admin.value in user.roles
    sign_out = False
    if roles is not None:
        user.roles = validate_roles(roles)
    if full_name is not None:
        user.full_name = full_name
    if password is not None:
        if len(password) < 8:
            raise InvalidInput(
                "password too short", field="password", expected="at least 8 characters"
            )
        user.password_hash = hash_password(password)
        sign_out = True
    if active is not None:
        sign_out = sign_out or (user.active and not active)
        user.active = active
    session.flush()
    still_admin = user.active and Role.admin.value in user.roles
    if (
        was_admin
        and not still_admin
        and not any(u.active and Role.admin.value in u.roles for u in list_users(session))
    ):
        raise Conflict(
            "this change would leave no active administrator",
            field="username",
            expected="keep at least one active user with the admin role",
        )
    if sign_out:
        _close_sessions_of(session, user.id)
    return user


def list_api_tokens(session: Session, *, include_revoked: bool = True) -> list[ApiToken]:
    """The API tokens, newest first (hashes only; the clear text is never kept)."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))
