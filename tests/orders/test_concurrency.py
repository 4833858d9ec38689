"""Reservations under real concurrency on the current store: threads, one unit of work each."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from isom.db import Database
from isom.orders import queries
from isom.orders import services as orders
from isom.orders.schemas import CreateCustomerOrder, CustomerLineIn, ReserveCommand
from tests.orders.support import TODAY, assert_projections_hold, do, order_plant, stock

THREADS = 6


def test_six_planners_cannot_reserve_more_than_is_in_stock(db: Database) -> None:
    order_plant(db)
    stock(db, "C-1", "CONN", "100")
    for i in range(THREADS):
        cmd = CreateCustomerOrder(
            number=f"SO-R{i}",
            customer="CUS",
            lines=[CustomerLineIn(item="CONN", quantity=Decimal(30), due_date=TODAY)],
        )
        do(db, orders.create_customer_order, cmd)
    gate = threading.Barrier(THREADS)

    def reserve(i: int) -> Any:
        gate.wait()
        try:
            cmd = ReserveCommand(order=f"SO-R{i}", line_no=1, quantity=Decimal(30))
            return do(db, orders.reserve, cmd)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(reserve, range(THREADS)))
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"OrderResult": 3, "InsufficientStock": 3}, outcomes  # 3 x 30 of 100 fit
    item_id = db.read(lambda s: queries.open_customer_demand(s)[0].item_id)
    assert db.read(queries.reserved_by_item) == {item_id: Decimal(90)}
    assert_projections_hold(db)
