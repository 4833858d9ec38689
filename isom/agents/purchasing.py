"""Purchasing: one purchase order per supplier and week, reconciled with the plan.

Rule `buy-net-requirements`: for every bought item, the projected balance (stock, plus purchase
lines the agent does not own, less customer lines and the open jobs' step inputs, by date)
says where it would go negative and by how much: that is the net requirement. Each is bought
from the preferred supplier, due at the need (or today plus the lead time when the need comes
sooner, and then said to be late); the requirements of one supplier due in the same ISO week
make one order (`agent` source), one line per item, raised to the minimum, rounded up to the
multiple, priced at the best price break, the surplus of one week covering the next weeks
first. The orders the agent placed and no one has sent yet are then brought in line: a missing
window is ordered, a line is added, resized, re-dated or cancelled, an order no longer needed
is cancelled. Only jobs that exist are bought for, so nothing is bought for a job never made.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents import master
from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.masterdata.models import SupplierItem
from isom.orders import queries as orders_queries
from isom.planning import sources

AGENT = "purchasing"
SOURCE = "agent"
ZERO = Decimal(0)


def lot_size(si: SupplierItem, need: Decimal, places: int) -> Decimal:
    """The quantity to order for a need: at least the minimum, a whole number of multiples."""
    qty = max(need, si.min_order_qty)
    if si.order_multiple > 0:
        qty = (qty / si.order_multiple).to_integral_value(ROUND_CEILING) * si.order_multiple
    return qty.quantize(Decimal(1).scaleb(-places), ROUND_CEILING).normalize() + ZERO


def unit_price(
    si: SupplierItem, breaks: list[tuple[Decimal, Decimal]], quantity: Decimal
) -> Decimal:
    """The list price, or the lowest price break (from quantity, price) the quantity reaches."""
    prices = [price for least, price in breaks if quantity >= least]
    return min([si.price, *prices])


def week(day: dt.date) -> str:
    """The order window of a due date: its ISO week."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


@dataclass(slots=True)
class Need:
    """Where an item's projected balance would go negative: how much, when, for which demand."""

    date: dt.date
    quantity: Decimal
    demand: str


@dataclass
class Line:
    """One line of the plan's order for a supplier's window, and the needs it serves."""

    offer: SupplierItem
    code: str
    need: Decimal
    quantity: Decimal
    due: dt.date
    price: Decimal
    serves: list[tuple[Need, dt.date]]
    covers: list[Need] = field(default_factory=list)

    @property
    def item_id(self) -> int:
        return self.offer.item_id

    @property
    def late(self) -> list[str]:
        return sorted({n.demand for n, due in self.serves if due > n.date})

    def why(self) -> str:
        """The line's reasons: what it serves, the supplier's terms, what its surplus covers."""
        si = self.offer
        served = ", ".join(f"{_q(n.quantity)} for {n.demand} on {n.date}" for n, _ in self.serves)
        later = ", ".join(f"{_q(n.quantity)} for {n.demand}" for n in self.covers)
        return (
            f"{self.code}: net requirement {_q(self.need)} ({served[:600]}); lead time "
            f"{si.lead_time_days} d, minimum {_q(si.min_order_qty)}, multiple "
            f"{_q(si.order_multiple)} -> order {_q(self.quantity)} at {self.price}"
            + (f"; the surplus also covers {later[:300]}" if later else "")
            + (f"; arrives after the need of {', '.join(self.late[:10])}" if self.late else "")
        )


def _q(value: Decimal) -> str:
    return f"{value.normalize():f}"


def net_needs(
    stock: Decimal, supplies: list[sources.Supply], demands: list[sources.Demand], today: dt.date
) -> list[Need]:
    """Walk the balance by date (supplies first on a day): each dip below zero is a need."""
    moves = [(max(s.date, today), 0, s.quantity, s.ref) for s in supplies]
    moves += [(max(d.date, today), 1, -d.quantity, d.ref) for d in demands]
    moves.sort(key=lambda m: (m[0], m[1], m[3]))
    balance, out = stock, []
    for day, _, qty, ref in moves:
        balance += qty
        if balance < 0:
            out.append(Need(day, -balance, ref))
            balance = ZERO
    return out


def plan_item(
    si: SupplierItem,
    code: str,
    needs: list[Need],
    breaks: list[tuple[Decimal, Decimal]],
    places: int,
    today: dt.date,
) -> dict[str, Line]:
    """An item's lines per window: lot-sized, the surplus of a window covering later ones."""
    lead = dt.timedelta(days=si.lead_time_days)
    windows: dict[str, list[tuple[Need, dt.date]]] = defaultdict(list)
    for n in needs:
        due = n.date if n.date - lead >= today else today + lead
        windows[week(due)].append((n, due))
    carry, out, last = ZERO, {}, None
    for window in sorted(windows):
        rows = windows[window]
        total = sum((n.quantity for n, _ in rows), ZERO)
        if last is not None and total <= carry:
            carry -= total  # the surplus of the previous line covers this window
            last.covers += [n for n, _ in rows]
            continue
        need = total - carry
        qty = lot_size(si, need, places)
        carry = qty - need
        due = min(d for _, d in rows)
        last = Line(si, code, need, qty, due, unit_price(si, breaks, qty), rows)
        out[window] = last
    return out


