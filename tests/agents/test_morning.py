"""A planner's normal morning (issue 12): a burst of 300 order lines over the demo's finished
items, the agents running now and then while it lands, then 20 lines cancelled and 20 changed.
Once the agents settle, the plan is one consistent plan: every open line has one job of its
own (or stock, or an explained shortage), no job or purchase that nothing needs, one purchase
order per supplier and week, late inputs flagged, negative balances alerted once, rush lines
served first, and a rerun changes nothing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from isom.agents import watch
from isom.db import Database
from isom.orders import queries as orders_queries
from isom.orders import services as orders
from isom.orders.schemas import CancelCustomerOrder, ChangeCustomerLine, CreateCustomerOrder
from isom.planning import projection
from isom.production import queries as production_queries
from tests.agents import invariants
from tests.agents.support import (
    TODAY,
    day,
    demo_masterdata,
    do,
    receive,
    run_agents,
)

D = Decimal
FINISHED = ("HARN-JST-300", "CORD-M8-2M")
CUSTOMERS = ("ACME-ROBOTICS", "NORDIC-AGRI", "SENSORPRO")


def burst(seed: int, lines: int, orders_count: int) -> Iterator[CreateCustomerOrder]:
    """`lines` lines over `orders_count` orders: finished items, 1-50, due in 3-20 days,
    a fifth rush, a tenth low."""
    rng = random.Random(seed)
    sizes = [1] * orders_count
    for _ in range(lines - orders_count):
        sizes[rng.randrange(orders_count)] += 1
    for n, size in enumerate(sizes, start=1):
        roll = rng.random()
        yield CreateCustomerOrder.model_validate(
            {
                "number": f"SO-M{n:04d}",
                "customer": rng.choice(CUSTOMERS),
                "priority": "rush" if roll < 0.2 else "low" if roll > 0.9 else "normal",
                "lines": [
                    {
                        "item": rng.choice(FINISHED),
                        "quantity": rng.randint(1, 50),
                        "due_date": day(rng.randint(3, 20)).isoformat(),
                    }
                    for _ in range(size)
                ],
            }
        )


def stock_up(db: Database) -> None:
    """Some of everything, far from enough: stock that must go to rush lines first."""
    receive(db, "FG-H", "HARN-JST-300", "60", "0.50", "FG-01", lot="H1")
    receive(db, "W-RD", "WIRE-0.5-RD", "300", "0.12", "A-01", lot="W1")
    receive(db, "CAB", "CABLE-4C-GY", "200", "0.85", "A-01", lot="K1")
    receive(db, "TERM", "TERM-JST", "20000", "0.02", "WS-CRIMP-1")


def test_the_morning_settles_into_one_consistent_plan(db: Database) -> None:
    demo_masterdata(db)
    stock_up(db)
    for order in burst(seed=12, lines=300, orders_count=114):
        do(db, orders.create_customer_order, order)
    # The scheduler waits for the burst to quiet down (its debounce), then runs.
    invariants.settle(db, run_agents)
    invariants.check(db, TODAY)
    rush_first(db)
    first = line_jobs(db)

    # Twenty lines cancelled, twenty changed (lines with no stock on a ship order yet).
    rng = random.Random(1212)
    free = sorted(
        (d.order_number, d.line_no)
        for d in db.read(orders_queries.open_customer_demand)
        if d.reserved_quantity == 0
    )
    picked = rng.sample(free, 40)
    for number, line_no in picked[:20]:
        cancel = CancelCustomerOrder(order=number, line_no=line_no, reason="not needed")
        do(db, orders.cancel_customer_order, cancel)
    for number, line_no in picked[20:]:
        change = ChangeCustomerLine(order=number, line_no=line_no, quantity=D(rng.randint(1, 50)))
        do(db, orders.change_customer_line, change)
    invariants.settle(db, run_agents)
    invariants.check(db, TODAY)
    rush_first(db)
    # Supply is stable: a line that keeps a job keeps the same one (resized at most).
    then = line_jobs(db)
    moved = {line: (first[line], job) for line, job in then.items() if first.get(line, job) != job}
    assert moved == {}
    before = db.read(lambda s: [(a.key, a.text, a.status) for a in watch.open_alerts(s)])
    assert run_agents(db) == {"intake": 0, "purchasing": 0, "shipping": 0, "alerts": 0}
    assert db.read(lambda s: [(a.key, a.text, a.status) for a in watch.open_alerts(s)]) == before
    assert db.read(lambda s: projection.refresh_dirty(s, TODAY)) == set()


def line_jobs(db: Database) -> dict[str, str]:
    """Each line's open top-level job, by line."""
    jobs = db.read(production_queries.open_jobs)
    return {str(j.customer_line): j.number for j in jobs if j.parent is None}


def rush_first(db: Database) -> None:
    """Stock short: no normal or low line holds stock while a rush line of its item goes
    without (the stock was there before the burst, so no earlier reservation explains it)."""
    demand = db.read(orders_queries.open_customer_demand)
    for item in {d.item_id for d in demand}:
        mine = [d for d in demand if d.item_id == item]
        short = any(
            d.priority.value == "rush" and d.reserved_quantity < d.open_quantity for d in mine
        )
        if short:
            others = [
                d.reference for d in mine if d.priority.value != "rush" and d.reserved_quantity
            ]
            assert others == [], f"rush lines short of item {item} while {others} hold stock"
