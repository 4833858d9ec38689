"""The instant plans: earliest-due-date dispatch from scratch, and the repair of a published plan.

Both place operations one at a time, in a priority order, each at the earliest minute its
workstation is working and free, its predecessors are done, its material is there and a person
of its skill is free. Dispatch orders by latest start (due date less the work left in the job,
rush first). Repair first keeps every operation of the published plan whose slot still works,
then dispatches only the rest: an event moves what it touches, not everything after it.
Insertion dispatches new operations only, around what a plan already runs (promises).
This is the one hand-written heuristic: CP-SAT (`solver.py`) improves what it publishes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from isom.planning.scheduling.model import Operation, Plan, Problem, Slot
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
    """The published plan where it still works; what an event made impossible (and what
    follows it in its job), and new operations, dispatched by due date into the time left,
    not before `frozen_until` (from now, for what was due to start before it). So a frozen
    operation moves only if it became impossible."""
    ops = problem.operations()
    keep = {k: s for k, s in published.items() if k in ops}
    return _place(problem, keep, _due_key(problem), frozen_until)


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


def _place(
    problem: Problem, keep: Plan, key: Key, floor: int, busy: dict[str, list[Span]] | None = None
) -> Plan:
    """Serial schedule generation: running operations first, then every kept slot that still
    works (in time order), then the ready operation with the smallest key, one at a time,
    around what is `busy` already."""
    ops = problem.operations()
    before = problem.predecessors()
    after: dict[str, list[str]] = {k: [] for k in ops}
    for k, preds in before.items():
        for p in preds:
            after[p].append(k)
    machines = {m: Machine(d) for m, d in problem.down.items()}
    for code, spans in (busy or {}).items():
        _machine(machines, code).busy = merge(spans)
    crews = {s: Crew(n) for s, n in problem.skills.items() if n > 0}
    plan: Plan = {}
    for op in ops.values():  # running operations hold their workstation first
        if op.started is not None:
            plan[op.key] = _take(op.started, machines, crews.get(op.skill or ""))
    for k, slot in sorted(keep.items(), key=lambda kv: (kv[1].start, kv[0])):
        op = ops[k]
        if k not in plan and _holds(op, slot, before[k], plan, machines, crews):
            plan[k] = _take(slot, machines, crews.get(op.skill or ""))
    waiting = {k: sum(1 for p in before[k] if p not in plan) for k in ops}
    ready = [(key(ops[k]), k) for k, n in waiting.items() if n == 0 and k not in plan]
    heapq.heapify(ready)
    while ready:
        _, k = heapq.heappop(ready)
        op = ops[k]
        was = keep.get(k)
        low = 0 if was is not None and was.start < floor else floor  # was due soon: from now
        est = max([op.release, low, *(plan[p].end for p in before[k])])
        plan[k] = _put(op, est, machines, crews.get(op.skill or ""))
        for nxt in after[k]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0 and nxt not in plan:
                heapq.heappush(ready, (key(ops[nxt]), nxt))
    return plan


def _holds(
    op: Operation,
    slot: Slot,
    preds: list[str],
    plan: Plan,
    machines: dict[str, Machine],
    crews: dict[str, Crew],
) -> bool:
    """Whether a frozen slot still works: its workstation is able, working and free, its
    predecessors already hold earlier frozen slots, and a person of its skill is free."""
    m = machines.get(slot.machine)
    if m is None or slot.machine not in op.machines or slot.start < max(op.release, 0):
        return False  # not on an able workstation, before its material, or already past
    if any(p not in plan or plan[p].end > slot.start for p in preds):
        return False
    if not fits(m.down, slot.start, slot.end, op.duration, op.span_breaks):
        return False
    crew = crews.get(op.skill or "")
    return m.free(slot.start, slot.end) and (
        crew is None or crew.blocked_until(slot.start, slot.end) is None
    )


def _machine(machines: dict[str, Machine], code: str) -> Machine:
    return machines.setdefault(code, Machine([]))


def _put(op: Operation, est: int, machines: dict[str, Machine], crew: Crew | None) -> Slot:
    """Place one operation on the workstation where it ends first."""
    best: Slot | None = None
    for code in op.machines:
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
