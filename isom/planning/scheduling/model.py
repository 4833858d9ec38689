"""The scheduling problem as plain data: jobs of operations on workstations, in whole minutes.

Times are integer minutes from the plan's origin (the moment it is made); the database side
(`build.py`) turns calendars, due dates and material arrivals into these numbers, and the
solvers (`dispatch.py`, `solver.py`) never see a datetime. A plan maps each operation to a
slot: the workstation it runs on and its start and end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Weight of a job's tardiness per priority (rush > normal > low).
WEIGHTS = {"rush": 10, "normal": 3, "low": 1}
#: What a plan costs (CP-SAT's objective; the repair picks by it too): per minute of weighted
#: tardiness, per operation moved from the published plan, per minute of weighted flow time.
TARDINESS = 100
MOVE = 100 * 15
FLOW = 1


@dataclass(frozen=True, slots=True)
class Slot:
    """Where and when an operation runs: [start, end) on a workstation."""

    machine: str
    start: int
    end: int


@dataclass(slots=True)
class Operation:
    """An open step: its working minutes, the workstations able to do it, and what bounds it."""

    key: str  # "WO-000004/10"
    job: str
    duration: int
    machines: tuple[str, ...]
    skill: str | None = None
    span_breaks: bool = False  # may pause over a break and go on after it
    release: int = 0  # not before its material is there
    started: Slot | None = None  # running on the floor: never moves


@dataclass(slots=True)
class Job:
    """Operations in route order, a due minute and a weight; `feeds` is the parent's step
    that consumes this job's output (a child must end before it starts)."""

    key: str
    due: int
    weight: int
    ops: list[Operation]
    feeds: str | None = None
    priority: str = "normal"


@dataclass(slots=True)
class Problem:
    """Jobs, each workstation's unavailable time (sorted, disjoint), and people per skill."""

    jobs: list[Job]
    down: dict[str, list[tuple[int, int]]]
    skills: dict[str, int] = field(default_factory=dict)

    def operations(self) -> dict[str, Operation]:
        """Every operation by key."""
        return {op.key: op for job in self.jobs for op in job.ops}

    def predecessors(self) -> dict[str, list[str]]:
        """What must end before each operation starts: the route's step before it, and the
        last step of every child job that feeds it."""
        before: dict[str, list[str]] = {op.key: [] for job in self.jobs for op in job.ops}
        for job in self.jobs:
            for a, b in zip(job.ops, job.ops[1:], strict=False):
                before[b.key].append(a.key)
            if job.feeds in before and job.ops:
                before[str(job.feeds)].append(job.ops[-1].key)
        return before


Plan = dict[str, Slot]


@dataclass(frozen=True, slots=True)
class Score:
    """How good a plan is: weighted tardiness first, then makespan and total flow time."""

    weighted_tardiness: int
    late_jobs: int
    makespan: int
    flow: int


def score(problem: Problem, plan: Plan) -> Score:
    """Weighted tardiness, late jobs, makespan and flow time of a complete plan."""
    wt = late = makespan = flow = 0
    for job in problem.jobs:
        if not job.ops:
            continue
        end = max(plan[op.key].end for op in job.ops)
        tardy = max(0, end - job.due)
        wt += job.weight * tardy
        late += tardy > 0
        makespan = max(makespan, end)
        flow += max(end, 0)
    return Score(wt, late, makespan, flow)


def moves(before: Plan, after: Plan) -> tuple[int, int]:
    """How many operations of `before` changed start or workstation, and by how many minutes."""
    count = minutes = 0
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            continue
        if new.start != old.start or new.machine != old.machine:
            count += 1
            minutes += abs(new.start - old.start)
    return count, minutes


def cost(problem: Problem, plan: Plan, published: Plan) -> int:
    """The objective CP-SAT minimises, for a complete plan."""
    total = 0
    for job in problem.jobs:
        if job.ops:
            end = max(plan[op.key].end for op in job.ops)
            total += job.weight * (TARDINESS * max(0, end - job.due) + FLOW * end)
    moved, _ = moves(published, plan)
    return total + MOVE * moved
