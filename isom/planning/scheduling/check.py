"""What every plan must respect, checked: the tests and the benchmark hold each plan to it."""

from __future__ import annotations

from isom.planning.scheduling.model import Plan, Problem
from isom.planning.scheduling.timeline import fits


def violations(problem: Problem, plan: Plan) -> list[str]:
    """Every broken rule: an operation missing, on a workstation that cannot do it, in
    unavailable time, before its material or predecessors, or overlapping another on its
    workstation; more operations of a skill at once than people with it."""
    return [
        *_misplaced(problem, plan),
        *_out_of_order(problem, plan),
        *_overlaps(plan),
        *_short_of_people(problem, plan),
    ]


def _misplaced(problem: Problem, plan: Plan) -> list[str]:
    """Operations missing, moved while running, or on the wrong workstation, time or release."""
    out: list[str] = []
    for key, op in problem.operations().items():
        slot = plan.get(key)
        if slot is None:
            out.append(f"{key} is not planned")
            continue
        if op.started is not None:
            if slot != op.started:
                out.append(f"{key} is running but was moved")
            continue
        if slot.machine not in op.machines:
            out.append(f"{key} is on {slot.machine}, which cannot do it")
        if not fits(
            problem.down.get(slot.machine, []), slot.start, slot.end, op.duration, op.span_breaks
        ):
            out.append(f"{key} runs in unavailable time or for the wrong length")
        if slot.start < op.release:
            out.append(f"{key} starts before its material is there")
    return out


def _out_of_order(problem: Problem, plan: Plan) -> list[str]:
    """Operations that start before a predecessor ends."""
    out: list[str] = []
    for key, preds in problem.predecessors().items():
        for p in preds:
            if p in plan and key in plan and plan[p].end > plan[key].start:
                out.append(f"{key} starts before {p} ends")
    return out


def _overlaps(plan: Plan) -> list[str]:
    """Two operations at once on one workstation."""
    out: list[str] = []
    by_machine: dict[str, list[tuple[int, int, str]]] = {}
    for key, slot in plan.items():
        by_machine.setdefault(slot.machine, []).append((slot.start, slot.end, key))
    for spans in by_machine.values():
        spans.sort()
        for (_, a_end, a), (b_start, _, b) in zip(spans, spans[1:], strict=False):
            if a_end > b_start:
                out.append(f"{a} and {b} overlap on one workstation")
    return out


def _short_of_people(problem: Problem, plan: Plan) -> list[str]:
    """Skills needed by more operations at once than there are people with them."""
    out: list[str] = []
    ops = problem.operations()
    for skill, people in problem.skills.items():
        points = sorted(
            (t, d)
            for k, s in plan.items()
            if ops.get(k) is not None and ops[k].skill == skill
            for t, d in ((s.start, 1), (s.end, -1))
        )
        busy = 0
        for _, d in sorted(points, key=lambda p: (p[0], p[1])):
            busy += d
            if busy > people:
                out.append(f"more {skill} operations at once than people with the skill")
                break
    return out
