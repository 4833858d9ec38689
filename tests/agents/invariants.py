"""What must hold of the agents' plan once they settle (issue 12's bar), read as a planner
would read it: lines and their jobs, purchase orders per supplier and week, projections and
alerts. Each check answers the first thing that is wrong, so a failure says what."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents import purchasing, watch
from isom.agents.models import Alert, AlertStatus, Decision
from isom.db import Database
from isom.masterdata.models import SupplierItem
from isom.orders import queries as orders_queries
from isom.planning import projection, sources
from isom.production import queries as production_queries

ZERO = Decimal(0)


def settle(db: Database, run: object, rounds: int = 4) -> int:
    """Run the agents until a run decides nothing; answer how many runs that took."""
    for n in range(1, rounds + 1):
        made = run(db)  # type: ignore[operator]
        if not any(made.values()):
            return n
    raise AssertionError(f"the agents did not settle in {rounds} runs: {made}")


def check(db: Database, today: dt.date) -> None:
    """Every invariant of the settled plan."""
    db.read(lambda s: _check(s, today))


def _check(s: Session, today: dt.date) -> None:
    demand = orders_queries.open_customer_demand(s)
    jobs = production_queries.open_jobs(s)
    routes = sources.routes_by_item(s)
    engineering = set(s.scalars(select(Decision.demand).where(Decision.kind == "engineering")))
    lines = {d.reference: d for d in demand}
    tops: dict[str, list[production_queries.OpenJob]] = defaultdict(list)
    for j in jobs:
        if j.parent is None:
            assert j.customer_line in lines, f"{j.number} serves {j.customer_line}: not open"
            tops[str(j.customer_line)].append(j)
    for d in demand:
        need = d.open_quantity - d.reserved_quantity
        mine = tops.get(d.reference, [])
        assert len(mine) <= 1, f"{d.reference} has {len(mine)} top-level jobs"
        if d.item_id in routes:
            made = sum((j.quantity for j in mine), ZERO)
            assert made == need.to_integral_value(ROUND_CEILING), (d.reference, need, made)
        elif need > 0 and d.item_id not in sources.supplier_items(s, {d.item_id}):
            assert d.reference in engineering, f"{d.reference} is unserved and unexplained"
    _check_children(s, jobs)
    _check_purchases(s, today)
    _check_projections(s, today, jobs)
    keys = Counter(
        (a.condition, a.subject)
        for a in s.scalars(select(Alert).where(Alert.status == AlertStatus.open))
    )
    assert all(n == 1 for n in keys.values()), keys


def _check_children(s: Session, jobs: list[production_queries.OpenJob]) -> None:
    """Each child job makes exactly what its parent's step still needs of its item."""
    numbers = {j.number for j in jobs}
    needs = {(d.ref, d.item_id): d.quantity for d in sources.step_demand(s)}
    seen: Counter[tuple[str, int]] = Counter()
    for j in jobs:
        if j.parent is None:
            continue
        assert j.parent in numbers, f"{j.number} is the child of {j.parent}, which is not open"
        ref = (f"{j.parent}/{j.parent_step}", j.item_id)
        seen[ref] += 1
        assert ref in needs, f"{j.number}: nothing of {ref} needs it"
        assert j.quantity == needs[ref].to_integral_value(ROUND_CEILING), (j.number, needs[ref])
    assert all(n == 1 for n in seen.values()), seen


def _check_purchases(s: Session, today: dt.date) -> None:
    """One open agent order per supplier and week; what they bring is needed, but for lots."""
    own = orders_queries.changeable_purchase_orders(s, purchasing.SOURCE)
    windows = Counter((o.supplier, purchasing.week(min(x.due_date for x in o.lines))) for o in own)
    assert all(n == 1 for n in windows.values()), windows
    bought: dict[int, Decimal] = defaultdict(Decimal)
    count: Counter[int] = Counter()
    for o in own:
        assert len({x.item_id for x in o.lines}) == len(o.lines), f"{o.number} repeats an item"
        for x in o.lines:
            bought[x.item_id] += x.quantity
            count[x.item_id] += 1
    items = set(bought)
    stock = sources.on_hand(s, items)
    demand = defaultdict(Decimal)
    for d in sources.customer_demand(s, items) + sources.step_demand(s, items):
        demand[d.item_id] += d.quantity
    owned = {f"{o.number}/{x.line_no}" for o in own for x in o.lines}
    other = defaultdict(Decimal)
    for p in sources.purchase_supply(s, items):
        if p.ref not in owned:
            other[p.item_id] += p.quantity
    for item_id, qty in bought.items():
        si = s.scalars(select(SupplierItem).where(SupplierItem.item_id == item_id)).first()
        assert si is not None
        net = max(demand[item_id] - stock.get(item_id, ZERO) - other[item_id], ZERO)
        lot = max(si.min_order_qty, si.order_multiple)
        assert net > 0, f"item {item_id}: {qty} bought, nothing needs it"
        assert qty - net < lot * count[item_id], f"item {item_id}: {qty} bought for {net}"


def _check_projections(s: Session, today: dt.date, jobs: list[production_queries.OpenJob]) -> None:
    """Negative balance => shortage and its alert; a late or unsupplied input => job at risk."""
    fresh = projection.compute(s, None, today)
    alerts = {(a.condition, a.subject) for a in watch.open_alerts(s)}
    codes = sources.item_codes(s)
    numbers = {j.number for j in jobs}
    for item_id, p in fresh.items():
        low = min(Decimal(e["balance"]) for e in p.entries)
        if low < 0:
            assert p.shortage_quantity >= -low, (codes[item_id], low, p.shortage_quantity)
            assert ("shortage", codes[item_id]) in alerts, f"{codes[item_id]} short, no alert"
        else:
            assert ("shortage", codes[item_id]) not in alerts, f"{codes[item_id]}: stale alert"
        for g in p.pegging:
            job = g.demand.rpartition("/")[0]
            if job in numbers and (g.supply is None or g.late):
                assert ("at-risk", job) in alerts, f"{job}: {codes[item_id]} late, not flagged"
        stored = projection.stored(s, item_id)
        if stored is not None:
            assert Decimal(stored.end_quantity) == p.end_quantity, codes[item_id]
