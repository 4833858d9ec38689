"""Properties of re-planning over random event sequences (the plain model, no database):
every plan is valid; running operations never move; frozen ones move only when an event
made their slot impossible; CP-SAT keeps both."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from isom.planning.scheduling import dispatch, solver
from isom.planning.scheduling.check import violations
from isom.planning.scheduling.model import Job, Operation, Plan, Problem, Slot, cost, moves, score
from isom.planning.scheduling.timeline import merge

FROZEN = 120
MACHINES = ("M1", "M2", "M3")


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    jobs = []
    for j in range(draw(st.integers(2, 7))):
        ops = []
        for s in range(draw(st.integers(1, 4))):
            able = draw(st.lists(st.sampled_from(MACHINES), min_size=1, max_size=2, unique=True))
            ops.append(
                Operation(
                    f"J{j}/{s}", f"J{j}", draw(st.integers(10, 200)), tuple(able),
                    span_breaks=draw(st.booleans()), release=draw(st.sampled_from([0, 0, 300])),
                )
            )  # fmt: skip
        jobs.append(
            Job(f"J{j}", draw(st.integers(200, 3000)), draw(st.sampled_from([1, 3, 10])), ops)
        )
    # nights: 16 h of work then 8 h off, every day, on every machine
    down = {m: merge([(d * 1440 + 960, d * 1440 + 1440) for d in range(30)]) for m in MACHINES}
    return Problem(jobs, down)


events = st.lists(
    st.one_of(
        st.tuples(
            st.just("down"), st.sampled_from(MACHINES), st.integers(0, 600), st.integers(30, 480)
        ),
        st.tuples(st.just("start"), st.integers(0, 50), st.integers(0, 60), st.integers(0, 0)),
        st.tuples(st.just("rush"), st.integers(20, 300), st.integers(0, 0), st.integers(0, 0)),
    ),
    min_size=1,
    max_size=4,
)


def apply(
    problem: Problem, plan: Plan, event: tuple[str, object, int, int]
) -> list[tuple[str, int, int]]:
    """Change the problem as the event says; the spans that became unavailable, per machine."""
    kind, what, a, b = event
    if kind == "down":
        problem.down[str(what)] = merge([*problem.down[str(what)], (a, a + b)])
        return [(str(what), a, a + b)]
    if kind == "start":  # an operation not yet running starts now-ish, running late
        waiting = [o for j in problem.jobs for o in j.ops if o.started is None]
        ops = problem.operations()
        busy = {o.started.machine for j in problem.jobs for o in j.ops if o.started}
        ready = [  # a workstation runs one operation: a second cannot start on a busy one
            o
            for o in waiting
            if all(plan[p].end <= a for p in problem.predecessors()[o.key])
            and plan[o.key].machine not in busy
        ]
        if ready:
            op = ready[int(str(what)) % len(ready)]
            slot = plan[op.key]
            op.started = Slot(slot.machine, a, a + op.duration + 30)
            ops[op.key].started = op.started
            return [(slot.machine, a, a + op.duration + 30)]
        return []
    n = len(problem.jobs)
    problem.jobs.append(
        Job(f"R{n}", 600, 10, [Operation(f"R{n}/0", f"R{n}", int(str(what)), MACHINES)])
    )
    return []


@settings(max_examples=30, deadline=None)
@given(problem=problems(), sequence=events)
def test_running_and_frozen_operations_never_move_across_re_plans(
    problem: Problem, sequence: list[tuple[str, object, int, int]]
) -> None:
    plan = dispatch.edd(problem)
    assert violations(problem, plan) == []
    for event in sequence:
        hit = apply(problem, plan, event)
        new = dispatch.repair(problem, plan, FROZEN)
        assert violations(problem, new) == []
        before = problem.predecessors()
        moved_preds = {k for k in plan if k in new and new[k] != plan[k]}
        for job in problem.jobs:
            for op in job.ops:
                if op.started is not None:
                    assert new[op.key] == op.started  # running: never moves
                    continue
                old = plan.get(op.key)
                if old is None or not 0 <= old.start < FROZEN:
                    continue
                blocked = any(m == old.machine and a < old.end and old.start < b for m, a, b in hit)
                if not blocked and not (set(before[op.key]) & moved_preds):
                    assert new[op.key] == old, f"frozen {op.key} moved after {event}"
        plan = new
    better = solver.improve(problem, plan, seconds=0.5, published=plan, frozen_until=FROZEN)
    assert violations(problem, better) == []
    for op in problem.operations().values():
        if op.started is not None:
            assert better[op.key] == op.started
        elif plan[op.key].start < FROZEN:
            assert better[op.key] == plan[op.key]  # frozen: CP-SAT does not touch it


def test_the_plan_respects_every_rule_after_a_repair() -> None:
    """A machine down over a frozen operation moves it and what follows it, nothing else."""
    ops = [Operation(f"A/{i}", "A", 60, ("M1",)) for i in range(3)]
    other = [Operation("B/0", "B", 60, ("M2",))]
    problem = Problem([Job("A", 1000, 3, ops), Job("B", 1000, 3, other)], {"M1": [], "M2": []})
    plan = dispatch.edd(problem)
    assert [plan[f"A/{i}"].start for i in range(3)] == [0, 60, 120]
    problem.down["M1"] = [(30, 90)]
    new = dispatch.repair(problem, plan, FROZEN)
    assert new["B/0"] == plan["B/0"]
    assert [new[f"A/{i}"].start for i in range(3)] == [90, 150, 210]
    assert violations(problem, new) == []


def test_insertion_fills_the_free_time_around_a_plan_and_moves_nothing() -> None:
    """A new job goes into the gaps a plan leaves (one just long enough before the night
    break), in working time and route order."""
    ops = [Operation(f"N/{i}", "N", 60, ("M1", "M2")) for i in range(3)]
    nights = merge([(d * 1440 + 960, d * 1440 + 1440) for d in range(5)])
    problem = Problem([Job("N", 2000, 3, ops)], {"M1": nights, "M2": nights})
    busy = {"M1": [(0, 300), (400, 900)], "M2": [(0, 500), (550, 960)]}
    plan = dispatch.insert(problem, busy, FROZEN)
    assert violations(problem, plan) == []
    for slot in plan.values():
        assert not any(a < slot.end and slot.start < b for a, b in busy[slot.machine])
    assert [(s.machine, s.start) for s in plan.values()] == [
        ("M1", 300),
        ("M1", 900),
        ("M1", 1440),
    ]


def test_a_moved_operation_s_successor_keeps_its_slot_while_it_still_ends_in_time() -> None:
    """The machine-down moves the first step; the second keeps its later slot (a re-dispatch
    would move it up into the free time); a step the move overruns moves after it."""
    a = [Operation("A/0", "A", 60, ("M1",)), Operation("A/1", "A", 60, ("M2",))]
    c = [Operation("C/0", "C", 60, ("M1",)), Operation("C/1", "C", 60, ("M2",))]
    b = [Operation("B/0", "B", 100, ("M2",))]
    jobs = [Job("A", 2000, 3, a), Job("B", 2000, 3, b), Job("C", 2000, 3, c)]
    problem = Problem(jobs, {"M1": [], "M2": []})
    published = {
        "A/0": Slot("M1", 0, 60),
        "C/0": Slot("M1", 60, 120),
        "B/0": Slot("M2", 0, 100),
        "C/1": Slot("M2", 130, 190),
        "A/1": Slot("M2", 600, 660),
    }
    problem.down["M1"] = [(0, 90)]
    new = dispatch.repair(problem, published, 0)
    assert violations(problem, new) == []
    assert new["A/0"] == Slot("M1", 90, 150) and new["C/0"] == Slot("M1", 150, 210)
    assert new["A/1"] == published["A/1"] and new["B/0"] == published["B/0"]
    assert new["C/1"] == Slot("M2", 210, 270)  # its predecessor now ends at 210
    assert moves(published, new)[0] < moves(published, dispatch.edd(problem))[0]


@settings(max_examples=30, deadline=None)
@given(problem=problems(), machine=st.sampled_from(MACHINES), at=st.integers(0, 600))
def test_the_repair_is_no_worse_than_shifting_the_down_machine_s_queue_right(
    problem: Problem, machine: str, at: int
) -> None:
    """Over random problems and outages: the repair is valid and costs no more (weighted
    tardiness, then moves) than keeping every sequence and shifting right what the outage
    blocks, nor than filling the gaps; both of those are valid plans too."""
    plan = dispatch.edd(problem)
    problem.down[machine] = merge([*problem.down[machine], (at, at + 480)])
    new = dispatch.repair(problem, plan, FROZEN)
    for other in (dispatch.push(problem, plan, FROZEN), dispatch.fill(problem, plan, FROZEN)):
        assert violations(problem, other) == []
        assert cost(problem, new, plan) <= cost(problem, other, plan)
    assert violations(problem, new) == []


def test_cp_sat_brings_back_on_time_a_job_the_repair_made_late() -> None:
    """An outage moves a rush job's first step; filling the gaps sends its second step to the
    next free hour of a full workstation, late; CP-SAT shifts the light jobs in its way and
    brings it back on time, moving nothing it does not need to."""
    x = [Operation("X/0", "X", 60, ("M1",)), Operation("X/1", "X", 60, ("M3",))]
    jobs = [Job("X", 300, 10, x)]
    published = {"X/0": Slot("M1", 0, 60), "X/1": Slot("M3", 60, 120)}
    for n, start in enumerate([0, 120, 180, 240, 420, 480, 540, 600]):  # free 300-420
        jobs.append(Job(f"Y{n}", 5000, 1, [Operation(f"Y{n}/0", f"Y{n}", 60, ("M3",))]))
        published[f"Y{n}/0"] = Slot("M3", start, start + 60)
    problem = Problem(jobs, {"M1": [(0, 90)], "M3": []})
    filled = dispatch.fill(problem, published, 0)
    assert filled["X/1"] == Slot("M3", 300, 360)  # the next free hour: X is 60 minutes late
    better = solver.improve(problem, filled, seconds=2, published=published)
    assert violations(problem, better) == []
    assert better["X/0"] == Slot("M1", 90, 150) and better["X/1"].end <= 300
    assert score(problem, better).weighted_tardiness == 0
    assert better["Y0/0"] == published["Y0/0"]  # before the outage's reach: untouched
    assert all(better[f"Y{n}/0"] == published[f"Y{n}/0"] for n in range(4, 8))
