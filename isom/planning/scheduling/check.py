"""What every plan must respect, checked: the tests and the benchmark hold each plan to it."""

from __future__ import annotations

from isom.planning.scheduling.model import Plan, Problem
from isom.planning.scheduling.timeline import fits


def violations(problem: Problem, plan: Plan) -> list[str]:
    """Every broken rule: an operation missing, on a workstation that cannot do it, in
    unavailable time, before its material or predecessors, or overlapping another on its
    workstation; more operations of a skill at once than people with it."""
    out: list[str] = []
    ops = problem.operations()
    for key, op in ops.items():
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
    for key, preds in problem.predecessors().items():
        for p in preds:
            if p in plan and key in plan and plan[p].end > plan[key].start:
                out.append(f"{key} starts before {p} ends")
    by_machine: dict[str, list[tuple[int, int, str]]] = {}
    for key, slot in plan.items():
        by_machine.setdefault(slot.machine, []).append((slot.start, slot.end, key))
    for spans in by_machine.values():
        spans.sort()
        for (_, a_end, a), (b_start, _, b) in zip(spans, spans[1:], strict=False):
            if a_end > b_start:
                out.append(f"{a} and {b} overlap on one workstation")
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