def run(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Reconcile the agent's purchase orders with the net requirements of every bought item."""
    routes = master.routes(session)
    offers = {i: o for i, o in master.offers(session).items() if i not in routes}
    own = orders_queries.changeable_purchase_orders(session, SOURCE)
    owned = {f"{o.number}/{line.line_no}" for o in own for line in o.lines}
    items = set(offers)
    stock = sources.on_hand(session, items)
    supplies: dict[int, list[sources.Supply]] = defaultdict(list)
    for s in sources.purchase_supply(session, items) + sources.production_supply(session, items):
        if s.ref not in owned:
            supplies[s.item_id].append(s)
    demands: dict[int, list[sources.Demand]] = defaultdict(list)
    for d in sources.customer_demand(session, items) + sources.step_demand(session, items):
        demands[d.item_id].append(d)
    codes = master.codes(session)
    places = master.places(session)
    breaks = master.price_breaks(session)
    plan: dict[tuple[int, str], list[Line]] = defaultdict(list)
    for item_id in sorted(demands):
        needs = net_needs(stock.get(item_id, ZERO), supplies[item_id], demands[item_id], today)
        if not needs:
            continue
        si = offers[item_id][0]
        for window, line in plan_item(
            si, codes[item_id], needs, breaks.get(si.id, []), places.get(item_id, 0), today
        ).items():
            plan[(si.supplier_id, window)].append(line)
    wanted = _reconcile(plan, own, master.suppliers(session), codes)
    return agents.reconcile(session, actor, AGENT, wanted, prefixes=("po:",))


def _reconcile(
    plan: dict[tuple[int, str], list[Line]],
    own: list[orders_queries.OwnOrder],
    suppliers: dict[int, str],
    codes: dict[int, str],
) -> list[Proposal]:
    """The changes that bring the agent's open orders in line with the plan's windows."""
    existing: dict[tuple[str, str], orders_queries.OwnOrder] = {}
    wanted: list[Proposal] = []
    for held in own:
        window = week(min((x.due_date for x in held.lines), default=dt.date.min))
        slot = (held.supplier, window)
        if slot in existing or not held.lines:
            wanted.append(_cancel(held, f"po:{held.supplier}:{window}:{held.number}"))
        else:
            existing[slot] = held
    planned = {(suppliers[s], w): lines for (s, w), lines in plan.items()}
    for slot in sorted(set(planned) | set(existing)):
        supplier, window = slot
        order, lines = existing.get(slot), planned.get(slot, [])
        scope = f"po:{supplier}:{window}"
        if not lines:
            if order is not None:
                wanted.append(_cancel(order, scope))
            continue
        proposal = _order(supplier, window, order, lines, scope)
        if proposal is not None:
            wanted.append(proposal)
    return wanted


def _cancel(order: orders_queries.OwnOrder, scope: str) -> Proposal:
    return Proposal(
        agent=AGENT,
        kind="purchase_cancel",
        scope=scope,
        situation=f"cancel|{order.number}",
        rule="cancel-unneeded-purchase",
        supply=f"supplier {order.supplier}",
        demand=order.number,
        explanation=(
            f"{order.number} to {order.supplier} is no longer needed: the plan covers its "
            "items otherwise (or another order of the same week does), so it is cancelled."
        ),
        command={"order": order.number, "reason": "no demand needs it any more"},
    )


def _order(
    supplier: str,
    window: str,
    order: orders_queries.OwnOrder | None,
    lines: list[Line],
    scope: str,
) -> Proposal | None:
    """A new order for the window, or the changes that make the window's order the plan's."""
    lines = sorted(lines, key=lambda x: x.code)
    current = {x.item_id: x for x in order.lines} if order else {}
    seen: set[int] = set()
    cancel = []
    for x in order.lines if order else []:
        if x.item_id in seen or x.item_id not in {line.item_id for line in lines}:
            cancel.append(x.line_no)
        seen.add(x.item_id)
    next_no = max((x.line_no for x in order.lines), default=0) + 1 if order else 1
    body = []
    for line in lines:
        have = current.get(line.item_id)
        if have is not None and (have.quantity, have.due_date) == (line.quantity, line.due):
            continue
        row: dict[str, Any] = {
            "item": line.code,
            "quantity": str(line.quantity),
            "due_date": line.due.isoformat(),
            "unit_price": str(line.price),
        }
        if have is not None:
            row["line_no"] = have.line_no
        elif order is not None:
            row["line_no"], next_no = next_no, next_no + 1
        body.append(row)
    if not body and not cancel:
        return None
    explanation = (
        f"Buy from {supplier} for week {window}"
        + (f" (changes {order.number})" if order else "")
        + ": "
        + " | ".join(line.why() for line in lines)
    )
    command: dict[str, Any] = {
        "supplier": supplier,
        "source": SOURCE,
        "approve": True,
        "note": f"proposed by the purchasing agent for week {window}",
        "lines": body or [_row(lines[0], current)],
    }
    if order is not None:
        command["number"] = order.number
        command["cancel_lines"] = cancel
    return Proposal(
        agent=AGENT,
        kind="purchase_order",
        scope=scope,
        situation="buy|" + ";".join(f"{b['item']}:{b['quantity']}:{b['due_date']}" for b in body),
        rule="buy-net-requirements",
        priority=1,
        demand=f"week {window}",
        supply=f"supplier {supplier}",
        date=min(line.due for line in lines),
        explanation=explanation,
        command=command,
    )


def _row(line: Line, current: dict[int, orders_queries.OwnLine]) -> dict[str, Any]:
    """An unchanged line named again (an order update needs one line)."""
    have = current[line.item_id]
    return {
        "line_no": have.line_no,
        "item": line.code,
        "quantity": str(have.quantity),
        "due_date": have.due_date.isoformat(),
        "unit_price": str(line.price),
    }
