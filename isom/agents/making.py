"""Making: the jobs the plan needs, reconciled with the jobs that exist.

Each open customer line of a made item has at most one job of its own that has not started
(its supply keeps its identity: the job names the line); each input of an open job's step
that is made has at most one child job of its own. Level by level (an item after every item
whose route consumes it), every such demand is netted: first what its own started jobs still
make, then supply nobody owns (free stock, purchase lines, jobs a planner made, started jobs
whose demand is gone) taken by priority (rush, normal, low) and due date, and the rest is what
its own job must make. Then the jobs are brought in line: made when missing, resized or
re-dated when they differ, cancelled when nothing needs them (a started job is never touched;
the alerts agent flags its surplus). The same plan twice changes nothing. Jobs are made
planned; `releasing.py` releases them, or moves their dates, once purchasing has bought.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy.orm import Session

from isom.agents import master, watch
from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.masterdata.models import Route
from isom.orders import queries as orders_queries
from isom.orders.enums import PRIORITY_RANK, Priority
from isom.planning import netting, projection, sources
from isom.production import queries as production_queries
from isom.production.queries import OpenJob

AGENT = "intake"
ZERO = Decimal(0)
NORMAL = PRIORITY_RANK[Priority.normal]


@dataclass(slots=True)
class Need:
    """A demand one job of its own serves: a customer line, or a made input of a job's step."""

    scope: str
    ref: str
    item_id: int
    quantity: Decimal
    date: dt.date
    rank: int
    line: str | None
    parent: str | None = None
    parent_step: int | None = None
    why: str = ""
    route: str = ""


@dataclass
class Pool:
    """Supply of one item that no demand owns, earliest first; demands take it by priority.

    Rows are sorted once before the first take after an add, and the rows taken up are
    skipped from then on (thousands of lines take from one pool)."""

    rows: list[list[Any]] = field(default_factory=list)
    at: int = 0
    ordered: bool = True

    def add(self, day: dt.date, quantity: Decimal, ref: str) -> None:
        if quantity > 0:
            self.rows.append([day, ref, quantity])
            self.ordered = False

    def take(self, need: Decimal) -> tuple[Decimal, list[str]]:
        """Take up to `need`; answer how much and from what."""
        if not self.ordered:
            self.rows.sort(key=lambda r: (r[0], r[1]))
            self.at, self.ordered = 0, True
        got, refs = ZERO, []
        while self.at < len(self.rows) and self.rows[self.at][2] <= 0:
            self.at += 1
        for n in range(self.at, len(self.rows)):
            row = self.rows[n]
            if need - got <= 0:
                break
            part = min(row[2], need - got)
            if part > 0:
                row[2] -= part
                got += part
                refs.append(f"{part.normalize():f} from {row[1]}")
        return got, refs


def _round_up(quantity: Decimal, places: int) -> Decimal:
    return quantity.quantize(Decimal(1).scaleb(-places), ROUND_CEILING).normalize() + ZERO


def _q(value: Decimal) -> str:
    return f"{value.normalize():f}"


def reconcile_need(
    need: Need,
    own: list[OpenJob],
    pool: Pool,
    *,
    places: int,
    today: dt.date,
    code: str,
    floors: dict[str, dt.date] | None = None,
) -> Proposal | None:
    """What a demand's own job must become: made, resized or re-dated, cancelled, or kept.

    A job moved later because its inputs come late (`releasing.py`) keeps its date while they
    still do: its floor (a day after its last input comes) holds it there."""
    started = [j for j in own if j.started]
    waiting = [j for j in own if not j.started]
    running = sum((j.remaining for j in started), ZERO)
    pooled, refs = pool.take(max(need.quantity - running, ZERO))
    target = _round_up(max(need.quantity - running - pooled, ZERO), places)
    due = max(need.date, today)
    keep = waiting[0] if waiting else None
    floor = (floors or {}).get(keep.number) if keep is not None else None
    if keep is not None and floor is not None and keep.due_date > due:
        due = max(due, min(keep.due_date, floor))
    covered = [f"{_q(running)} from its started jobs"] if running else []
    covered += refs
    why = (
        f"{need.why} needs {_q(need.quantity)} {code} by {need.date}; "
        f"{'; '.join(covered) or 'nothing else covers it'}"
    )
    if target <= 0:
        if keep is None:
            return None
        return _proposal(
            need,
            due,
            kind="work_order_cancel",
            situation=f"cancel|{keep.number}",
            rule="cancel-unneeded-job",
            supply=keep.number,
            explanation=f"{why}: {keep.number} ({_q(keep.quantity)}) is not needed; cancel it.",
            command={"work_order": keep.number, "reason": f"not needed by {need.ref}"},
        )
    if keep is None:
        return _create(need, target, due, code, why)
    if keep.due_date <= today and need.date <= today:
        due = keep.due_date  # late either way: the job keeps its date (no re-date every day)
    if keep.quantity == target and keep.due_date == due:
        return None
    return _proposal(
        need,
        due,
        kind="work_order_change",
        situation=f"change|{keep.number}|{target}|{due}",
        rule="resize-job",
        supply=keep.number,
        explanation=(
            f"{why}: {keep.number} changes from {_q(keep.quantity)} due {keep.due_date} "
            f"to {_q(target)} due {due} (it has not started)."
        ),
        command={"work_order": keep.number, "quantity": str(target), "due_date": due.isoformat()},
    )


