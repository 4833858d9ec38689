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
from isom.ledger.models import Event
from isom.ledger.posting import plain
from isom.masterdata.models import Item, Person, Workstation
from isom.production import timekeeping
from isom.production.enums import WorkOrderStatus
from isom.production.models import (
    LabourRecord,
    MachineRecord,
    ProductionEvent,
    WorkOrder,
    WorkOrderStep,
)
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


def write(session: Session, event: ProductionEvent, result: ScanResult) -> None:
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
    jobs: list[WorkOrder] = []
    if event.work_order_id is not None:
        wo = session.get(WorkOrder, event.work_order_id)
        assert wo is not None
        jobs.append(wo)
        if event.kind in JOB_KINDS:
            rows.append(("production.job", job_key(str(wo.number)), _job_status(session, wo)))
        step = session.get(WorkOrderStep, event.step_id) if event.step_id else None
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
    ids = sorted({w.id for w in jobs})
    if ids and session.get_bind().dialect.name != "sqlite":  # SQLite: one writer at a time
        session.execute(select(WorkOrder.id).where(WorkOrder.id.in_(ids)).with_for_update())
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


def _job_status(session: Session, wo: WorkOrder) -> dict[str, Any]:
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


def _children(session: Session, wo: WorkOrder) -> list[tuple[str, str, dict[str, Any]]]:
    """Child jobs a release made: each gets its own `production.job` message."""
    kids = session.scalars(
        select(WorkOrder).where(WorkOrder.parent_id == wo.id).order_by(WorkOrder.id)
    ).all()
    return [
        ("production.job", job_key(str(k.number)), {**_job_status(session, k), "parent": wo.number})
        for k in kids
    ]


def _step_result(
    session: Session, wo: WorkOrder, step: WorkOrderStep, result: ScanResult
) -> dict[str, Any]:
    moved: list[dict[str, Any]] = []
    if result.ledger_events:
        events = session.execute(
            select(Event.id, Event.kind, Event.result)
            .where(Event.id.in_([e for e in result.ledger_events if e]))
            .order_by(Event.id)
        ).all()
        for ev_id, kind, res in events:
            for ln in (res or {}).get("lines", []):
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


def _labour(
    session: Session, wo: WorkOrder, event: ProductionEvent
) -> list[tuple[str, str, dict[str, Any]]]:
    closed = session.execute(
        select(LabourRecord, Person.code, Person.name, Workstation.code, WorkOrderStep.sequence)
        .join(Person, Person.id == LabourRecord.person_id)
        .join(Workstation, Workstation.id == LabourRecord.workstation_id)
        .join(WorkOrderStep, WorkOrderStep.id == LabourRecord.step_id)
        .where(LabourRecord.end_event_id == event.id)
        .order_by(LabourRecord.id)
    ).all()
    if not closed:
        return []
    charged = timekeeping.labour_minutes(session, wo.id, event.occurred_at)
    out = []
    for rec, person, name, ws, sequence in closed:
        assert rec.ended_at is not None
        span = timekeeping.seconds_between(rec.started_at, rec.ended_at) / 60
        out.append(
            (
                "labour.time",
                job_key(str(wo.number)),
                {
                    "work_order": wo.number,
                    "step": sequence,
                    "person": person,
                    "person_name": name,
                    "workstation": ws,
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
    session: Session, wo: WorkOrder, step_ids: set[int], at: dt.datetime
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
    seqs = dict(
        session.execute(
            select(WorkOrderStep.id, WorkOrderStep.sequence).where(WorkOrderStep.id.in_(per_step))
        ).all()
    )
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


def _machine_state(
    session: Session, event: ProductionEvent
) -> list[tuple[str, str, dict[str, Any]]]:
    ws = session.get(Workstation, event.workstation_id or 0)
    assert ws is not None
    closed = session.scalars(
        select(MachineRecord)
        .where(MachineRecord.workstation_id == ws.id, MachineRecord.ended_at == event.occurred_at)
        .where(MachineRecord.event_id != event.id)
        .order_by(MachineRecord.id.desc())
        .limit(1)
    ).first()
    opened = session.scalars(
        select(MachineRecord).where(MachineRecord.event_id == event.id)
    ).first()
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


def _jobs_on(session: Session, workstation_id: int) -> list[tuple[WorkOrder, set[int]]]:
    """Jobs with someone clocked on a step at the workstation: machine time lands on them."""
    rows = session.execute(
        select(LabourRecord.work_order_id, LabourRecord.step_id).where(
            LabourRecord.workstation_id == workstation_id, LabourRecord.ended_at.is_(None)
        )
    ).all()
    by_job: dict[int, set[int]] = defaultdict(set)
    for wo_id, step_id in rows:
        by_job[wo_id].add(step_id)
    out = []
    for wo_id in sorted(by_job):
        wo = session.get(WorkOrder, wo_id)
        assert wo is not None
        out.append((wo, by_job[wo_id]))
    return out
