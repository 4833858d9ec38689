"""Feed messages of production events, written to the outbox in the event's own transaction.

`react` subscribes to every production event in its transaction (`isom.reactions`; the
production frame publishes each event once it is built), so a scan and its messages commit
or roll back together. Every message is keyed
`job:<work order>` (machine state spans: `workstation:<code>`), and the work-order rows are
locked before the rows are inserted, so messages of one job reach the feed in commit order
even when a machine event and a scan on that job commit at the same moment.

Topics (payloads carry cumulative figures, so a receiver that keeps the highest `seq` per key
and step stays right even if it misses one):

- `production.job`: a job is created, released, closed or cancelled (its status).
- `production.result`: a step event (start, join, pause, resume, leave, consume, stop) with
  the step's state, what this event moved (ledger lines) and the step's totals so far.
- `labour.time`: a person's clock on a step stopped: the span, and the minutes charged to
  the job step so far for that person (time shared between parallel steps, as costing does).
- `machine.time`: chargeable machine minutes charged to a job step so far, on every stop,
  pause or leave of the step and on every machine state change while the step is on it.
- `machine.state`: a workstation's state span closed (setup, run, idle, down with reason).
- `job.cost`: the job's actual and standard cost and variances, after every event that
  changes it: material in or out (consume, stop), a clock or machine state stopping or
  changing (pause, leave, stop, machine), closing. A start or resume changes nothing at that
  instant and a release has nothing to cost, so they send none. The scan only queues the job
  (`job_cost_feed.due`); the projector computes the cost after the commit, off the scan path.

Rows have no ledger event (`event_id` is empty); their message ids come from the production
event's idempotency key and their place among its messages (`source`, `part`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom import outbox, reactions
from isom.integration import job_cost_feed
from isom.ledger import queries as ledger_queries
from isom.ledger.posting import plain
from isom.masterdata.models import Item, Workstation
from isom.production import records, timekeeping
from isom.production.enums import WorkOrderStatus
from isom.production.rows import EventRow, JobRow, StepRow
from isom.production.schemas import ScanResult

SOURCE = "production"
STEP_KINDS = {"start", "pause", "resume", "leave", "consume", "stop"}
JOB_KINDS = {"create", "release", "close", "cancel"}
#: Events after which the job's cost is what it was just before: no `job.cost` message.
UNCOSTED = {"create", "release", "cancel", "start", "resume"}


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _minutes(value: Decimal) -> str:
    return plain(value.quantize(Decimal("0.0001")))


def job_key(number: str) -> str:
    return f"job:{number}"


def write(session: Session, event: EventRow, result: ScanResult) -> None:
    """Write the feed messages of one production event to the outbox (same transaction)."""
    header = {
        "source": SOURCE,
        "event_key": event.key,
        "production_event_id": event.id,
        "kind": event.kind,
        "occurred_at": _iso(event.occurred_at),
        "recorded_at": _iso(event.recorded_at),
        "actor": event.actor,
        "device": event.device,
    }
    at = event.occurred_at
    rows: list[tuple[str, str, dict[str, Any]]] = []
    jobs: list[JobRow] = []
    if event.work_order_id is not None:
        wo = records.job_by_id(session, event.work_order_id)
        assert wo is not None
        jobs.append(wo)
        if event.kind in JOB_KINDS:
            rows.append(("production.job", job_key(str(wo.number)), _job_status(session, wo)))
        step = records.step_by_id(session, event.step_id) if event.step_id else None
        if step is not None and event.kind in STEP_KINDS:
            rows.append(
                (
                    "production.result",
                    job_key(str(wo.number)),
                    _step_result(session, wo, step, result),
                )
            )
            rows += _labour(session, wo, event)
            if event.kind in ("stop", "pause", "leave"):
                rows += _machine_time(session, wo, {step.id}, at)
        made_children = event.kind == "create" and wo.status is not WorkOrderStatus.planned
        if event.kind == "release" or made_children:  # a job created planned has none yet
            rows += _children(session, wo)
    elif event.kind == "machine" and event.workstation_id is not None:
        rows += _machine_state(session, event)
        for wo, step_ids in _jobs_on(session, event.workstation_id):
            jobs.append(wo)
            rows += _machine_time(session, wo, step_ids, at)
    costed = [
        wo
        for wo in (jobs if event.kind not in UNCOSTED else [])
        if wo.status.value not in ("planned", "cancelled")
    ]
    if not rows and not costed:
        return
    # Lock the jobs whose keys get messages, in id order, so per-job order is commit order.
    records.lock_jobs(session, {w.id for w in jobs})
    outbox.enqueue(
        session,
        [
            {
                "topic": topic,
                "message_key": key,
                "payload": {**header, "part": part, **payload},
                "created_at": event.recorded_at,
            }
            for part, (topic, key, payload) in enumerate(rows)
        ],
    )
    job_cost_feed.due(session, [str(wo.number) for wo in costed], at, header, len(rows))


def react(session: Session, fact: reactions.Fact) -> None:
    """The in-transaction subscriber to production events (`isom.composition` wires it)."""
    write(session, fact.data["event"], fact.data["result"])


def _job_status(session: Session, wo: JobRow) -> dict[str, Any]:
    item = session.get(Item, wo.item_id)
    return {
        "work_order": wo.number,
        "item": item.code if item else None,
        "quantity": plain(wo.quantity),
        "due_date": wo.due_date.isoformat(),
        "customer_line": wo.customer_line,
        "status": wo.status.value,
        "route": wo.route_code,
        "route_revision": wo.route_revision,
        "parent_id": wo.parent_id,
    }


def _children(session: Session, wo: JobRow) -> list[tuple[str, str, dict[str, Any]]]:
    """Child jobs a release made: each gets its own `production.job` message."""
    kids = records.children(session, wo.id)
    return [
        ("production.job", job_key(str(k.number)), {**_job_status(session, k), "parent": wo.number})
        for k in kids
    ]


def _step_result(session: Session, wo: JobRow, step: StepRow, result: ScanResult) -> dict[str, Any]:
    moved: list[dict[str, Any]] = []
    if result.ledger_events:
        events = ledger_queries.event_rows(session, [e for e in result.ledger_events if e])
        for ev_id, ev in sorted(events.items()):
            kind = ev.kind
            for ln in (ev.result or {}).get("lines", []):
                if ln.get("container"):
                    moved.append(
                        {
                            "ledger_event_id": ev_id,
                            "ledger_kind": kind.value,
                            "container": ln["container"],
                            "item": ln["item"],
                            "lot": ln.get("lot"),
                            "status": ln.get("status"),
                            "quantity": ln["quantity"],
                            "unit_cost": ln.get("unit_cost"),
                        }
                    )
    ws = session.get(Workstation, step.workstation_id or 0)
    return {
        "work_order": wo.number,
        "work_order_status": wo.status.value,
        "step": step.sequence,
        "operation": step.operation,
        "step_name": step.name,
        "step_status": step.status.value,
        "workstation": ws.code if ws else None,
        "actual_start": _iso(step.actual_start),
        "actual_end": _iso(step.actual_end),
        "this_event": {
            k: v for k, v in result.detail.items() if k in ("good", "scrap", "quantity", "item")
        },
        "moved": moved,
        "totals": {
            "quantity_in": plain(step.quantity_in),
            "good": plain(step.quantity_good),
            "scrap": plain(step.quantity_scrap),
            "rework": plain(step.quantity_rework),
        },
    }


def _labour(session: Session, wo: JobRow, event: EventRow) -> list[tuple[str, str, dict[str, Any]]]:
    closed = records.labour_closed_by(session, event.id)
    if not closed:
        return []
    charged = timekeeping.labour_minutes(session, wo.id, event.occurred_at)
    out = []
    for rec in closed:
        assert rec.ended_at is not None
        span = timekeeping.seconds_between(rec.started_at, rec.ended_at) / 60
        out.append(
            (
                "labour.time",
                job_key(str(wo.number)),
                {
                    "work_order": wo.number,
                    "step": rec.sequence,
                    "person": rec.person,
                    "person_name": rec.person_name,
                    "workstation": rec.workstation,
                    "started_at": _iso(rec.started_at),
                    "ended_at": _iso(rec.ended_at),
                    "minutes": _minutes(span),
                    "charged_minutes_so_far": _minutes(
                        charged.get((rec.step_id, rec.person_id), Decimal(0))
                    ),
                },
            )
        )
    return out


def _machine_time(
    session: Session, wo: JobRow, step_ids: set[int], at: dt.datetime
) -> list[tuple[str, str, dict[str, Any]]]:
    minutes = timekeeping.machine_minutes(session, wo.id, at)
    per_step: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for (step_id, ws_id), m in minutes.items():
        if step_id in step_ids:
            per_step[step_id][ws_id] = m
    if not per_step:
        return []
    codes = dict(
        session.execute(
            select(Workstation.id, Workstation.code).where(
                Workstation.id.in_({w for d in per_step.values() for w in d})
            )
        ).all()
    )
    seqs = records.step_sequences(session, per_step)
    return [
        (
            "machine.time",
            job_key(str(wo.number)),
            {
                "work_order": wo.number,
                "step": seqs[step_id],
                "as_of": _iso(at),
                "workstations": [
                    {"workstation": codes[w], "minutes_so_far": _minutes(m)}
                    for w, m in sorted(by_ws.items())
                ],
                "minutes_so_far": _minutes(sum(by_ws.values(), Decimal(0))),
            },
        )
        for step_id, by_ws in sorted(per_step.items(), key=lambda kv: seqs[kv[0]])
    ]


def _machine_state(session: Session, event: EventRow) -> list[tuple[str, str, dict[str, Any]]]:
    ws = session.get(Workstation, event.workstation_id or 0)
    assert ws is not None
    closed, opened = records.machine_change(session, ws.id, event.id, event.occurred_at)
    return [
        (
            "machine.state",
            f"workstation:{ws.code}",
            {
                "workstation": ws.code,
                "state": opened.state.value if opened else None,
                "reason": opened.reason if opened else None,
                "since": _iso(opened.started_at) if opened else None,
                "previous": (
                    {
                        "state": closed.state.value,
                        "reason": closed.reason,
                        "started_at": _iso(closed.started_at),
                        "ended_at": _iso(closed.ended_at),
                        "minutes": _minutes(
                            timekeeping.seconds_between(closed.started_at, event.occurred_at) / 60
                        ),
                        "chargeable": closed.state in timekeeping.CHARGEABLE,
                    }
                    if closed
                    else None
                ),
            },
        )
    ]


def _jobs_on(session: Session, workstation_id: int) -> list[tuple[JobRow, set[int]]]:
    """Jobs with someone clocked on a step at the workstation: machine time lands on them."""
    by_job = records.clocked_on(session, workstation_id)
    out = []
    for wo_id in sorted(by_job):
        wo = records.job_by_id(session, wo_id)
        assert wo is not None
        out.append((wo, by_job[wo_id]))
    return out
