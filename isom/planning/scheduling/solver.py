"""CP-SAT improves a plan: warm-started from it, with a price on every operation it moves.

Each operation is one interval per workstation able to do it (exactly one present). A
workstation runs one operation at a time and none in its unavailable time, except that an
operation allowed to span a break takes the break inside it and grows by its length. Precedence
along routes and from child jobs, material release dates, and at most as many operations of a
skill at once as there are people with it. The objective is weighted tardiness first, then a
price per moved operation, then flow time (weighted too). Operations running on the floor are
constants; frozen ones too, where the plan it starts from kept them, and those that start
beyond the window it improves, unless their job is late (a rolling horizon: the far future is
re-optimised as it comes near). Every variable is hinted from the starting plan, so the first
solution CP-SAT finds is that plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from isom.planning.scheduling import dispatch
from isom.planning.scheduling.model import Operation, Plan, Problem, Slot, moves

#: Objective weights: a minute of weighted tardiness, a moved operation, a minute of flow time.
TARDINESS = 100
MOVE = 100 * 15
FLOW = 1
#: A spanning operation stays within this many minutes of its starting slot (a day), so it
#: needs a literal only for the breaks near it.
SPAN_WINDOW = 1440
#: A model with more operations than this skips presolve probing and symmetry detection.
LARGE = 400
#: Operations starting later than this (minutes from now, 5 days) keep their starting slot.
WINDOW = 5 * 1440

Lit = cp_model.IntVar


@dataclass
class _Var:
    start: cp_model.IntVar
    end: cp_model.IntVar
    on: dict[str, Lit]  # presence per workstation (a constant 1 if only one)


class Improver:
    """One CP-SAT model of a problem around a starting plan; `solve` returns the best plan."""

    def __init__(
        self,
        problem: Problem,
        start: Plan,
        *,
        published: Plan | None = None,
        fixed: set[str],
        window: int | None = None,
        makespan: bool = False,
    ) -> None:
        self.problem, self.start, self.published = problem, start, published or {}
        self.model = cp_model.CpModel()
        last = max((s.end for s in start.values()), default=0)
        due = max((j.due for j in problem.jobs), default=0)
        self.horizon = max(last, due) + max(60, last // 5)
        self.vars: dict[str, _Var] = {}
        self.on_machine: dict[str, list[cp_model.IntervalVar]] = {}
        self.strict: dict[str, list[cp_model.IntervalVar]] = {}
        self.on_skill: dict[str, list[cp_model.IntervalVar]] = {}
        self.late = late = _late_jobs(problem, start)
        for op in problem.operations().values():
            hint = start.get(op.key)
            far = hint is not None and window is not None and hint.start >= window
            far = far and op.job not in late
            pinned = op.started or (hint if op.key in fixed or far else None)
            if pinned is not None:
                self._pinned(op, pinned)
            else:
                self._operation(op)
        self._resources()
        for key, preds in problem.predecessors().items():
            for p in preds:
                self.model.add(self.vars[p].end <= self.vars[key].start)
        if makespan:  # the classic job shop's objective, for the benchmark against its records
            end = self.model.new_int_var(0, self.horizon, "makespan")
            self.model.add_max_equality(end, [v.end for v in self.vars.values()])
            self.model.minimize(end)
        else:
            self._objective()

    def _pinned(self, op: Operation, slot: Slot) -> None:
        m = self.model
        s, e = m.new_constant(slot.start), m.new_constant(slot.end)
        self.vars[op.key] = _Var(s, e, {slot.machine: m.new_constant(1)})
        iv = m.new_fixed_size_interval_var(slot.start, slot.end - slot.start, op.key)
        self._use(op, slot.machine, iv)

    def _operation(self, op: Operation) -> None:
        m = self.model
        hint = self.start.get(op.key)
        low, high = max(op.release, 0), self.horizon
        if op.span_breaks and hint is not None:  # a late job's may move all the way forward
            early = low if op.job in self.late else max(low, hint.start - SPAN_WINDOW)
            low, high = early, min(high, hint.end + SPAN_WINDOW)
        s = m.new_int_var(low, high, f"s{op.key}")
        e = m.new_int_var(low + op.duration, max(high, low + op.duration), f"e{op.key}")
        on: dict[str, Lit] = {}
        for code in op.machines:
            lit = m.new_constant(1) if len(op.machines) == 1 else m.new_bool_var(f"{op.key}@{code}")
            on[code] = lit
            if op.span_breaks:
                self._spanning(op, code, s, e, lit, (low, high))
            else:
                iv = m.new_optional_fixed_size_interval_var(s, op.duration, lit, f"{op.key}@{code}")
                m.add(e == s + op.duration)
                self.strict.setdefault(code, []).append(iv)
                self._use(op, code, iv)
        m.add_exactly_one(on.values())
        self.vars[op.key] = _Var(s, e, on)
        if hint is not None:
            m.add_hint(s, hint.start)
            m.add_hint(e, hint.end)
            for code, lit in on.items():
                if len(on) > 1:
                    m.add_hint(lit, code == hint.machine)

    def _spanning(
        self,
        op: Operation,
        code: str,
        s: cp_model.IntVar,
        e: cp_model.IntVar,
        lit: Lit,
        window: tuple[int, int],
    ) -> None:
        """An interval that grows by each break it contains, and neither starts nor ends in
        one (a break is before it, after it, or inside it)."""
        m = self.model
        size = m.new_int_var(op.duration, self.horizon, f"z{op.key}@{code}")
        iv = m.new_optional_interval_var(s, size, e, lit, f"{op.key}@{code}")
        hint = self.start.get(op.key)
        grow, grown = [], 0
        for a, b in self.problem.down.get(code, []):
            if b <= window[0] or a >= window[1] + op.duration:
                continue
            inside, before, after = (m.new_bool_var("") for _ in range(3))
            m.add_exactly_one(inside, before, after)
            m.add(e <= a).only_enforce_if(before, lit)
            m.add(s >= b).only_enforce_if(after, lit)
            m.add(s < a).only_enforce_if(inside, lit)
            m.add(e > b).only_enforce_if(inside, lit)
            grow.append((b - a) * inside)
            if hint is not None:  # any side will do where the operation is not on `code`
                side = (
                    inside
                    if hint.start < a < b < hint.end
                    else after
                    if hint.start >= b
                    else before
                )
                grown += (b - a) * (side is inside)
                for x in (inside, before, after):
                    m.add_hint(x, x is side)
        m.add(size == op.duration + sum(grow)).only_enforce_if(lit)
        if hint is not None:
            m.add_hint(size, op.duration + grown)
        self._use(op, code, iv)

    def _use(self, op: Operation, code: str, iv: cp_model.IntervalVar) -> None:
        self.on_machine.setdefault(code, []).append(iv)
        if op.skill and self.problem.skills.get(op.skill, 0) > 0:
            self.on_skill.setdefault(op.skill, []).append(iv)

    def _resources(self) -> None:
        m = self.model
        for code, intervals in self.on_machine.items():
            m.add_no_overlap(intervals)
            down = [
                m.new_fixed_size_interval_var(a, b - a, f"down {code} {a}")
                for a, b in self.problem.down.get(code, [])
                if b > 0 and a < self.horizon
            ]
            if down and code in self.strict:
                m.add_no_overlap(self.strict[code] + down)
        for skill, intervals in self.on_skill.items():
            m.add_cumulative(intervals, [1] * len(intervals), self.problem.skills[skill])

    def _objective(self) -> None:
        m = self.model
        terms = []
        for job in self.problem.jobs:
            if not job.ops:
                continue
            end = self.vars[job.ops[-1].key].end
            late = m.new_int_var(0, self.horizon, f"t{job.key}")
            m.add_max_equality(late, [0, end - job.due])
            hint = self.start.get(job.ops[-1].key)
            if hint is not None:
                m.add_hint(late, max(0, hint.end - job.due))
            terms += [TARDINESS * job.weight * late, FLOW * job.weight * end]
        for key, old in self.published.items():
            v = self.vars.get(key)
            if v is None or old.machine not in v.on:
                continue
            moved = m.new_bool_var(f"m{key}")
            m.add(v.start == old.start).only_enforce_if(~moved)
            m.add(v.on[old.machine] == 1).only_enforce_if(~moved)
            now = self.start.get(key)
            m.add_hint(moved, now is None or (now.start, now.machine) != (old.start, old.machine))
            terms.append(MOVE * moved)
        m.minimize(sum(terms))

    def solve(self, seconds: float, workers: int = 2) -> Plan:
        """The best plan found within the time limit; the starting plan if none was found."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = seconds
        solver.parameters.num_workers = workers
        if len(self.vars) > LARGE:  # presolve probing and symmetry cost seconds on a plant
            solver.parameters.cp_model_probing_level = 0
            solver.parameters.symmetry_level = 0
        solver.solve(self.model)
        if solver.status_name() not in ("OPTIMAL", "FEASIBLE"):
            return dict(self.start)
        out: Plan = {}
        for key, v in self.vars.items():
            machine = next(c for c, lit in v.on.items() if solver.value(lit))
            out[key] = Slot(machine, solver.value(v.start), solver.value(v.end))
        return out


