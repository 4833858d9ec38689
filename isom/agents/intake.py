"""Order intake: each open customer line becomes ship-from-stock, make, or custom work.

Rules, in priority order of the lines (rush, normal, low, then due date):
- `reserve-free-stock`: free stock of the item (available, not reserved) is set aside for the
  line, as much as it needs.
- `make-netted`: what stock, open jobs (with their WIP) and purchase lines do not cover, netted
  level by level down the route, becomes a job for the line with the child jobs its made
  inputs still need.
- `custom-work`: an item with no route that nobody sells us goes to engineering.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.masterdata.models import Item, Route, Unit
from isom.orders import queries as orders_queries
from isom.planning import netting, sources
from isom.planning.netting import NetResult, PlannedOrder

AGENT = "intake"
ZERO = Decimal(0)


def run(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Decide every open customer line not yet decided; answer the new decisions."""
    demand = orders_queries.open_customer_demand(session)
    if not demand:
        return []
    made: list[Any] = []
    stock = sources.on_hand(session)
    reserved = orders_queries.reserved_by_item(session)
    free = {i: q - reserved.get(i, ZERO) for i, q in stock.items()}
    for d in demand:
        need = d.open_quantity - d.reserved_quantity
        take = min(need, free.get(d.item_id, ZERO))
        if take <= 0:
            continue
        free[d.item_id] -= take
        made.append(
            agents.decide(
                session,
                actor,
                Proposal(
                    agent=AGENT,
                    kind="reserve",
                    situation=f"reserve|{d.reference}|{d.open_quantity}|{d.reserved_quantity}|{take}",
                    rule="reserve-free-stock",
                    priority=d.rank[0],
                    item_id=d.item_id,
                    demand=d.reference,
                    supply="stock",
                    date=d.due_date,
                    explanation=(
                        f"{d.reference} ({d.priority.value}) needs {d.open_quantity} {d.item} by "
                        f"{d.due_date}, {d.reserved_quantity} reserved; {take} of the free stock "
                        f"is set aside for it (ship from stock)."
                    ),
                    command={"order": d.order_number, "line_no": d.line_no, "quantity": str(take)},
                ),
            )
        )
    routes = sources.routes_by_item(session)
    sold = sources.supplier_items(session)
    plan = netting.net(session, today, extra_supply=pending_supply(session, today))
    codes = sources.item_codes(session)
    tops = {
        o.demand.ref: o
        for o in plan.planned
        if o.parent is None and o.make and o.demand.kind == "customer"
    }
    for d in demand:
        order = tops.get(d.reference)
        if order is not None:
            made.append(
                agents.decide(session, actor, _make(session, d, order, routes, plan, codes))
            )
        elif d.item_id not in routes and d.item_id not in sold:
            made.append(
                agents.decide(
                    session,
                    actor,
                    Proposal(
                        agent=AGENT,
                        kind="engineering",
                        situation=f"engineering|{d.reference}|{d.open_quantity}|{d.due_date}",
                        rule="custom-work",
                        priority=d.rank[0],
                        item_id=d.item_id,
                        demand=d.reference,
                        date=d.due_date,
                        explanation=(
                            f"{d.reference} asks for {d.open_quantity} {d.item} by {d.due_date}: "
                            "the item has no route and no supplier sells it, so engineering has "
                            "to work out how to make it."
                        ),
                    ),
                )
            )
    return [m for m in made if m is not None]


def _make(
    session: Session,
    d: orders_queries.Demand,
    order: PlannedOrder,
    routes: dict[int, Route],
    plan: NetResult,
    codes: dict[int, str],
) -> Proposal:
    """A job tree for a line: the top job and the made children netting says are missing."""
    tree = _node(session, order, codes)
    cover = plan.coverage.get((d.item_id, d.reference), [])
    covered = "; ".join(f"{p.quantity} from {p.supply}" for p in cover if p.supply) or "nothing"
    children = _describe(order, codes)
    return Proposal(
        agent=AGENT,
        kind="work_order",
        situation=f"make|{d.reference}|{_flat(tree)}",
        rule="make-netted",
        priority=d.rank[0],
        item_id=d.item_id,
        demand=d.reference,
        supply=f"route {routes[d.item_id].code}",
        date=order.due_date,
        explanation=(
            f"{d.reference} ({d.priority.value}) needs {d.open_quantity} {d.item} by "
            f"{d.due_date}; stock, open jobs and purchases cover {covered}. Make "
            f"{tree['quantity']} by route {routes[d.item_id].code}, due {order.due_date}"
            + (
                f"; child jobs for what is short below it: {children}."
                if children
                else "; every input is covered."
            )
        ),
        command={**tree, "customer_line": d.reference},
    )


def _round_up(session: Session, item_id: int, quantity: Decimal) -> Decimal:
    """A quantity in the item's unit precision, rounded up so the need is covered."""
    item = session.get(Item, item_id)
    unit = session.get(Unit, item.base_unit_id) if item else None
    places = unit.decimals if unit else 0
    return quantity.quantize(Decimal(1).scaleb(-places), ROUND_CEILING).normalize() + ZERO


def _node(session: Session, order: PlannedOrder, codes: dict[int, str]) -> dict[str, Any]:
    return {
        "item": codes[order.item_id],
        "quantity": str(_round_up(session, order.item_id, order.quantity)),
        "due_date": order.due_date.isoformat(),
        "parent_step": order.parent_step,
        "children": [_node(session, c, codes) for c in order.children if c.make],
    }


def _flat(node: dict[str, Any]) -> str:
    inner = ",".join(_flat(c) for c in node["children"])
    return f"{node['item']}:{node['quantity']}:{node['due_date']}[{inner}]"


def _describe(order: PlannedOrder, codes: dict[int, str]) -> str:
    parts = []
    for c in order.children:
        if c.make:
            parts.append(f"{c.quantity.normalize():f} {codes[c.item_id]} due {c.due_date}")
            deeper = _describe(c, codes)
            if deeper:
                parts.append(deeper)
    return ", ".join(parts)


def pending_supply(session: Session, today: dt.date) -> list[sources.Supply]:
    """What proposals still waiting for approval would bring, so netting does not plan it twice."""
    out: list[sources.Supply] = []
    codes = {c: i for i, c in sources.item_codes(session).items()}
    for decision in agents.pending(session, "work_order"):
        cmd = decision.command
        out.append(
            sources.Supply(
                codes[cmd["item"]],
                dt.date.fromisoformat(cmd["due_date"]),
                Decimal(cmd["quantity"]),
                "proposal",
                f"decision {decision.id}",
            )
        )
    for decision in agents.pending(session, "purchase_order"):
        for line in decision.command.get("lines", []):
            out.append(
                sources.Supply(
                    codes[line["item"]],
                    dt.date.fromisoformat(line["due_date"]) if line.get("due_date") else today,
                    Decimal(line["quantity"]),
                    "proposal",
                    f"decision {decision.id}",
                )
            )
    return out
