"""Idempotent command endpoints: one way every domain exposes a write to HTTP.

Each command route takes a validated body, the `Idempotency-Key` header and a caller holding
one of its roles, runs the domain operation in one unit of work, and answers 201 for a new
change or 200 with `Idempotent-Replayed: true` for a replay of the same key and body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from isom.actors import Actor
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.errors import problem_responses
from isom.toolkit.deps import get_db, idempotency_key, require_roles
from isom.writer import group_commit, writer_for

T = TypeVar("T")

PROBLEMS = problem_responses(
    "A code in the request names nothing",
    "Not enough quantity, wrong state, or a reused idempotency key",
    bad_json=True,
)


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


def answer_replay(response: Response, replayed: bool) -> None:
    """A command's status: 201 for a change, 200 marked `Idempotent-Replayed` for a replay."""
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"


async def apply_command(
    db: Database, work: Callable[[Session], T], *, grouped: bool, one_command: bool = True
) -> T:
    """Run a door's command off the event loop: through the process's writer (group commit)
    when `grouped` and enabled, else in its own transaction on a pool thread."""
    if grouped and group_commit(db):
        return await asyncio.wrap_future(writer_for(db).submit(work, one_command=one_command))
    return await run_in_threadpool(db.write, work, one_command=one_command)


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
    grouped: bool = False,
) -> None:
    """Mount `operation` as POST `path`: role-checked, idempotent, one transaction. An answer
    `accepted` says is recorded but not yet applied (awaiting approval) is a 202. `grouped`:
    the command goes to the process's writer, committed with its concurrent peers."""

    async def endpoint(
        command: BaseModel,
        response: Response,
        key: str = Depends(idempotency_key),
        principal: Principal = Depends(require_roles(*roles)),
        db: Database = Depends(get_db),
    ) -> Any:
        def work(session: Session) -> Any:
            return operation(session, actor_of(principal), key, command)

        result: Replayable = await apply_command(db, work, grouped=grouped)
        answer_replay(response, result.replayed)
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


class CommandAdder(Protocol):
    """Mounts one of a domain's commands: `add(path, operation, command_type, roles, summary)`."""

    def __call__(
        self,
        path: str,
        operation: Callable[[Session, Actor, str, Any], Any],
        command_type: type[BaseModel],
        roles: tuple[Role, ...],
        summary: str,
        **more: Any,
    ) -> None: ...


def command_routes(
    router: APIRouter, result_type: type[BaseModel], *, prefix: str, name: str
) -> CommandAdder:
    """How one domain mounts its commands: each at `prefix/path`, answering `result_type`,
    named `<name>_<path>` (dashes and slashes as underscores)."""

    def add(
        path: str,
        operation: Callable[[Session, Actor, str, Any], Any],
        command_type: type[BaseModel],
        roles: tuple[Role, ...],
        summary: str,
        **more: Any,
    ) -> None:
        add_command_route(
            router,
            f"{prefix}/{path}",
            operation,
            command_type,
            result_type,
            roles,
            summary,
            name=f"{name}_{path.replace('-', '_').replace('/', '_')}",
            **more,
        )

    return add
