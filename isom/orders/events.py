"""The frame of every order command: idempotency key, request hash, stored answer, replay.

Also the domain's number counters and its few settings, which every part of it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isom.db import RetryableConflict
from isom.errors import IdempotencyKeyReused
from isom.ledger import services as ledger
from isom.orders.models import OrderCounter, OrderEvent, OrderSetting
from isom.orders.schemas import OrderResult
from isom.types import utcnow

Actor = ledger.Actor
C = TypeVar("C", bound=BaseModel)
Build = Callable[[Session, Actor, str, Any], OrderResult]


def run_order_event(
    session: Session, actor: Actor, key: str, kind: str, command: C, build: Build
) -> OrderResult:
    """Apply `build` once per key; a replay with the same body answers the stored result."""
    digest = ledger.request_hash(kind, command)
    prior = session.execute(
        select(OrderEvent.id, OrderEvent.kind, OrderEvent.request_hash, OrderEvent.result).where(
            OrderEvent.key == key
        )
    ).first()
    if prior is not None:
        if prior.request_hash != digest:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was already used for a different request "
                f"(order event {prior.id}, {prior.kind})",
                field="Idempotency-Key",
                expected="a new key for a new change, or the same body to replay",
            )
        return OrderResult.model_validate({**prior.result, "replayed": True})
    try:
        with session.begin_nested():
            event_id = session.execute(
                insert(OrderEvent)
                .values(
                    key=key,
                    kind=kind,
                    actor=actor.name,
                    device=actor.device,
                    recorded_at=utcnow(),
                    request_hash=digest,
                    command=command.model_dump(mode="json"),
                    result={},
                )
                .returning(OrderEvent.id)
            ).scalar_one()
    except IntegrityError as exc:  # a concurrent request holds the key: run again to replay
        raise RetryableConflict(str(exc)) from exc
    result = build(session, actor, key, command)
    result.event_id = event_id
    result.key = key
    result.kind = kind
    session.flush()
    session.execute(
        update(OrderEvent)
        .where(OrderEvent.id == event_id)
        .values(result=result.model_dump(mode="json"))
    )
    return result


def next_number(session: Session, prefix: str) -> str:
    """A fresh order number (SO-000001, PO-..., SH-...) from a counter that is never reused."""
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OrderCounter)
    stmt = stmt.values(name=prefix, value=1).on_conflict_do_update(
        index_elements=[OrderCounter.name], set_={"value": OrderCounter.value + 1}
    )
    value = session.execute(stmt.returning(OrderCounter.value)).scalar_one()
    return f"{prefix}-{value:06d}"


# ---------------------------------------------------------------------------------------------
# Settings: a few named exact values with defaults.

RECEIPT_OVER_PERCENT = "receipt.over_percent"
RECEIPT_UNDER_PERCENT = "receipt.under_percent"
DEFAULTS: dict[str, Decimal] = {RECEIPT_OVER_PERCENT: Decimal(0), RECEIPT_UNDER_PERCENT: Decimal(0)}


def get_setting(session: Session, name: str) -> Decimal:
    """A setting's value, or its default when nobody set it."""
    value = session.scalar(select(OrderSetting.value).where(OrderSetting.name == name))
    if value is None:
        return DEFAULTS[name]
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - only set through `put_setting`
        return DEFAULTS[name]


def put_setting(session: Session, actor: Actor, name: str, value: Decimal) -> None:
    """Store a setting (the caller's transaction)."""
    row = session.get(OrderSetting, name)
    if row is None:
        row = OrderSetting(name=name, value="0", updated_at=utcnow(), updated_by=actor.name)
        session.add(row)
    row.value = str(value)
    row.updated_at = utcnow()
    row.updated_by = actor.name
    session.flush()
