"""The instant plans: earliest-due-date dispatch from scratch, and the repair of a published plan.

Both place operations one at a time, in a priority order, each at the earliest minute its
workstation is working and free, its predecessors are done, its material is there and a person
of its skill is free. Dispatch orders by latest start (due date less the work left in the job,
rush first). Repair keeps running operations and frozen slots that still work, then either
pushes the rest right in their published order (`push`) or keeps every published slot that
still works and dispatches only the rest into the time left (`fill`), whichever costs less:
an event moves what it touches, not everything after it.
Insertion dispatches new operations only, around what a plan already runs (promises).
This is the one hand-written heuristic: CP-SAT (`solver.py`) improves what it publishes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from isom.planning.scheduling.model import Operation, Plan, Problem, Slot, cost
from isom.planning.scheduling.timeline import Crew, Machine, Span, fits, merge

Key = Callable[[Operation], tuple[int, int, str]]


def _latest_starts(problem: Problem) -> dict[str, int]:
    """Due minute less the work left from each operation to the end of its job."""
    out: dict[str, int] = {}
    for job in problem.jobs:
        tail = 0
        for op in reversed(job.ops):
            tail += op.duration
            out[op.key] = job.due - tail
    return out


def edd(problem: Problem) -> Plan:
    """Earliest-due-date dispatch of every operation (started ones stay where they are)."""
    return _place(problem, {}, _due_key(problem), 0)


def repair(problem: Problem, published: Plan, frozen_until: int = 0) -> Plan:
    """The cheaper (by CP-SAT's objective, `model.cost`) of `push` and `fill`: push keeps
    the sequence a plan was made with, so a job's lateness grows by about the time lost; fill
    moves fewest operations but may send a blocked one to the end of a full plan."""
    keep = _known(problem, published)
    plans = [push(problem, keep, frozen_until), fill(problem, keep, frozen_until)]
    return min(plans, key=lambda plan: cost(problem, plan, keep))


def push(problem: Problem, published: Plan, frozen_until: int = 0) -> Plan:
    """Running operations and frozen slots that still work stay; every other operation keeps
    its published order and workstation (any able one if it lost it) and goes as early as it
    fits but never earlier than published: what an event blocks, and what queues behind it or
    follows it in its job, shifts right just as far as it must. New operations are
    dispatched by due date after, not before `frozen_until`."""
    return _place(problem, _known(problem, published), _due_key(problem), frozen_until, push=True)


def fill(problem: Problem, published: Plan, frozen_until: int = 0) -> Plan:
    """The published plan where it still works, a slot whose moved predecessor still ends in
    time included; what an event made impossible (and what it overruns in its job), and new
    operations, dispatched by due date into the time left, not before `frozen_until` (from
    now, for what was due to start before it). So a frozen operation moves only if it became
    impossible."""
    return _place(problem, _known(problem, published), _due_key(problem), frozen_until)


def _known(problem: Problem, published: Plan) -> Plan:
    ops = problem.operations()
    return {k: s for k, s in published.items() if k in ops}


def insert(problem: Problem, busy: dict[str, list[Span]], floor: int = 0) -> Plan:
    """New operations dispatched by due date into the time a plan leaves free (`busy`: what
    it already runs on each workstation), not before `floor`: nothing planned moves. People
    of a skill are counted for the new operations only (a stored plan does not keep skills)."""
    return _place(problem, {}, _due_key(problem), floor, busy)


def _due_key(problem: Problem) -> Key:
    """Latest start (due minute less the work left in the job), an hour earlier per weight."""
    latest: dict[str, int] = {}
    for job in problem.jobs:
        tail = 0
        for op in reversed(job.ops):
            tail += op.duration
            latest[op.key] = job.due - tail - 60 * job.weight
    return lambda op: (latest[op.key], op.release, op.key)


class _Board:
    """Workstations, crews and the plan while a plan is built one operation at a time."""

    def __init__(self, problem: Problem, busy: dict[str, list[Span]] | None) -> None:
        self.ops = problem.operations()
        self.before = problem.predecessors()
        self.after: dict[str, list[str]] = {k: [] for k in self.ops}
        for k, preds in self.before.items():
            for p in preds:
                self.after[p].append(k)
        self.machines = {m: Machine(d) for m, d in problem.down.items()}
        for code, spans in (busy or {}).items():
            _machine(self.machines, code).busy = merge(spans)
        self.crews = {s: Crew(n) for s, n in problem.skills.items() if n > 0}
        self.plan: Plan = {}
        self.held: Plan = {}  # kept slots reserved until their moved predecessors are placed

    def crew(self, op: Operation) -> Crew | None:
        return self.crews.get(op.skill or "")

    def take(self, key: str, slot: Slot) -> None:
        self.plan[key] = _take(slot, self.machines, self.crew(self.ops[key]))

    def keep(self, key: str, slot: Slot, *, hold: bool) -> None:
        """Keep a published slot that still works; with `hold`, also one whose moved
        predecessors are not placed yet, reserved until they are."""
        op, preds = self.ops[key], self.before[key]
        if key in self.plan or not _holds(op, slot, preds, self.plan, self.machines, self.crews):
            return
        if all(p in self.plan for p in preds):
            self.take(key, slot)
        elif hold:
            self.held[key] = _take(slot, self.machines, self.crew(op))

    def settle(self, key: str, low: int) -> Slot:
        """A ready operation's slot: the one held for it if its predecessors still end in
        time, else (released) as early as it fits from `low` on."""
        op, slot = self.ops[key], self.held.pop(key, None)
        if slot is not None:
            if all(self.plan[p].end <= slot.start for p in self.before[key]):
                return slot
            _machine(self.machines, slot.machine).release(slot.start, slot.end)
            if (crew := self.crew(op)) is not None:
                crew.release(slot.start, slot.end)
        return _put(op, self.ready_at(key, low), op.machines, self.machines, self.crew(op))

    def ready_at(self, key: str, low: int) -> int:
        """The earliest start its material, its placed predecessors and `low` allow."""
        return max([self.ops[key].release, low, *(self.plan[p].end for p in self.before[key])])

    def push(self, keep: Plan) -> None:
        """Every kept operation not placed yet, in published order, on its workstation (any
        able one if it lost it) as early as it fits from its published start on; one whose
        predecessor is not placed yet (a new child job) is left to the dispatch."""
        for k, slot in sorted(keep.items(), key=lambda kv: (kv[1].start, kv[0])):
            if k in self.plan or any(p not in self.plan for p in self.before[k]):
                continue
            op = self.ops[k]
            able = (slot.machine,) if slot.machine in op.machines else op.machines
            est = self.ready_at(k, slot.start)
            self.plan[k] = _put(op, est, able, self.machines, self.crew(op))

    def dispatch(self, key: Key, keep: Plan, floor: int) -> None:
        """The ready operation with the smallest key, one at a time, as early as it fits;
        not before `floor` unless it was published to start before it."""
        waiting = {k: sum(1 for p in self.before[k] if p not in self.plan) for k in self.ops}
        ready = [(key(self.ops[k]), k) for k, n in waiting.items() if n == 0 and k not in self.plan]
        heapq.heapify(ready)
        while ready:
            _, k = heapq.heappop(ready)
            was = keep.get(k)
            low = 0 if was is not None and was.start < floor else floor  # was due soon: from now
            self.plan[k] = self.settle(k, low)
            for nxt in self.after[k]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0 and nxt not in self.plan:
                    heapq.heappush(ready, (key(self.ops[nxt]), nxt))


def _place(
    problem: Problem,
    keep: Plan,
    key: Key,
    floor: int,
    busy: dict[str, list[Span]] | None = None,
    *,
    push: bool = False,
) -> Plan:
    """Serial schedule generation: running operations first, then kept slots that still work
    (in time order; with `push` only those in the frozen horizon, the rest pushed right in
    published order), then the rest dispatched by `key`, around what is `busy` already."""
    board = _Board(problem, busy)
    for op in board.ops.values():  # running operations hold their workstation first
        if op.started is not None:
            board.take(op.key, op.started)
    for k, slot in sorted(keep.items(), key=lambda kv: (kv[1].start, kv[0])):
        if slot.start < floor or not push:
            board.keep(k, slot, hold=not push)
    if push:
        board.push(keep)
    board.dispatch(key, keep, floor)
    return board.plan


def _holds(
    op: Operation,
    slot: Slot,
    preds: list[str],
    plan: Plan,
    machines: dict[str, Machine],
    crews: dict[str, Crew],
) -> bool:
    """Whether a kept slot still works: its workstation is able, working and free, its
    predecessors placed so far end before it, and a person of its skill is free."""
    m = machines.get(slot.machine)
    if m is None or slot.machine not in op.machines or slot.start < max(op.release, 0):
        return False  # not on an able workstation, before its material, or already past
    if any(p in plan and plan[p].end > slot.start for p in preds):
        return False
    if not fits(m.down, slot.start, slot.end, op.duration, op.span_breaks):
        return False
    crew = crews.get(op.skill or "")
    return m.free(slot.start, slot.end) and (
        crew is None or crew.blocked_until(slot.start, slot.end) is None
    )


def _machine(machines: dict[str, Machine], code: str) -> Machine:
    return machines.setdefault(code, Machine([]))


def _put(
    op: Operation, est: int, able: tuple[str, ...], machines: dict[str, Machine], crew: Crew | None
) -> Slot:
    """Place one operation on the workstation of `able` where it ends first."""
    best: Slot | None = None
    for code in able:
        start, end = _earliest(op, est, _machine(machines, code), crew)
        if best is None or (end, start) < (best.end, best.start):
            best = Slot(code, start, end)
    assert best is not None, f"{op.key} has no workstation"
    return _take(best, machines, crew)


def _earliest(op: Operation, est: int, m: Machine, crew: Crew | None) -> tuple[int, int]:
    """The earliest start and end on one workstation with a person of the skill free."""
    t = est
    while True:
        start, end = m.earliest(t, op.duration, op.span_breaks)
        wait = crew.blocked_until(start, end) if crew else None
        if wait is None:
            return start, end
        t = wait


def _take(slot: Slot, machines: dict[str, Machine], crew: Crew | None) -> Slot:
    _machine(machines, slot.machine).take(slot.start, slot.end)
    if crew is not None:
        crew.take(slot.start, slot.end)
    return slot
