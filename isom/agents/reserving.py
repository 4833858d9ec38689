"""Re-pegging stock by priority: a line short of free stock takes back what lower-priority
lines hold.

Rule `take-back-reservation`: walking the open lines as intake serves them (rush, normal,
low, then due date), a line whose need free stock cannot cover takes back the reservations of
lines of a lower priority (the lowest and latest first) that no ship order has released yet:
each such line's reservation is given back (one decision, saying for whom), the short line
reserves from what came free, and every line that gave reserves again, at its own turn, what
is still free (it is then short, and the plan makes or buys for it). Lines of the same
priority never take from each other: the first served keeps its stock.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy.orm import Session

from isom.agents.services import Proposal
from isom.orders import queries as orders_queries
from isom.orders.queries import Demand
from isom.planning import sources

AGENT = "intake"
ZERO = Decimal(0)


def _q(value: Decimal) -> str:
    return f"{value.normalize():f}"


def take_back(session: Session) -> list[Proposal]:
    """Give back lower-priority reservations to the lines short of free stock, and reserve."""
    demand = orders_queries.open_customer_demand(session)
    released = orders_queries.released_for_shipping(session)
    stock = sources.on_hand(session)
    reserved = orders_queries.reserved_by_item(session)
    free = {i: q - reserved.get(i, ZERO) for i, q in stock.items()}
    by_item: dict[int, list[Demand]] = defaultdict(list)
    for d in demand:
        by_item[d.item_id].append(d)
    made: list[Proposal] = []
    for item_id, lines in by_item.items():
        made += _item(lines, free.get(item_id, ZERO), released)
    return made


def _holders(lines: list[Demand], released: dict[int, Decimal]) -> list[Demand]:
    """Lines holding stock no ship order has released: lowest, latest first (read once per
    item, not once per short line: most lines hold nothing)."""
    return sorted(
        (d for d in lines if d.reserved_quantity > 0 and released.get(d.line_id, ZERO) == 0),
        key=lambda d: d.rank,
        reverse=True,
    )


def _item(lines: list[Demand], free: Decimal, released: dict[int, Decimal]) -> list[Proposal]:
    """One item's lines in the order intake serves them; decisions only where stock moves."""
    gave: dict[str, str] = {}  # line -> whom it gave its reservation to
    takers: set[str] = set()
    holders = _holders(lines, released)
    made: list[Proposal] = []
    for d in lines:
        held = ZERO if d.reference in gave else d.reserved_quantity
        need = d.open_quantity - held
        if d.reference in gave:
            take = min(need, free)
            free -= take
            if take > 0:
                made.append(_reserve_again(d, take, gave[d.reference]))
            continue
        if need <= free:
            free -= max(need, ZERO)
            continue
        short = need - free
        rank = d.rank[0]
        for donor in (h for h in holders if h.rank[0] > rank):
            if short <= 0:
                break
            if donor.reference in gave:
                continue
            gave[donor.reference] = d.reference
            takers.add(d.reference)
            free += donor.reserved_quantity
            short -= donor.reserved_quantity
            made.append(_give_back(donor, d))
        if free > 0 and d.reference in takers:
            take = min(need, free)
            free -= take
            made.append(_reserve_taken(d, take, held))
        else:
            free -= min(need, free)
    return made


def _give_back(donor: Demand, taker: Demand) -> Proposal:
    return Proposal(
        agent=AGENT,
        kind="unreserve",
        situation=f"take-back|{donor.reference}|{_q(donor.reserved_quantity)}|{taker.reference}"
        f"|{_q(taker.open_quantity)}|{_q(taker.reserved_quantity)}",
        rule="take-back-reservation",
        priority=taker.rank[0],
        item_id=donor.item_id,
        demand=taker.reference,
        supply=donor.reference,
        date=taker.due_date,
        explanation=(
            f"{taker.reference} ({taker.priority.value}) needs {_q(taker.open_quantity)} "
            f"{taker.item} by {taker.due_date} and free stock is short; "
            f"{donor.reference} ({donor.priority.value}, due {donor.due_date}) gives back the "
            f"{_q(donor.reserved_quantity)} it holds (nothing of it is released to a ship "
            "order): a higher priority is served first."
        ),
        command={"order": donor.order_number, "line_no": donor.line_no},
    )


def reserve(d: Demand, take: Decimal, *, situation: str, rule: str, explanation: str) -> Proposal:
    """Propose to set `take` of the free stock aside for a customer line (ship from stock)."""
    return Proposal(
        agent=AGENT,
        kind="reserve",
        situation=situation,
        rule=rule,
        priority=d.rank[0],
        item_id=d.item_id,
        demand=d.reference,
        supply="stock",
        date=d.due_date,
        explanation=explanation,
        command={"order": d.order_number, "line_no": d.line_no, "quantity": str(take)},
    )


def _reserve_taken(d: Demand, take: Decimal, held: Decimal) -> Proposal:
    return reserve(
        d,
        take,
        situation=f"reserve-taken|{d.reference}|{_q(d.open_quantity)}|{_q(held)}|{_q(take)}",
        rule="take-back-reservation",
        explanation=(
            f"{d.reference} ({d.priority.value}) needs {_q(d.open_quantity)} {d.item} by "
            f"{d.due_date}, {_q(held)} reserved; {_q(take)} of the stock lines of a lower "
            "priority gave back is set aside for it."
        ),
    )


def _reserve_again(d: Demand, take: Decimal, taker: str) -> Proposal:
    return reserve(
        d,
        take,
        situation=f"reserve-again|{d.reference}|{_q(d.reserved_quantity)}|{taker}|{_q(take)}",
        rule="take-back-reservation",
        explanation=(
            f"{d.reference} ({d.priority.value}) gave back its {_q(d.reserved_quantity)} "
            f"{d.item} to {taker}; {_q(take)} of it is still free after the lines before "
            "it and is set aside for it again."
        ),
    )
