"""Helpers for the planning and agent tests: the demo plant, orders as the API sends them, jobs
run by the scans the floor makes, and reads of what the agents decided."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.agents import runner
from isom.agents.models import Decision
from isom.db import Database
from isom.ledger.models import Balance, ContentStatus
from isom.masterdata.models import Item
from isom.orders import services as orders
from isom.orders.schemas import CreateCustomerOrder, OrderResult
from isom.production import services as production
from isom.production.models import WorkOrder
from isom.production.schemas import ConsumeScan, ScanResult, StepScan, StopScan
from isom.types import utcnow
from tests.builders import key
from tests.production.support import ACTOR, demo_masterdata, receive

D = Decimal
TODAY = utcnow().date()

__all__ = ["ACTOR", "demo_masterdata", "receive"]


def day(n: int) -> dt.date:
    """A date `n` days from today."""
    return TODAY + dt.timedelta(days=n)


def do(db: Database, operation: Any, command: Any, *, idem: str | None = None) -> Any:
    """Apply one domain command in its own unit of work, as the API does."""
    k = idem or key()
    return db.write(lambda s: operation(s, ACTOR, k, command))


def customer_order(
    db: Database,
    number: str,
    customer: str,
    lines: list[tuple[str, str, dt.date]],
    *,
    priority: str = "normal",
    allow_partial: bool = True,
) -> OrderResult:
    """A customer order as the API takes it."""
    cmd = CreateCustomerOrder.model_validate(
        {
            "number": number,
            "customer": customer,
            "priority": priority,
            "allow_partial": allow_partial,
            "lines": [{"item": i, "quantity": q, "due_date": d.isoformat()} for i, q, d in lines],
        }
    )
    result: OrderResult = do(db, orders.create_customer_order, cmd)
    return result


def run_agents(db: Database) -> dict[str, int]:
    """Run every agent once; answer how many new decisions each made."""
    return {r.agent: r.decisions for r in runner.run_all(db, today=TODAY)}


def decisions(db: Database, **where: Any) -> list[dict[str, Any]]:
    """The decisions (as plain dicts, oldest first), filtered by column values."""

    def read(s: Session) -> list[dict[str, Any]]:
        query = select(Decision).order_by(Decision.id)
        for name, value in where.items():
            query = query.where(getattr(Decision, name) == value)
        return [
            {
                c: getattr(d, c)
                for c in (
                    "id",
                    "agent",
                    "kind",
                    "status",
                    "rule",
                    "demand",
                    "supply",
                    "date",
                    "explanation",
                    "command",
                    "result",
                )
            }
            for d in s.scalars(query)
        ]

    return db.read(read)


def available(db: Database, item: str) -> Decimal:
    """What the ledger holds available of an item, over every location."""

    def read(s: Session) -> Decimal:
        total = s.scalar(
            select(func.sum(Balance.quantity))
            .join(Item, Item.id == Balance.item_id)
            .where(Item.code == item, Balance.status == ContentStatus.available)
        )
        return D(total or 0)

    return db.read(read)


def jobs_of(db: Database, customer_line: str) -> dict[str, tuple[str, D, str]]:
    """The jobs serving a customer line: item -> (number, quantity, status)."""

    def read(s: Session) -> dict[str, tuple[str, D, str]]:
        rows = s.execute(
            select(Item.code, WorkOrder.number, WorkOrder.quantity, WorkOrder.status)
            .join(Item, Item.id == WorkOrder.item_id)
            .where(WorkOrder.customer_line == customer_line)
            .order_by(WorkOrder.id)
        ).all()
        return {code: (str(n), q, st.value) for code, n, q, st in rows}

    return db.read(read)


def _scan(db: Database, operation: Any, command: Any) -> ScanResult:
    result: ScanResult = do(db, operation, command)
    return result


def run_step(
    db: Database,
    job: str,
    step: int,
    badge: str,
    workstation: str,
    consumes: list[tuple[str, str, str]],
    good: str,
    *,
    location: str | None = None,
) -> str:
    """Start a step, consume (container, item, quantity) into it, stop it complete: the output."""
    _scan(
        db,
        production.start_step,
        StepScan(badge=badge, work_order=job, step=step, workstation=workstation),
    )
    for container, item, qty in consumes:
        _scan(
            db,
            production.consume_scan,
            ConsumeScan(work_order=job, step=step, container=container, item=item, quantity=D(qty)),
        )
    out = _scan(
        db,
        production.stop_step,
        StopScan(badge=badge, work_order=job, step=step, good_quantity=D(good), location=location),
    )
    return str(out.detail["container"])
