"""How each kind of decision is applied: through the owning domain's service, with its key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents.services import Actor, applier
from isom.masterdata import services as md
from isom.orders import services as orders
from isom.orders.schemas import (
    CancelPurchaseLine,
    CreatePurchaseOrder,
    CreateShipOrder,
    PurchaseOrderAction,
    ReserveCommand,
)
from isom.production import services as production
from isom.production.models import WorkOrder
from isom.production.schemas import (
    ChangeWorkOrder,
    CreateChildWorkOrder,
    CreateWorkOrder,
    ReplanWorkOrder,
)
from isom.types import utcnow


@applier("reserve")
def reserve(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
    """Ship from stock: set free stock aside for the customer line."""
    result = orders.reserve(session, actor, key, ReserveCommand.model_validate(command))
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
def work_orders(
    session: Session, actor: Actor, key: str, command: dict[str, Any]
) -> dict[str, Any]:
    """Make: the job for the customer line and the child jobs netting found missing, released.

    The top job goes through `create_work_order` under the decision's key; its children are
    made beside it in the same transaction, linked to their parent step. Each job is released
    without production's automatic child jobs (they would make every made input again at
    full quantity; netting already decided which children are needed, and how many).
    """
    top = production.create_work_order(
        session,
        actor,
        key,
        CreateWorkOrder(
            item=command["item"],
            quantity=Decimal(command["quantity"]),
            due_date=dt.date.fromisoformat(command["due_date"]),
            customer_line=command.get("customer_line"),
            release=False,
        ),
    )
    if top.replayed:
        return {"work_orders": [top.work_order]}
    parent = production.get_work_order(session, str(top.work_order))
    at = utcnow()
    family: list[WorkOrder] = [parent]

    def grow(above: WorkOrder, nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            child = production.new_work_order(
                session,
                md.get_item(session, node["item"]),
                Decimal(node["quantity"]),
                dt.date.fromisoformat(node["due_date"]),
                actor=actor,
                at=at,
                customer_line=above.customer_line,
                parent=above,
                parent_step=node.get("parent_step"),
            )
            family.append(child)
            grow(child, node.get("children", []))

    grow(parent, command.get("children", []))
    for wo in family:
        production.release(session, wo, actor=actor, at=at, make_children=False)
    return {"work_orders": [str(wo.number) for wo in family]}
