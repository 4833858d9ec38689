"""Multi-level netting: net requirements per item, level by level down the route BOMs.

Items are netted in low-level-code order (an item after every item whose route consumes it).
Each item's demand (customer lines, open jobs' steps, and the dependent demand of planned
orders above it) is pegged to its supply (stock, open purchase lines, open jobs, pending
proposals) by priority then date; what stays unpegged becomes a planned order for that
demand: a job for a made item, whose route inputs become dependent demand the day before it
is due, or a purchase for a bought item. Every planned order keeps the demand it serves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from sqlalchemy.orm import Session

from isom.masterdata.models import Route
from isom.planning import sources
from isom.planning.projection import peg
from isom.planning.sources import CONSUMPTION_LEAD, SIX, Demand, Supply

ZERO = Decimal(0)


@dataclass(slots=True)
class PlannedOrder:
    """A net requirement turned into an order to make or buy, for the demand it serves."""

    item_id: int
    quantity: Decimal
    due_date: dt.date
    demand: Demand
    make: bool
    parent: PlannedOrder | None = None
    parent_step: int | None = None
    children: list[PlannedOrder] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """A stable name: the demand it serves and the item it makes or buys."""
        return f"plan:{self.demand.ref}>{self.item_id}"

    @property
    def root(self) -> PlannedOrder:
        node = self
        while node.parent is not None:
            node = node.parent
        return node


@dataclass
class NetResult:
    """Planned orders (made and bought) and where supply arrives later than the demand needs.

    The agents reconcile jobs and purchases with their own pass (`agents/making.py`,
    `agents/purchasing.py`); this is the planner's view of what is missing."""

    planned: list[PlannedOrder]
    late: list[tuple[int, str, str, dt.date, dt.date]]  # item, demand, supply, needed, arrives
    levels: dict[int, int]


def low_level_codes(routes: dict[int, Route]) -> dict[int, int]:
    """The deepest level at which each item appears in any route BOM (0 = top)."""
    children = {
        item: {si.item_id for st in r.steps for si in st.inputs} for item, r in routes.items()
    }
    level: dict[int, int] = defaultdict(int)
    for item in children:
        level.setdefault(item, 0)
    changed = True
    rounds = 0
    while changed and rounds < 50:  # a cyclic BOM stops deepening after 50 levels
        changed = False
        rounds += 1
        for parent, kids in children.items():
            for kid in kids:
                if level[kid] < level[parent] + 1:
                    level[kid] = level[parent] + 1
                    changed = True
    return dict(level)


def net(session: Session, today: dt.date) -> NetResult:
    """Net every item's demand against its supply, level by level, and plan what is missing."""
    routes = sources.routes_by_item(session)
    stock = sources.on_hand(session)
    supplies: dict[int, list[Supply]] = defaultdict(list)
    demands: dict[int, list[Demand]] = defaultdict(list)
    for s in sources.purchase_supply(session) + sources.production_supply(session):
        supplies[s.item_id].append(s)
    for d in sources.customer_demand(session) + sources.step_demand(session):
        demands[d.item_id].append(d)
    return net_rows(routes, stock, supplies, demands, today)


def net_rows(
    routes: dict[int, Route],
    stock: dict[int, Decimal],
    supplies: dict[int, list[Supply]],
    demands: dict[int, list[Demand]],
    today: dt.date,
) -> NetResult:
    """Netting over rows already read (the benchmark and the agents share this)."""
    levels = low_level_codes(routes)
    boms = {
        item: [(st.sequence, si.item_id, si.quantity_per) for st in r.steps for si in st.inputs]
        for item, r in routes.items()
    }
    items = set(stock) | set(supplies) | set(demands) | set(levels)
    parents: dict[str, tuple[PlannedOrder, int]] = {}
    planned: list[PlannedOrder] = []
    late: list[tuple[int, str, str, dt.date, dt.date]] = []
    for item_id in sorted(items, key=lambda i: (levels.get(i, 0), i)):
        item_demand = demands.get(item_id, [])
        if not item_demand:
            continue
        pegs = peg(stock.get(item_id, ZERO), supplies.get(item_id, []), item_demand, today)
        by_ref = {d.ref: d for d in item_demand}
        bom = boms.get(item_id)
        for p in pegs:
            if p.supply is not None:
                if p.late and p.supply_date is not None:
                    late.append((item_id, p.demand, p.supply, p.demand_date, p.supply_date))
                continue
            demand = by_ref[p.demand]
            order = PlannedOrder(
                item_id=item_id,
                quantity=p.quantity,
                due_date=max(demand.date, today),
                demand=demand,
                make=bom is not None,
            )
            above = parents.get(demand.ref)
            if above is not None:
                order.parent, order.parent_step = above
                above[0].children.append(order)
            planned.append(order)
            if bom is not None:
                _explode(order, bom, demands, parents)
    return NetResult(planned=planned, late=late, levels=levels)


def _explode(
    order: PlannedOrder,
    bom: list[tuple[int, int, Decimal]],
    demands: dict[int, list[Demand]],
    parents: dict[str, tuple[PlannedOrder, int]],
) -> None:
    """A planned job's route inputs become dependent demand the day before it is due."""
    day = order.due_date - CONSUMPTION_LEAD
    base = order.ref
    for sequence, item_id, per in bom:
        ref = f"{base}#{sequence}"
        quantity = (per * order.quantity).quantize(SIX, ROUND_CEILING)
        demands[item_id].append(Demand(item_id, day, quantity, "planned", ref, order.demand.rank))
        parents[ref] = (order, sequence)