def _proposal(need: Need, due: dt.date, **fields: Any) -> Proposal:
    return Proposal(
        agent=AGENT,
        scope=need.scope,
        priority=need.rank,
        item_id=need.item_id,
        demand=need.line or need.ref,
        date=due,
        **fields,
    )


def _create(need: Need, target: Decimal, due: dt.date, code: str, why: str) -> Proposal:
    if need.parent is None:
        return _proposal(
            need,
            due,
            kind="work_order",
            situation=f"make|{need.ref}|{target}|{due}",
            rule="make-netted",
            supply=f"route {need.route}",
            explanation=f"{why}. Make {_q(target)} by route {need.route}, due {due}.",
            command={
                "item": code,
                "quantity": str(target),
                "due_date": due.isoformat(),
                "customer_line": need.line,
            },
        )
    return _proposal(
        need,
        due,
        kind="child_work_order",
        situation=f"child|{need.ref}|{code}|{target}|{due}",
        rule="make-input",
        supply=f"route {need.route}",
        explanation=f"{why}. Make {_q(target)} by route {need.route}, due {due}, for {need.ref}.",
        command={
            "parent": need.parent,
            "parent_step": need.parent_step,
            "item": code,
            "quantity": str(target),
            "due_date": due.isoformat(),
        },
    )


def _gone(job: OpenJob, scope: str, code: str, what: str) -> Proposal:
    return Proposal(
        agent=AGENT,
        kind="work_order_cancel",
        scope=scope,
        situation=f"cancel|{job.number}",
        rule="cancel-unneeded-job",
        priority=NORMAL,
        item_id=job.item_id,
        demand=job.customer_line,
        supply=job.number,
        date=job.due_date,
        explanation=(
            f"{job.number} ({_q(job.quantity)} {code}) was made for {what}, which no longer "
            "needs it; it has not started, so it is cancelled."
        ),
        command={"work_order": job.number, "reason": f"{what} no longer needs it"},
    )


def plan_lines(
    session: Session,
    actor: agents.Actor,
    today: dt.date,
    demand: list[orders_queries.Demand],
    *,
    promised: dict[str, dt.date] | None = None,
) -> list[Any]:
    """Each open line of a made item gets the one job of its own its net need calls for
    (`promised`: when a new line can be done, said in its job's explanation)."""
    routes = master.routes(session)
    codes = master.codes(session)
    jobs = production_queries.open_jobs(session)
    projection.refresh_dirty(session, today)
    floors = watch.floors(session, {j.number: j for j in jobs})
    lines = {d.reference for d in demand}
    made_items = {d.item_id for d in demand if d.item_id in routes}
    pools = _pools(session, made_items)
    own: dict[str, list[OpenJob]] = defaultdict(list)
    wanted: list[Proposal] = []
    for j in jobs:
        if j.parent is not None or j.item_id not in made_items and j.customer_line is None:
            continue
        if j.customer_line is None:
            pools[j.item_id].add(j.due_date, j.remaining, j.number)  # a planner's job
        elif j.customer_line in lines:
            own[j.customer_line].append(j)
        elif j.started:
            pools[j.item_id].add(j.due_date, j.remaining, j.number)  # flagged by alerts
        else:
            wanted.append(_gone(j, f"line:gone:{j.number}", codes[j.item_id], j.customer_line))
    places = master.places(session)
    for d in demand:
        if d.item_id not in routes:
            continue
        need = Need(
            scope=f"line:{d.reference}",
            ref=d.reference,
            item_id=d.item_id,
            quantity=d.open_quantity - d.reserved_quantity,
            date=d.due_date,
            rank=d.rank[0],
            line=d.reference,
            why=f"{d.reference} ({d.priority.value}, {_q(d.reserved_quantity)} reserved"
            f"{_promised(d, promised or {})})",
            route=routes[d.item_id].code,
        )
        mine = own.get(d.reference, [])
        extra = [j for j in mine if not j.started][1:]
        for j in extra:
            wanted.append(
                _gone(j, f"line:{d.reference}:{j.number}", codes[j.item_id], "a second job")
            )
        p = reconcile_need(
            need,
            mine,
            pools[d.item_id],
            places=places.get(d.item_id, 0),
            today=today,
            code=codes[d.item_id],
            floors=floors,
        )
        if p is not None:
            wanted.append(p)
    return agents.reconcile(session, actor, AGENT, wanted, prefixes=("line:",))


