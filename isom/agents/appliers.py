"""How each kind of decision is applied: through the owning domain's service, with its key."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents.services import Actor, applier
from isom.auth import sites
from isom.orders import queries as orders_queries
from isom.orders import services as orders
from isom.orders.schemas import (
    CancelPurchaseLine,
    CreatePurchaseOrder,
    CreateShipOrder,
    PurchaseOrderAction,
    ReserveCommand,
    UnreserveCommand,
)
from isom.production import services as production
from isom.production.schemas import (
    ChangeWorkOrder,
    CreateChildWorkOrder,
    CreateWorkOrder,
    ReleaseWorkOrder,
    ReplanWorkOrder,
)


@applier("reserve")
def reserve(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
    """Ship from stock: set free stock aside for the customer line."""
    result = orders.reserve(session, actor, key, ReserveCommand.model_validate(command))
    return {"order": result.number, "status": result.status, **result.detail}


@applier("unreserve")
def unreserve(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
    """Give back a line's reservation, for a line of a higher priority to take."""
    result = orders.unreserve(session, actor, key, UnreserveCommand.model_validate(command))
    return {"order": result.number, "status": result.status, **result.detail}


@applier("ship_order")
def ship_order(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
    """Release what is ready of a customer order for picking and shipping."""
    result = orders.create_ship_order(session, actor, key, CreateShipOrder.model_validate(command))
    return {"ship_order": result.number, "status": result.status}


@applier("purchase_order")
def purchase_order(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Order net requirements from a supplier: a new order for the supplier's window, or the
    window's order brought in line (lines added, resized, re-dated, cancelled)."""
    body = {k: v for k, v in command.items() if k != "cancel_lines"}
    if "number" not in body:
        body["external_ref"] = key  # a new order's own identity; later changes name its number
    result = orders.create_purchase_order(
        session, actor, key, CreatePurchaseOrder.model_validate(body)
    )
    for line_no in command.get("cancel_lines", []):
        orders.cancel_purchase_line(
            session,
            actor,
            f"{key}/cancel/{line_no}",
            CancelPurchaseLine(order=result.number, line_no=line_no, reason="not needed"),
        )
    return {"purchase_order": result.number, "status": result.status}


@applier("purchase_cancel")
def purchase_cancel(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Cancel a purchase order no demand needs any more."""
    result = orders.cancel_purchase_order(
        session, actor, key, PurchaseOrderAction.model_validate(command)
    )
    return {"purchase_order": result.number, "status": result.status}


@applier("child_work_order")
def child_work_order(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Make a made input of a job's step: a released child job for the parent's line."""
    result = production.create_child_work_order(
        session, actor, key, CreateChildWorkOrder.model_validate(command)
    )
    return {"work_orders": [result.work_order]}


@applier("work_order_change")
def work_order_change(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Resize or re-date a job that has not started."""
    result = production.replan_work_order(
        session, actor, key, ReplanWorkOrder.model_validate(command)
    )
    return {"work_order": result.work_order, **result.detail}


@applier("work_order_cancel")
def work_order_cancel(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Cancel a job that has not started and that nothing needs."""
    result = production.cancel_work_order(
        session, actor, key, ChangeWorkOrder.model_validate(command)
    )
    return {"work_order": result.work_order, "status": result.work_order_status}


@applier("work_order")
def work_order(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
    """Make: a planned job of the line's own, at the line's site; its children and its release
    follow the plan."""
    line = command.get("customer_line")
    site = None if line is None else orders_queries.line_site(session, line)
    with sites.acting_in({site}) if site is not None else nullcontext():
        top = production.create_work_order(
            session,
            actor,
            key,
            CreateWorkOrder(
                item=command["item"],
                quantity=Decimal(command["quantity"]),
                due_date=dt.date.fromisoformat(command["due_date"]),
                customer_line=line,
                release=False,
            ),
        )
    return {"work_orders": [top.work_order]}


@applier("work_order_release")
def work_order_release(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Release a planned job whose inputs all come in time."""
    result = production.release_as_planned(
        session, actor, key, ReleaseWorkOrder.model_validate(command)
    )
    return {"work_order": result.work_order, "status": result.work_order_status}