def _late_jobs(problem: Problem, plan: Plan) -> set[str]:
    """Jobs that end after their due minute in a plan."""
    return {
        j.key
        for j in problem.jobs
        if j.ops and j.ops[-1].key in plan and plan[j.ops[-1].key].end > j.due
    }


def improve(
    problem: Problem,
    start: Plan,
    *,
    seconds: float,
    published: Plan | None = None,
    frozen_until: int = 0,
    window: int | None = WINDOW,
    workers: int = 2,
) -> Plan:
    """CP-SAT from `start`: frozen operations it kept stay, moving others costs. The hint is
    `start` or, if CP-SAT's own objective rates it better, a fresh due-date dispatch around
    the same frozen operations (a repair keeps slots; when that leaves jobs late, the fresh
    dispatch is the better place for CP-SAT to begin)."""
    old = published or {}
    fixed = {k for k, s in start.items() if k in old and old[k] == s and s.start < frozen_until}
    fresh = dispatch.repair(problem, {k: start[k] for k in fixed}, frozen_until)
    hint = min((start, fresh), key=lambda p: cost(problem, p, old))
    model = Improver(problem, hint, published=old, fixed=fixed, window=window)
    return model.solve(seconds, workers)


def cost(problem: Problem, plan: Plan, published: Plan) -> int:
    """The objective CP-SAT minimises, for a complete plan."""
    total = 0
    for job in problem.jobs:
        if job.ops:
            end = plan[job.ops[-1].key].end
            total += job.weight * (TARDINESS * max(0, end - job.due) + FLOW * end)
    moved, _ = moves(published, plan)
    return total + MOVE * moved
