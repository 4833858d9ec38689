"""CP-SAT improves a plan by neighbourhood search, warm-started from it, with a price on moves.

A model of every operation of a plant (a thousand, with alternatives and breaks) takes CP-SAT
longer to build and presolve than the few seconds an improvement may take. So it solves many
small ones instead (large neighbourhood search): each frees some operations and keeps every
other operation where the current plan has it. First the jobs the event pushed past their
published end, heaviest first: each searched for near its published slots (not hinted where
the repair put it, at the end of a full plan, out of reach of a small model), with the
operations around those slots free to make room. Then whole late jobs and lighter ones that
may take each other's places, or a stretch of the plan in time order with a late job's.
A fixed operation is then only a constant: a bound on its job's free neighbours (precedence)
and a busy span on its workstation. Each small model is hinted with the current plan, so
CP-SAT starts from it; a better answer becomes the current plan. The time limit counts
everything, building included.

Within a model: one interval per workstation able to do an operation (exactly one present);
a workstation runs one operation at a time and none in its unavailable time, except that an
operation allowed to span a break takes the break inside it and grows by its length;
precedence along routes and from child jobs; material release dates; at most as many
operations of a skill at once as there are people with it. The objective is weighted
tardiness first, then a price per operation moved from the published plan, then flow time.
Operations running on the floor, and those planned to start within the frozen horizon, never
move.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import NamedTuple

from ortools.sat.python import cp_model

from isom.planning.scheduling.model import (
    FLOW,
    MOVE,
    TARDINESS,
    Operation,
    Plan,
    Problem,
    Slot,
    cost,
)
from isom.planning.scheduling.timeline import covering, finish

#: Operations freed by the first neighbourhood; it grows while CP-SAT proves them optimal
#: within the step and shrinks when it does not.
FREE = 60
FREE_RANGE = (30, 400)
#: How far (minutes) a freed operation may move either way: a day.
RADIUS = 1440
#: How often a neighbourhood brings back a job an event pushed past its published end (while
#: there is one not tried in this round), and the minutes around its published slots whose
#: operations it frees to make room.
BACK_SHARE = 0.5
BACK = 240
#: Else how often it frees whole jobs, and how often a stretch before a late job's end (else
#: a stretch anywhere).
SWAP_SHARE = 0.2
LATE_SHARE = 0.6
#: Seconds of CP-SAT per neighbourhood.
STEP = 0.3


class Pick(NamedTuple):
    """One neighbourhood: what it frees, what of that may go anywhere, CP-SAT's seconds."""

    free: set[str]
    anywhere: set[str]
    seconds: float
    aim: Plan  # slots to search around (and hint) instead of the current ones


