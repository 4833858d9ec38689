"""Users, roles, web sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import JsonType, UtcDateTime, utcnow


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    planner = "planner"
    buyer = "buyer"
    clerk = "clerk"
    operator = "operator"
    accountant = "accountant"
    integrator = "integrator"
    device = "device"


class User(Base):
    """A person (or a device account) who signs in; the password is stored as an argon2 hash."""

    __tablename__ = "auth_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JsonType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebSession(Base):
    """A signed-in browser: the cookie carries a random secret, we keep only its hash."""

    __tablename__ = "auth_web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for a device or the ERP: stored hashed, scoped to roles, revocable."""

    __tablename__ = "auth_api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]] = mapped_column(JsonType, default=list)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class UserSite(Base):
    """A site a user works at; a user with none spans every site (see docs/design/auth.md)."""

    __tablename__ = "auth_user_site"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("md_location.id", ondelete="CASCADE"), primary_key=True
    )


class TokenSite(Base):
    """A site an API token acts in; a token with none acts in its user's sites, or in every
    site when it has no user or its user has none."""

    __tablename__ = "auth_api_token_site"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("auth_api_token.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("md_location.id", ondelete="CASCADE"), primary_key=True
    )


class LoginFailure(Base):
    """A wrong password, kept for the throttle's window: in the store, so every process sees it."""

    __tablename__ = "auth_login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True, default=utcnow)
