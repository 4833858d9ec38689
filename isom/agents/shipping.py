"""Shipping: ship orders (releases) as stock for customer lines becomes available.

Rule `release-reserved-stock`: what a line has reserved and no open ship order releases yet
is released on a ship order for its customer order, one ship order per order and run. An order
that allows partial shipments ships what is ready; one that does not waits until every open
line is fully reserved, then ships whole (rule `release-complete-order`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.orders import queries as orders_queries

AGENT = "shipping"
ZERO = Decimal(0)


def run(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Release the reserved, not yet released quantity of every customer order."""
    demand = orders_queries.open_customer_demand(session)
    released = orders_queries.released_for_shipping(session)
    by_order: dict[str, list[orders_queries.Demand]] = defaultdict(list)
    for d in demand:
        by_order[d.order_number].append(d)
    made = []
    for number, lines in sorted(by_order.items(), key=lambda kv: min(d.rank for d in kv[1])):
        ready = {
            d.line_no: min(d.reserved_quantity, d.open_quantity) - released.get(d.line_id, ZERO)
            for d in lines
        }
        whole = all(
            d.reserved_quantity >= d.open_quantity and released.get(d.line_id, ZERO) == 0
            for d in lines
        )
        partial = lines[0].allow_partial
        if not partial and not whole:
            continue
        ship = {n: q for n, q in ready.items() if q > 0}
        if not ship:
            continue
        first = min(lines, key=lambda d: d.rank)
        text = ", ".join(
            f"{d.reference} {ship[d.line_no]} of {d.open_quantity} {d.item}"
            for d in lines
            if d.line_no in ship
        )
        made.append(
            Proposal(
                agent=AGENT,
                kind="ship_order",
                situation=f"ship|{number}|"
                + ";".join(
                    f"{d.line_no}:{ship.get(d.line_no, ZERO)}:{d.open_quantity}" for d in lines
                ),
                rule="release-reserved-stock" if partial else "release-complete-order",
                priority=first.rank[0],
                item_id=first.item_id if len(ship) == 1 else None,
                demand=number,
                supply="reserved stock",
                date=min(d.due_date for d in lines),
                explanation=(
                    f"{number} ({first.priority.value}) has stock set aside: {text}. "
                    + (
                        "The order allows partial shipments, so what is ready ships now."
                        if partial
                        else "Every line is covered, so the order ships complete."
                    )
                ),
                command={
                    "order": number,
                    "lines": [{"line_no": n, "quantity": str(q)} for n, q in sorted(ship.items())],
                },
            )
        )
    return list(agents.decide_all(session, actor, made))