def _promised(line: orders_queries.Demand, promised: dict[str, dt.date]) -> str:
    day = promised.get(line.reference)
    if day is None:
        return ""
    late = f", {(day - line.due_date).days} days late" if day > line.due_date else ""
    return f", can be done by {day}{late}"


def _pools(session: Session, items: set[int]) -> dict[int, Pool]:
    """Free stock and open purchase lines of the items: supply no demand owns."""
    pools: dict[int, Pool] = defaultdict(Pool)
    if not items:
        return pools
    today = dt.date.min
    stock = sources.on_hand(session, items)
    reserved = orders_queries.reserved_by_item(session, items)
    for item_id in items:
        pools[item_id].add(today, stock.get(item_id, ZERO) - reserved.get(item_id, ZERO), "stock")
    for s in sources.purchase_supply(session, items):
        pools[s.item_id].add(s.date, s.quantity, s.ref)
    return pools


def plan_inputs(
    session: Session, actor: agents.Actor, today: dt.date, demand: list[orders_queries.Demand]
) -> list[Any]:
    """Level by level below the lines: each made input of an open job's step gets its child."""
    routes = master.routes(session)
    levels = netting.low_level_codes(routes)
    codes = master.codes(session)
    ranks = {d.reference: d.rank[0] for d in demand}
    made: list[Any] = []
    by_level: dict[int, set[int]] = defaultdict(set)
    for item_id in routes:
        if levels.get(item_id, 0) > 0:
            by_level[levels[item_id]].add(item_id)
    for level in sorted(by_level):
        items = by_level[level]
        made += _plan_level(session, actor, today, items, codes, ranks, routes)
    return made


def _plan_level(
    session: Session,
    actor: agents.Actor,
    today: dt.date,
    items: set[int],
    codes: dict[int, str],
    ranks: dict[str, int],
    routes: dict[int, Route],
) -> list[Any]:
    jobs = production_queries.open_jobs(session)
    by_number = {j.number: j for j in jobs}
    floors = watch.floors(session, by_number)
    needs: list[Need] = []
    for d in sources.step_demand(session, items):
        parent, _, step = d.ref.rpartition("/")
        job = by_number.get(parent)
        if job is None:
            continue
        needs.append(
            Need(
                scope=f"input:{codes[d.item_id]}:{d.ref}",
                ref=d.ref,
                item_id=d.item_id,
                quantity=d.quantity,
                date=d.date,
                rank=ranks.get(job.customer_line or "", NORMAL),
                line=job.customer_line,
                parent=parent,
                parent_step=int(step),
                why=f"{d.ref} (for {job.customer_line or 'stock'})",
                route=routes[d.item_id].code,
            )
        )
    wanted_keys = {(n.parent, n.parent_step, n.item_id) for n in needs}
    pools = _pools(session, items)
    own: dict[tuple[str | None, int | None, int], list[OpenJob]] = defaultdict(list)
    wanted: list[Proposal] = []
    for j in jobs:
        if j.item_id not in items:
            continue
        key = (j.parent, j.parent_step, j.item_id)
        if j.parent is None:
            if j.customer_line is None:
                pools[j.item_id].add(j.due_date, j.remaining, j.number)
        elif key in wanted_keys:
            own[key].append(j)
        elif j.started:
            pools[j.item_id].add(j.due_date, j.remaining, j.number)
        else:
            what = f"{j.parent}/{j.parent_step}"
            wanted.append(
                _gone(j, f"input:{codes[j.item_id]}:gone:{j.number}", codes[j.item_id], what)
            )
    places = master.places(session)
    for n in sorted(needs, key=lambda n: (n.rank, n.date, n.ref)):
        mine = own.get((n.parent, n.parent_step, n.item_id), [])
        for j in [j for j in mine if not j.started][1:]:
            wanted.append(_gone(j, f"{n.scope}:{j.number}", codes[j.item_id], "a second job"))
        p = reconcile_need(
            n,
            mine,
            pools[n.item_id],
            places=places.get(n.item_id, 0),
            today=today,
            code=codes[n.item_id],
            floors=floors,
        )
        if p is not None:
            wanted.append(p)
    prefixes = tuple(f"input:{codes[i]}:" for i in items)
    return agents.reconcile(session, actor, AGENT, wanted, prefixes=prefixes)
