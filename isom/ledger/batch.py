"""The batch door: many ledger commands in one transaction, each answered on its own, in order.

Devices and integrations that hold a queue of scans send them at once. Every command runs in
the command frame like a single request (its own key, its own savepoint, its own stored answer),
so a refused command fails alone and changes nothing, and the same batch sent again replays
every answer instead of applying anything twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from isom.errors import Forbidden, InvalidInput, IsomError
from isom.ledger import services as ledger
from isom.ledger.schemas import EventResult

#: How many commands one batch may carry.
MAX_COMMANDS = 5000

Operation = Callable[[Session, ledger.Actor, str, Any], EventResult]


@dataclass(frozen=True)
class BatchOperation:
    """One operation the batch door takes: the service, its command type, who may call it."""

    run: Operation
    command: type[BaseModel]
    roles: frozenset[str]
    accepted: Callable[[EventResult], bool] | None = None


class BatchItem(BaseModel):
    """One command of a batch: its own idempotency key, the operation and its body."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, description="This command's idempotency key")
    operation: str = Field(min_length=1, max_length=40, description="e.g. receive, move, consume")
    body: dict[str, Any] = Field(description="The command, as its single endpoint takes it")


class BatchIn(BaseModel):
    """Up to a few thousand commands, applied in the order given."""

    model_config = ConfigDict(extra="forbid")

    commands: list[BatchItem] = Field(min_length=1, max_length=MAX_COMMANDS)


class BatchAnswer(BaseModel):
    """One command's answer: the status its single request would get, and its body."""

    key: str
    status: int
    outcome: Literal["applied", "replayed", "accepted", "refused"]
    body: dict[str, Any]


class BatchOut(BaseModel):
    """The answers, one per command, in the order of the commands."""

    applied: int
    replayed: int
    refused: int
    answers: list[BatchAnswer]


def apply(
    session: Session,
    actor: ledger.Actor,
    items: Iterable[BatchItem],
    operations: dict[str, BatchOperation],
) -> BatchOut:
    """Apply each command in turn in the caller's transaction; a refusal answers that one."""
    answers = [_one(session, actor, item, operations) for item in items]
    return BatchOut(
        applied=sum(a.outcome in ("applied", "accepted") for a in answers),
        replayed=sum(a.outcome == "replayed" for a in answers),
        refused=sum(a.outcome == "refused" for a in answers),
        answers=answers,
    )


def _one(
    session: Session, actor: ledger.Actor, item: BatchItem, operations: dict[str, BatchOperation]
) -> BatchAnswer:
    try:
        operation = _operation(actor, item, operations)
        command = _command(item, operation)
        result = operation.run(session, actor, item.key, command)
    except IsomError as refusal:
        return BatchAnswer(
            key=item.key, status=refusal.status_code, outcome="refused", body=refusal.to_problem()
        )
    body = result.model_dump(mode="json")
    if result.replayed:
        return BatchAnswer(key=item.key, status=200, outcome="replayed", body=body)
    if operation.accepted is not None and operation.accepted(result):
        return BatchAnswer(key=item.key, status=202, outcome="accepted", body=body)
    return BatchAnswer(key=item.key, status=201, outcome="applied", body=body)


def _operation(
    actor: ledger.Actor, item: BatchItem, operations: dict[str, BatchOperation]
) -> BatchOperation:
    operation = operations.get(item.operation)
    if operation is None:
        raise InvalidInput(
            f"unknown operation {item.operation!r}",
            field="operation",
            expected=", ".join(sorted(operations)),
        )
    if not actor.has_any(*operation.roles):
        raise Forbidden(
            f"{actor.name} may not {item.operation}",
            field="operation",
            expected=f"one of the roles: {', '.join(sorted(operation.roles | {'admin'}))}",
        )
    return operation


def _command(item: BatchItem, operation: BatchOperation) -> BaseModel:
    try:
        return operation.command.model_validate(item.body)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "body",
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        raise InvalidInput(
            f"{errors[0]['field']}: {errors[0]['message']}",
            field=f"body.{errors[0]['field']}",
            expected=f"a {item.operation} command as its own endpoint takes it",
            errors=errors,
        ) from None
