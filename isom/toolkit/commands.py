"""Idempotent command endpoints: one way every domain exposes a write to HTTP.

Each command route takes a validated body, the `Idempotency-Key` header and a caller holding
one of its roles, runs the domain operation in one unit of work, and answers 201 for a new
change or 200 with `Idempotent-Replayed: true` for a replay of the same key and body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from isom.actors import Actor
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.toolkit.deps import get_db, idempotency_key, require_roles

PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON"},
    401: {"description": "Not signed in, or the token is unknown or revoked"},
    403: {"description": "The caller's role does not allow this"},
    404: {"description": "A code in the request names nothing"},
    409: {"description": "Not enough quantity, wrong state, or a reused idempotency key"},
    422: {"description": "Invalid input: the field and what was expected"},
}


class Replayable(Protocol):
    """An operation's answer: it says whether it replays an earlier request."""

    replayed: bool


def actor_of(principal: Principal) -> Actor:
    """The domains' view of who is acting."""
    return Actor(
        name=principal.name,
        user_id=principal.user_id,
        device=principal.device,
        roles=principal.roles,
        sites=principal.sites,
    )


def add_command_route(
    router: APIRouter,
    path: str,
    operation: Callable[[Session, Actor, str, Any], Any],
    command_type: type[BaseModel],
    result_type: type[BaseModel],
    roles: tuple[Role, ...],
    summary: str,
    *,
    name: str,
    accepted: Callable[[Any], bool] | None = None,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> None:
    """Mount `operation` as POST `path`: role-checked, idempotent, one transaction. An answer
    `accepted` says is recorded but not yet applied (awaiting approval) is a 202."""

    def endpoint(
        command: BaseModel,
        response: Response,
        key: str = Depends(idempotency_key),
        principal: Principal = Depends(require_roles(*roles)),
        db: Database = Depends(get_db),
    ) -> Any:
        result: Replayable = db.write(
            lambda s: operation(s, actor_of(principal), key, command), one_command=True
        )
        response.status_code = 200 if result.replayed else 201
        if result.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        if accepted is not None and accepted(result):
            response.status_code = 202
        return result

    endpoint.__doc__ = operation.__doc__
    endpoint.__annotations__["command"] = command_type
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=result_type,
        status_code=201,
        responses={
            200: {"description": "A replay of an earlier request with the same key"},
            **(responses or {}),
            **PROBLEMS,
        },
        summary=summary,
        name=name,
    )
