"""Purchasing: purchase orders from net requirements, per supplier and week.

Rule `buy-net-requirements`: every bought item's net requirement (its demand, the dependent
demand of jobs and planned jobs above it, less stock, open purchase lines and pending
proposals) is bought from its preferred supplier. The order is placed the supplier's lead time
before the need (or today, and then due today plus the lead time, flagged late); requirements
of one supplier due in the same ISO week are consolidated into one order, one line per item;
each line is raised to the supplier's minimum and rounded up to its multiple, and priced at
the best price break the quantity reaches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents import services as agents
from isom.agents.intake import pending_supply
from isom.agents.services import Proposal
from isom.masterdata.models import Item, Supplier, SupplierItem, Unit
from isom.planning import netting, sources
from isom.planning.models import PriceBreak
from isom.planning.netting import PlannedOrder

AGENT = "purchasing"
ZERO = Decimal(0)


def lot_size(si: SupplierItem, need: Decimal, decimals: int) -> Decimal:
    """The quantity to order for a need: at least the minimum, a whole number of multiples."""
    qty = max(need, si.min_order_qty)
    if si.order_multiple > 0:
        qty = (qty / si.order_multiple).to_integral_value(ROUND_CEILING) * si.order_multiple
    return qty.quantize(Decimal(1).scaleb(-decimals), ROUND_CEILING).normalize() + ZERO


def unit_price(si: SupplierItem, breaks: list[PriceBreak], quantity: Decimal) -> Decimal:
    """The list price, or the lowest price break the quantity reaches."""
    prices = [b.price for b in breaks if quantity >= b.min_quantity]
    return min([si.price, *prices])


@dataclass
class Line:
    """One purchase line being formed: the item, what it serves, and the lot-sized quantity."""

    item_id: int
    offer: SupplierItem
    due: dt.date
    need: Decimal
    quantity: Decimal
    price: Decimal
    serves: list[PlannedOrder] = field(default_factory=list)
    covers_later: list[PlannedOrder] = field(default_factory=list)


def run(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Propose (or place) the purchase orders the net requirements call for."""
    plan = netting.net(session, today, extra_supply=pending_supply(session, today))
    buys = [o for o in plan.planned if not o.make]
    if not buys:
        return []
    offers = sources.supplier_items(session, {o.item_id for o in buys})
    codes = sources.item_codes(session)
    by_item: dict[int, list[tuple[PlannedOrder, dt.date]]] = defaultdict(list)
    for o in buys:
        choices = offers.get(o.item_id)
        if not choices:
            continue  # intake sends unbuyable customer items to engineering; alerts flag the rest
        lead = dt.timedelta(days=choices[0].lead_time_days)
        due = o.due_date if o.due_date - lead >= today else today + lead
        by_item[o.item_id].append((o, due))
    groups: dict[tuple[int, str], list[Line]] = defaultdict(list)
    for item_id, wanted in by_item.items():
        si = offers[item_id][0]
        places = _decimals(session, item_id)
        breaks = list(
            session.scalars(select(PriceBreak).where(PriceBreak.supplier_item_id == si.id))
        )
        carry, last = ZERO, None
        wanted.sort(key=lambda w: (w[1], w[0].demand.ref))
        for period, rows in groupby(wanted, key=lambda w: _period(w[1])):
            part = [o for o, _ in rows]
            total = sum((o.quantity for o in part), ZERO)
            if last is not None and total <= carry:
                carry -= total  # the previous line's minimum or multiple already covers this
                last.covers_later += part
                continue
            need = total - carry
            qty = lot_size(si, need, places)
            carry = qty - need
            due = min(d for o, d in wanted if o in part)
            last = Line(item_id, si, due, need, qty, unit_price(si, breaks, qty), part)
            groups[(si.supplier_id, period)].append(last)
    made = []
    for (supplier_id, period), lines in sorted(groups.items()):
        supplier = session.get(Supplier, supplier_id)
        assert supplier is not None
        made.append(agents.decide(session, actor, _order(supplier, period, lines, codes)))
    return [m for m in made if m is not None]


def _period(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _order(supplier: Supplier, period: str, lines: list[Line], codes: dict[int, str]) -> Proposal:
    why = []
    for line in sorted(lines, key=lambda x: codes[x.item_id]):
        si = line.offer
        served = ", ".join(f"{o.quantity} for {o.demand.ref} on {o.due_date}" for o in line.serves)
        late = [o.demand.ref for o in line.serves if line.due > o.due_date]
        later = ", ".join(f"{o.quantity} for {o.demand.ref}" for o in line.covers_later)
        why.append(
            f"{codes[line.item_id]}: net requirement {line.need} ({served}); lead time "
            f"{si.lead_time_days} d, minimum {si.min_order_qty}, multiple {si.order_multiple} "
            f"-> order {line.quantity} at {line.price}"
            + (f"; the surplus also covers {later}" if later else "")
            + (f"; arrives after the need of {', '.join(late)}" if late else "")
        )
    body = [
        {
            "item": codes[line.item_id],
            "quantity": str(line.quantity),
            "due_date": line.due.isoformat(),
            "unit_price": str(line.price),
        }
        for line in sorted(lines, key=lambda x: codes[x.item_id])
    ]
    everything = [o for line in lines for o in line.serves + line.covers_later]
    proposal = Proposal(
        agent=AGENT,
        kind="purchase_order",
        situation=f"buy|{supplier.code}|{period}|"
        + ";".join(f"{b['item']}:{b['quantity']}:{b['due_date']}" for b in body),
        rule="buy-net-requirements",
        priority=min(o.demand.rank for o in everything),
        demand="; ".join(sorted({o.demand.ref for o in everything}))[:200],
        supply=f"supplier {supplier.code}",
        date=min(line.due for line in lines),
        explanation=f"Buy from {supplier.code} for week {period}: " + " | ".join(why),
    )
    proposal.command = {
        "supplier": supplier.code,
        "source": "agent",
        "external_ref": proposal.key,
        "approve": True,
        "note": f"proposed by the purchasing agent for week {period}",
        "lines": body,
    }
    return proposal


def _decimals(session: Session, item_id: int) -> int:
    item = session.get(Item, item_id)
    unit = session.get(Unit, item.base_unit_id) if item else None
    return unit.decimals if unit else 0
