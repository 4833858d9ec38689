"""What the auth API accepts and answers: logins, users and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from isom.auth.models import ApiToken, Role, User

Username = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._@\-]*$",
        description="Letters, digits, '.', '_', '@', '-'.",
    ),
]
Password = Annotated[str, Field(min_length=8, max_length=200, description="At least 8 characters.")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    """A user name and password; a wrong one of either answers the same 401."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    """Who is signed in, with which roles, and the csrf token cookie-authenticated writes send."""

    name: str
    roles: list[str]
    user_id: int | None
    token_id: int | None
    csrf_token: str | None = Field(
        default=None, description="Send it as `X-CSRF-Token` on writes made with the cookie."
    )


class UserIn(_In):
    """A new user."""

    username: Username
    password: Password | None = Field(
        default=None, description="Leave out for an account that cannot sign in with a password."
    )
    roles: list[Role] = Field(min_length=1)
    full_name: str = Field(default="", max_length=200)


class UserPatch(_In):
    """Changes to a user; absent fields are left as they are."""

    roles: list[Role] | None = None
    active: bool | None = None
    password: Password | None = None
    full_name: str | None = Field(default=None, max_length=200)


class UserOut(BaseModel):
    """A user as the API shows it: never the password hash."""

    username: str
    full_name: str
    roles: list[str]
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The public view of a user row."""
        return cls(
            username=user.username,
            full_name=user.full_name,
            roles=list(user.roles),
            active=user.active,
            created_at=user.created_at,
        )


class TokenIn(_In):
    """A new API token for a device, the ERP or a script."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@\-]*$")
    roles: list[Role] = Field(min_length=1)


class TokenOut(BaseModel):
    """An API token as listed: its prefix helps recognise it, the secret is never shown again."""

    id: int
    name: str
    prefix: str
    roles: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        """The public view of a token row."""
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            roles=list(token.roles),
            created_at=token.created_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )


class TokenCreated(TokenOut):
    """A token just issued: `token` is the clear secret, shown this once only."""

    token: str = Field(description="Send as 'Authorization: Bearer <token>'. Shown only once.")
