"""Releasing: the planned jobs the agents made go to the floor once what they need comes in
time, or their dates move to when it does.

It runs after purchasing in the same run, so a job made and bought for is released at once.
Rules:
- `move-late-job`: a planned job whose inputs (or child jobs) come after it must start is
  re-dated to the earliest day it can be made, and the customer line's promise moves with it
  (the explanation names the line); a child moves with its parent, no earlier than the parent
  consumes it. A job something supplies nothing to stays put, flagged at risk by the alerts.
- `release-on-time`: a planned job whose inputs and child jobs all come in time (after a
  move, by its new date) is released. A job a planner planned is theirs to release.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.agents import master, watch
from isom.agents import services as agents
from isom.agents.models import Decision, DecisionStatus
from isom.agents.services import Proposal
from isom.orders.enums import PRIORITY_RANK, Priority
from isom.planning import projection, sources
from isom.production import queries as production_queries
from isom.production.enums import WorkOrderStatus
from isom.production.queries import OpenJob

AGENT = "intake"
NORMAL = PRIORITY_RANK[Priority.normal]


def _q(value: Any) -> str:
    return f"{value.normalize():f}"


def release_ready(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Move the dates of the planned jobs whose inputs come late, and release the jobs whose
    inputs all come in time (by their date, moved or not)."""
    projection.refresh_dirty(session, today)
    jobs = {j.number: j for j in production_queries.open_jobs(session)}
    codes = master.codes(session)
    risky = {c.subject: c for c in watch.at_risk(session, jobs, codes)}
    ours = {n for n in _made_here(session) if n in jobs}
    planned = {n for n in ours if jobs[n].status is WorkOrderStatus.planned}
    moves = _moves(jobs, risky, planned)
    wanted = [_move(jobs[n], due, risky.get(n), jobs, moves, codes) for n, due in moves.items()]
    for n in sorted(planned):
        c = risky.get(n)
        if c is None or c.date is not None and moves.get(n, jobs[n].due_date) >= c.date:
            wanted.append(_release(jobs[n], moves.get(n, jobs[n].due_date), codes))
    return agents.reconcile(session, actor, AGENT, wanted, prefixes=("release:", "move:"))


def _moves(
    jobs: dict[str, OpenJob], risky: dict[str, watch.Condition], planned: set[str]
) -> dict[str, dt.date]:
    """The new due dates: parents first, each no earlier than it can be made, and a child no
    earlier than its moved parent consumes it."""
    moved: dict[str, dt.date] = {}
    for number in sorted(planned, key=lambda n: (watch.depth(jobs, n), n)):
        job = jobs[number]
        due = job.due_date
        c = risky.get(number)
        if c is not None and c.date is not None:
            due = max(due, c.date)
        parent = moved.get(job.parent or "")
        if parent is not None:
            due = max(due, parent - sources.CONSUMPTION_LEAD)
        if due != job.due_date:
            moved[number] = due
    return moved


def _move(
    job: OpenJob,
    due: dt.date,
    risk: watch.Condition | None,
    jobs: dict[str, OpenJob],
    moves: dict[str, dt.date],
    codes: dict[int, str],
) -> Proposal:
    parent = jobs.get(job.parent or "")
    if risk is not None and risk.date == due:
        why = risk.text.removesuffix(".")
    else:
        assert parent is not None
        why = f"{job.number} is consumed by {parent.number}, which moves to {moves[parent.number]}"
    promise = (
        f"; the promise of {job.customer_line} moves with it, to {due}"
        if parent is None and job.customer_line
        else ""
    )
    return _about(
        job,
        due,
        "work_order_change",
        f"move|{job.number}|{job.due_date}|{due}",
        "move-late-job",
        f"{why}: {job.number} ({_q(job.quantity)} {codes[job.item_id]}) moves from "
        f"{job.due_date} to {due}, the earliest it can be made{promise}.",
        {"work_order": job.number, "due_date": due.isoformat()},
    )


def _release(job: OpenJob, due: dt.date, codes: dict[int, str]) -> Proposal:
    return _about(
        job,
        due,
        "work_order_release",
        f"release|{job.number}",
        "release-on-time",
        f"{job.number} ({_q(job.quantity)} {codes[job.item_id]}, due {due}, for "
        f"{job.customer_line}): every input and child job comes in time; release it.",
        {"work_order": job.number},
    )


def _about(
    job: OpenJob,
    due: dt.date,
    kind: str,
    situation: str,
    rule: str,
    explanation: str,
    command: dict[str, str],
) -> Proposal:
    """A change of one job (a move or a release): its scope is the situation's first word
    (what changes) and the job."""
    return Proposal(
        agent=AGENT,
        kind=kind,
        scope=f"{situation.partition('|')[0]}:{job.number}",
        situation=situation,
        rule=rule,
        priority=NORMAL,
        item_id=job.item_id,
        demand=job.customer_line,
        supply=job.number,
        date=due,
        explanation=explanation,
        command=command,
    )


def _made_here(session: Session) -> set[str]:
    """The jobs the intake agent made (from its applied decisions' results)."""
    rows = session.scalars(
        select(Decision.result).where(
            Decision.agent == AGENT,
            Decision.kind.in_(("work_order", "child_work_order")),
            Decision.status == DecisionStatus.applied,
        )
    )
    return {str(n) for result in rows for n in result.get("work_orders", [])}
