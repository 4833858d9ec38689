"""Order intake: each open customer line becomes ship-from-stock, make, or custom work.

Rules, in priority order of the lines (rush, normal, low, then due date):
- `take-back-reservation`: a line short of free stock takes back what lines of a lower
  priority reserved (`reserving.py`).
- `reserve-free-stock`: free stock of the item (available, not reserved) is set aside for the
  line, as much as it needs.
- `make-netted`, `make-input`, `resize-job`, `cancel-unneeded-job`: the line's own job, and
  the child jobs of every open job's made inputs, reconciled level by level with the plan
  (`making.py`); a new line's job says when it can be done (capable to promise against the
  plan in force).
- `custom-work`: an item with no route that nobody sells us goes to engineering.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents import making, master, reserving
from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.orders import queries as orders_queries
from isom.planning import sources
from isom.planning.scheduling import queries as scheduling

AGENT = "intake"
ZERO = Decimal(0)


def run(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Reserve free stock, reconcile jobs with the plan, send the unmakeable to engineering.

    Releasing the planned jobs whose inputs come in time is a later step of the same run
    (`releasing.py`, after purchasing has bought for the new jobs)."""
    made: list[Any] = agents.decide_all(session, actor, reserving.take_back(session))
    reservations: list[Proposal] = []
    demand = orders_queries.open_customer_demand(session)
    stock = sources.on_hand(session)
    reserved = orders_queries.reserved_by_item(session)
    free = {i: q - reserved.get(i, ZERO) for i, q in stock.items()}
    for d in demand:
        need = d.open_quantity - d.reserved_quantity
        take = min(need, free.get(d.item_id, ZERO))
        if take <= 0:
            continue
        free[d.item_id] -= take
        reservations.append(
            reserving.reserve(
                d,
                take,
                situation=f"reserve|{d.reference}|{d.open_quantity}|{d.reserved_quantity}|{take}",
                rule="reserve-free-stock",
                explanation=(
                    f"{d.reference} ({d.priority.value}) needs {d.open_quantity} {d.item} by "
                    f"{d.due_date}, {d.reserved_quantity} reserved; {take} of the free stock "
                    f"is set aside for it (ship from stock)."
                ),
            )
        )
    made += agents.decide_all(session, actor, reservations)
    demand = orders_queries.open_customer_demand(session)  # reserved quantities as now
    promised = scheduling.promise_new_lines(session, demand)  # capable to promise, new lines
    made += making.plan_lines(session, actor, today, demand, promised=promised)
    made += making.plan_inputs(session, actor, today, demand)
    routes = master.routes(session)
    sold = master.offers(session)
    custom = [_engineering(d) for d in demand if d.item_id not in routes and d.item_id not in sold]
    return made + agents.decide_all(session, actor, custom)


def _engineering(d: orders_queries.Demand) -> Proposal:
    return Proposal(
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
    )
