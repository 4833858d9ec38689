"""Whatever lands between two runs of the agents (new lines, changed and cancelled lines,
receipts), once they settle the plan keeps every invariant of issue 12 and a rerun changes
nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isom.db import Database
from isom.orders import queries as orders_queries
from isom.orders import services as orders
from isom.orders.schemas import CancelCustomerOrder, ChangeCustomerLine
from tests.agents import invariants
from tests.agents.support import (
    TODAY,
    customer_order,
    day,
    demo_masterdata,
    do,
    receive,
    run_agents,
)
from tests.conftest import wipe

D = Decimal
ITEMS = ("HARN-JST-300", "CORD-M8-2M", "LEAD-RD-300", "BOX-S")
RECEIPTS = (("HARN-JST-300", "FG-01"), ("WIRE-0.5-BK", "A-01"), ("CONN-M8-4F", "A-01"))

new_line = st.tuples(
    st.just("new"),
    st.sampled_from(ITEMS),
    st.integers(1, 40),
    st.integers(0, 20),
    st.sampled_from(("rush", "normal", "low")),
)
change = st.tuples(st.just("change"), st.integers(0, 1000), st.integers(1, 40))
cancel = st.tuples(st.just("cancel"), st.integers(0, 1000))
receipt = st.tuples(st.just("receive"), st.sampled_from(RECEIPTS), st.integers(1, 60))
batches = st.lists(
    st.lists(st.one_of(new_line, new_line, change, cancel, receipt), min_size=1, max_size=5),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=batches)
def test_every_settled_plan_keeps_the_invariants(migrated_db: Database, batches: Any) -> None:
    db = migrated_db
    wipe(db)
    demo_masterdata(db)
    n = 0
    for batch in batches:
        for action in batch:
            n += 1
            apply(db, action, n)
        invariants.settle(db, run_agents)
        invariants.check(db, TODAY)


def apply(db: Database, action: tuple[Any, ...], n: int) -> None:
    """One thing a planner, a customer or the dock does."""
    kind = action[0]
    if kind == "new":
        _, item, qty, due, priority = action
        customer_order(
            db, f"SO-P{n}", "ACME-ROBOTICS", [(item, str(qty), day(due))], priority=priority
        )
        return
    if kind == "receive":
        (item, where), qty = action[1], action[2]
        receive(db, f"R-{n}", item, str(qty), "1.00", where, lot=f"L{n}")
        return
    lines = [
        d
        for d in db.read(orders_queries.open_customer_demand)
        if d.reserved_quantity == 0  # a line with stock on a ship order is the shipper's call
    ]
    if not lines:
        return
    line = lines[action[1] % len(lines)]
    if kind == "change":
        cmd = ChangeCustomerLine(
            order=line.order_number, line_no=line.line_no, quantity=D(action[2])
        )
        do(db, orders.change_customer_line, cmd)
    else:
        cmd = CancelCustomerOrder(order=line.order_number, line_no=line.line_no, reason="gone")
        do(db, orders.cancel_customer_order, cmd)