@dataclass
class _Shop:
    """What every neighbourhood of one problem shares, computed once."""

    problem: Problem
    published: Plan
    frozen_until: int
    ops: dict[str, Operation] = field(init=False)
    before: dict[str, list[str]] = field(init=False)
    after: dict[str, list[str]] = field(init=False)
    due: dict[str, tuple[int, int]] = field(init=False)  # last op key -> (due, weight)
    job_ops: dict[str, list[str]] = field(init=False)
    job_due: dict[str, tuple[int, int]] = field(init=False)
    last: dict[str, str] = field(init=False)  # job -> its last operation
    tried: set[str] = field(default_factory=set)  # jobs brought back in this round

    def __post_init__(self) -> None:
        self.ops = self.problem.operations()
        self.before = self.problem.predecessors()
        self.after = {k: [] for k in self.ops}
        for k, preds in self.before.items():
            for p in preds:
                self.after[p].append(k)
        self.due = {j.ops[-1].key: (j.due, j.weight) for j in self.problem.jobs if j.ops}
        self.job_ops = {j.key: [o.key for o in j.ops] for j in self.problem.jobs}
        self.job_due = {j.key: (j.due, j.weight) for j in self.problem.jobs}
        self.last = {j.key: j.ops[-1].key for j in self.problem.jobs if j.ops}

    def movable(self, plan: Plan) -> list[str]:
        """Operations that may move, in start order: not running, not in the frozen horizon."""
        keys = [
            k
            for k, op in self.ops.items()
            if op.started is None and plan[k].start >= self.frozen_until
        ]
        return sorted(keys, key=lambda k: (plan[k].start, k))

    def neighbourhood(self, plan: Plan, size: int, rnd: random.Random) -> Pick:
        """Operations to free, those of them that may go anywhere, and CP-SAT's time.

        Mostly (while there are any) a job an event pushed past its published end, brought
        back among the operations around its published slots, with twice the time. Else whole
        jobs: a late one and lighter ones that end before it (they may take each other's
        places). Else a stretch of `size` operations in start order, mostly before the last
        operation of a late job (the later and heavier, the likelier), with that job's."""
        order = self.movable(plan)
        if not order:
            return Pick(set(), set(), STEP, {})
        mine = set(order)
        draw = rnd.random()
        if draw < BACK_SHARE:
            pushed = self._pushed(plan)
            if pushed is not None:
                self.tried.add(pushed)
                free, aim = self._back(plan, pushed, mine, size)
                return Pick(free, set(), 2 * STEP, aim)
            self.tried.clear()  # every pushed job had its turn: the next round starts over
        late = [(k, w * (plan[k].end - d)) for k, (d, w) in self.due.items() if plan[k].end > d]
        late = [(k, t) for k, t in late if k in mine]
        draw = rnd.random()
        if late and draw < SWAP_SHARE + LATE_SHARE:
            keys, weights = zip(*late, strict=True)
            anchor = rnd.choices(keys, weights)[0]
            if draw < SWAP_SHARE:
                free = self._swap(plan, self.ops[anchor].job, mine, size // 3, rnd)
                return Pick(free, free, STEP, {})
        else:
            anchor = rnd.choice(order)
        at = bisect_left([plan[k].start for k in order], plan[anchor].start)
        lo = max(0, at - (3 * size) // 4)
        free = set(order[lo : lo + size])
        own = {k for k in self.job_ops[self.ops[anchor].job] if k in mine}
        return Pick(free | own, set(), STEP, {})

    def _pushed(self, plan: Plan) -> str | None:
        """The job whose end was pushed furthest (by weight) past its published end, of
        those not tried in this round."""
        worst, most = None, 0
        for job, last in self.last.items():
            was = self.published.get(last)
            if was is None or job in self.tried:
                continue
            pushed = self.job_due[job][1] * (plan[last].end - max(was.end, self.job_due[job][0]))
            if pushed > most:
                worst, most = job, pushed
        return worst

    def _back(self, plan: Plan, job: str, mine: set[str], size: int) -> tuple[set[str], Plan]:
        """A job an event pushed later than published, to be placed near its published
        slots, and the operations on its workstations around them, free to make room."""
        own = {k for k in self.job_ops[job] if k in mine}
        around: set[str] = set()
        spans: dict[str, list[tuple[int, int]]] = {}
        for k in own:
            was = self.published.get(k, plan[k])
            for code in self.ops[k].machines:
                spans.setdefault(code, []).append((was.start - BACK, was.end + BACK))
        near = sorted(
            (abs(plan[k].start - self.published.get(own_k, plan[own_k]).start), k)
            for k in mine - own
            for own_k in own
            if plan[k].machine in self.ops[own_k].machines
            and any(a <= plan[k].start < b for a, b in spans[plan[k].machine])
        )
        for _, k in near:
            if len(around) >= size:
                break
            around.add(k)
        return own | around, {k: self.published[k] for k in own if k in self.published}

    def _swap(
        self, plan: Plan, job: str, mine: set[str], size: int, rnd: random.Random
    ) -> set[str]:
        """A late job and lighter jobs that end before it: all their operations, free to
        take each other's places anywhere in the plan."""
        end, weight = plan[self.last[job]].end, self.job_due[job][1]
        others = [
            j
            for j, last in self.last.items()
            if j != job and plan[last].end < end and self.job_due[j][1] <= weight
        ]
        free = {k for k in self.job_ops[job] if k in mine}
        for j in rnd.sample(others, len(others)):
            if len(free) >= size:
                break
            free |= {k for k in self.job_ops[j] if k in mine}
        return free


class _Model:
    """One neighbourhood as a CP-SAT model: `free` operations as variables, the rest fixed."""

    def __init__(self, shop: _Shop, plan: Plan, pick: Pick) -> None:
        free, self.anywhere = pick.free, pick.anywhere
        plan = plan | pick.aim  # an aimed operation is searched for (and hinted) near its aim
        self.shop, self.plan, self.free = shop, plan, free
        self.model = cp_model.CpModel()
        starts = [plan[k].start for k in free]
        self.last_end = max(s.end for s in plan.values())
        self.radius = min(RADIUS, max(240, max(starts) - min(starts)))
        self.starts: dict[str, cp_model.IntVar] = {}
        self.ends: dict[str, cp_model.IntVar] = {}
        self.on: dict[str, dict[str, cp_model.IntVar]] = {}
        self.machines: dict[str, list[cp_model.IntervalVar]] = {}
        self.strict: dict[str, list[cp_model.IntervalVar]] = {}
        self.skills: dict[str, list[cp_model.IntervalVar]] = {}
        self.reach: dict[str, tuple[int, int]] = {}  # per workstation: minutes free ops may use
        for k in sorted(free):
            self._operation(shop.ops[k])
        self._fixed()
        self._objective()

    def _bounds(self, op: Operation) -> tuple[int, int]:
        """Where the operation may start: near its slot now, after fixed predecessors, its
        material and the frozen horizon."""
        now = self.plan[op.key].start
        low = max(
            op.release,
            self.shop.frozen_until,
            now - self.radius if op.key not in self.anywhere else 0,
            *(self.plan[p].end for p in self.shop.before[op.key] if p not in self.free),
        )
        return min(low, now), self.last_end if op.key in self.anywhere else now + self.radius

    def _operation(self, op: Operation) -> None:
        m, slot = self.model, self.plan[op.key]
        low, high = self._bounds(op)
        last = max(_latest_end(self.shop.problem.down.get(c, []), high, op) for c in op.machines)
        s = m.new_int_var(low, high, f"s{op.key}")
        e = m.new_int_var(low + op.duration, max(last, slot.end), f"e{op.key}")
        m.add_hint(s, slot.start)
        m.add_hint(e, slot.end)
        for succ in self.shop.after[op.key]:  # free pairs: added with the later-made one
            if succ not in self.free:
                m.add(e <= self.plan[succ].start)
            elif succ in self.starts:
                m.add(e <= self.starts[succ])
        for p in self.shop.before[op.key]:
            if p in self.ends:
                m.add(self.ends[p] <= s)
        on: dict[str, cp_model.IntVar] = {}
        for code in op.machines:
            lit = m.new_bool_var(f"{op.key}@{code}")
            m.add_hint(lit, code == slot.machine)
            on[code] = lit
            if op.span_breaks:
                iv = self._spanning(op, code, (s, e, lit), (low, max(last, slot.end)))
            else:
                iv = m.new_optional_fixed_size_interval_var(s, op.duration, lit, f"{op.key}")
                self.strict.setdefault(code, []).append(iv)
            self._use(op, code, iv)
            a, b = self.reach.get(code, (low, last))
            self.reach[code] = (min(a, low), max(b, last, slot.end))
        if not op.span_breaks:
            m.add(e == s + op.duration)
        m.add_exactly_one(on.values())
        self.starts[op.key], self.ends[op.key], self.on[op.key] = s, e, on

    def _spanning(
        self,
        op: Operation,
        code: str,
        var: tuple[cp_model.IntVar, cp_model.IntVar, cp_model.IntVar],
        window: tuple[int, int],
    ) -> cp_model.IntervalVar:
        """An interval that grows by each break it contains, and neither starts nor ends in
        one (a break is before it, after it, or inside it)."""
        m, (s, e, lit) = self.model, var
        slot = self.plan[op.key]
        size = m.new_int_var(op.duration, window[1] - window[0], f"z{op.key}@{code}")
        iv = m.new_optional_interval_var(s, size, e, lit, f"{op.key}@{code}")
        grow, grown = [], 0
        for a, b in self.shop.problem.down.get(code, []):
            if b <= window[0] or a >= window[1]:
                continue
            inside, before, after = (m.new_bool_var("") for _ in range(3))
            m.add_exactly_one(inside, before, after)
            m.add(e <= a).only_enforce_if(before, lit)
            m.add(s >= b).only_enforce_if(after, lit)
            m.add(s < a).only_enforce_if(inside, lit)
            m.add(e > b).only_enforce_if(inside, lit)
            grow.append((b - a) * inside)
            side = inside if slot.start < a < b < slot.end else after if slot.start >= b else before
            if code == slot.machine:
                grown += (b - a) * (side is inside)
            for x in (inside, before, after):
                m.add_hint(x, x is side)
        m.add(size == op.duration + sum(grow)).only_enforce_if(lit)
        m.add_hint(size, op.duration + grown if code == slot.machine else op.duration)
        return iv

    def _use(self, op: Operation, code: str, iv: cp_model.IntervalVar) -> None:
        self.machines.setdefault(code, []).append(iv)
        if op.skill and self.shop.problem.skills.get(op.skill, 0) > 0:
            self.skills.setdefault(op.skill, []).append(iv)

    def _fixed(self) -> None:
        """Fixed operations and unavailable time near the free ones, as constants."""
        m, shop = self.model, self.shop
        low = min(a for a, _ in self.reach.values())
        high = max(b for _, b in self.reach.values())
        for key, slot in self.plan.items():
            if key in self.free or slot.end <= low or slot.start >= high:
                continue
            op = shop.ops[key]
            used = slot.machine in self.machines
            skilled = op.skill in self.skills
            if used or skilled:
                iv = m.new_fixed_size_interval_var(slot.start, slot.end - slot.start, "")
                if used:
                    self.machines[slot.machine].append(iv)
                if skilled:
                    self.skills[str(op.skill)].append(iv)
        for code, intervals in self.machines.items():
            m.add_no_overlap(intervals)
            a0, b0 = self.reach[code]
            down = [
                m.new_fixed_size_interval_var(a, b - a, "")
                for a, b in shop.problem.down.get(code, [])
                if b > a0 and a < b0
            ]
            if down and code in self.strict:
                m.add_no_overlap(self.strict[code] + down)
        for skill, intervals in self.skills.items():
            m.add_cumulative(intervals, [1] * len(intervals), shop.problem.skills[skill])

    def _objective(self) -> None:
        m, shop = self.model, self.shop
        terms = []
        for key, e in self.ends.items():
            if key not in shop.due:
                continue
            due, weight = shop.due[key]
            late = m.new_int_var(0, max(0, e.proto.domain[-1] - due), f"t{key}")
            m.add(late >= e - due)
            m.add_hint(late, max(0, self.plan[key].end - due))
            terms += [TARDINESS * weight * late, FLOW * weight * e]
        for key, s in self.starts.items():
            old = shop.published.get(key)
            if old is None or old.machine not in self.on[key]:
                continue
            moved = m.new_bool_var(f"m{key}")
            m.add(s == old.start).only_enforce_if(~moved)
            m.add(self.on[key][old.machine] == 1).only_enforce_if(~moved)
            now = self.plan[key]
            m.add_hint(moved, (now.start, now.machine) != (old.start, old.machine))
            terms.append(MOVE * moved)
        m.minimize(sum(terms))

    def solve(self, seconds: float, workers: int) -> tuple[Plan | None, bool]:
        """The free operations' new slots (None if none found) and whether CP-SAT proved
        them the best for this neighbourhood."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.05, seconds)
        solver.parameters.num_workers = workers
        # a neighbourhood's fraction of a second goes to search: full presolve (probing,
        # symmetry, repeated passes) alone can take longer than that on a busy machine
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        solver.parameters.max_presolve_iterations = 1
        solver.solve(self.model)
        status = solver.status_name()
        if status not in ("OPTIMAL", "FEASIBLE"):
            return None, False
        out: Plan = {}
        for key, s in self.starts.items():
            code = next(c for c, lit in self.on[key].items() if solver.value(lit))
            out[key] = Slot(code, solver.value(s), solver.value(self.ends[key]))
        return out, status == "OPTIMAL"


def _latest_end(down: list[tuple[int, int]], start: int, op: Operation) -> int:
    """The latest an operation starting by `start` can end on a workstation."""
    span = covering(down, start)
    return finish(down, span[1] if span else start, op.duration, op.span_breaks)


def improve(
    problem: Problem,
    start: Plan,
    *,
    seconds: float,
    published: Plan | None = None,
    frozen_until: int = 0,
    workers: int = 2,
    seed: int = 0,
) -> Plan:
    """The best plan neighbourhood search finds from `start` within `seconds` (wall time,
    everything counted): never worse than `start` by CP-SAT's objective (`cost`)."""
    deadline = time.perf_counter() + seconds
    old = published or {}
    shop = _Shop(problem, old, frozen_until)
    plan, best = dict(start), cost(problem, start, old)
    rnd, size = random.Random(seed), FREE
    while (left := deadline - time.perf_counter()) > 0.1:
        pick = shop.neighbourhood(plan, size, rnd)
        if not pick.free:
            break
        model = _Model(shop, plan, pick)
        found, optimal = model.solve(min(pick.seconds, left - 0.05), workers)
        if found is not None:
            trial = plan | found
            value = cost(problem, trial, old)
            if value < best:
                plan, best = trial, value
        grown = int(size * 1.25) if optimal else int(size * 0.8)
        size = min(FREE_RANGE[1], max(FREE_RANGE[0], grown))
    return plan
