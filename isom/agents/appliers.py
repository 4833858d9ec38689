"""How each kind of decision is applied: through the owning domain's service, with its key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
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


def _through(
    kind: str,
    service: Callable[[Session, Actor, str, Any], Any],
    schema: type[BaseModel],
    answer: Callable[[Any], dict[str, Any]],
) -> None:
    """A kind whose command is the service's command as it stands: validate it, run it with
    the decision's key, answer what the decision's result keeps."""

    def run(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
        return answer(service(session, actor, key, schema.model_validate(command)))

    applier(kind)(run)


def _order(result: Any) -> dict[str, Any]:
    return {"order": result.number, "status": result.status, **result.detail}


def _job(result: Any) -> dict[str, Any]:
    return {"work_order": result.work_order, "status": result.work_order_status}


# Ship from stock: set free stock aside for the customer line; or give it back, for a line of
# a higher priority to take.
_through("reserve", orders.reserve, ReserveCommand, _order)
_through("unreserve", orders.unreserve, UnreserveCommand, _order)
# Release what is ready of a customer order for picking and shipping.
_through(
    "ship_order",
    orders.create_ship_order,
    CreateShipOrder,
    lambda r: {"ship_order": r.number, "status": r.status},
)
# Cancel a purchase order no demand needs any more.
_through(
    "purchase_cancel",
    orders.cancel_purchase_order,
    PurchaseOrderAction,
    lambda r: {"purchase_order": r.number, "status": r.status},
)
# Make a made input of a job's step: a child job for the parent's line.
_through(
    "child_work_order",
    production.create_child_work_order,
    CreateChildWorkOrder,
    lambda r: {"work_orders": [r.work_order]},
)
# Resize or re-date a job that has not started.
_through(
    "work_order_change",
    production.replan_work_order,
    ReplanWorkOrder,
    lambda r: {"work_order": r.work_order, **r.detail},
)
# Cancel a job that has not started and that nothing needs; release a planned job whose
# inputs all come in time.
_through("work_order_cancel", production.cancel_work_order, ChangeWorkOrder, _job)
_through("work_order_release", production.release_as_planned, ReleaseWorkOrder, _job)


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


@applier("work_order")
def work_order(session: Session, actor: Actor, key: str, command: dict[str, Any]) -> dict[str, Any]:
    """Make: a planned job of the line's own, at the line's site; its children and its release
    follow the plan."""
    line = command.get("customer_line")
    site = None if line is None else _line_site(session, line)
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


def _line_site(session: Session, line: str) -> int | None:
    """The site of the line's order, read once per order and unit of work (an order does not
    change site, and a run makes a job for each of its lines)."""
    order = line.rpartition("/")[0]
    known: dict[str, int | None] = session.info.setdefault("isom.agents.order_sites", {})
    if order not in known:
        known[order] = orders_queries.line_site(session, line)
    return known[order]
