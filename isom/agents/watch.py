"""Standing alerts: one per item and condition, updated in place, closed when it ends.

Conditions: `shortage` (an item's projected balance goes below zero, from the stored
projection), `at-risk` (an open job whose inputs arrive after it must start, or that nothing
supplies, with the earliest date it can be made), `late-by-plan` (an open job the finite plan
in force finishes after its due date), `surplus` (a started job whose line no longer needs it:
it is kept, and its output goes to stock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from isom.agents import master
from isom.agents.models import Alert, AlertStatus
from isom.orders import queries as orders_queries
from isom.planning import projection
from isom.planning.scheduling import queries as schedule_queries
from isom.production import queries as production_queries
from isom.transitions import move
from isom.types import utcnow

#: Inputs are consumed the day before a job is due; an input arriving on day D lets it be
#: made by D + this.
MAKE_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition that holds now: what, about which item and subject, since when, and why."""

    condition: str
    subject: str
    item_id: int | None
    date: dt.date | None
    text: str

    @property
    def key(self) -> str:
        return f"{self.condition}|{self.subject}"


def conditions(session: Session, today: dt.date) -> list[Condition]:
    """Every shortage, job at risk and surplus job that holds now."""
    codes = master.codes(session)
    jobs = {j.number: j for j in production_queries.open_jobs(session)}
    out: list[Condition] = []
    for code, p in projection.shortages(session):
        low = min((Decimal(e["balance"]) for e in p.entries), default=Decimal(0))
        out.append(
            Condition(
                "shortage",
                code,
                p.item_id,
                p.first_shortage_date,
                f"{code} is projected below zero from {p.first_shortage_date} (lowest "
                f"{low.normalize():f}); short {Decimal(p.shortage_quantity).normalize():f}.",
            )
        )
    out += at_risk(session, jobs, codes)
    out += late_by_plan(session, jobs, codes)
    lines = {d.reference for d in orders_queries.open_customer_demand(session)}
    for job in jobs.values():
        if job.started and job.parent is None and job.customer_line not in lines | {None}:
            out.append(
                Condition(
                    "surplus",
                    job.number,
                    job.item_id,
                    job.due_date,
                    f"{job.number} ({codes[job.item_id]}) has started for "
                    f"{job.customer_line}, which no longer needs it; it is kept and "
                    f"{job.remaining.normalize():f} will go to stock.",
                )
            )
    return out


def at_risk(
    session: Session, jobs: dict[str, production_queries.OpenJob], codes: dict[int, str]
) -> list[Condition]:
    """Jobs whose inputs (or child jobs) come after the job must start, or never come.

    A child job at risk puts its parent at risk too: the parent can be made a day after the
    child at the earliest."""
    risk: dict[str, dict[str, dt.date | None]] = {}
    for item_id, pegs in projection.stored_pegging(session):
        for g in pegs:
            number = str(g["demand"]).rpartition("/")[0]
            if number in jobs and (g["supply"] is None or g["late"]):
                when = dt.date.fromisoformat(g["supply_date"]) if g["supply_date"] else None
                risk.setdefault(number, {})[codes[item_id]] = when
    earliest: dict[str, dt.date | None] = {}
    for number in sorted(risk, key=lambda n: -depth(jobs, n)):  # children before parents
        dates = risk[number].values()
        made_by = None if None in dates else max(d for d in dates if d) + MAKE_AFTER
        earliest[number] = made_by
        parent = jobs[number].parent
        if parent in jobs:
            risk.setdefault(str(parent), {})[f"child {number}"] = made_by
    out = []
    for number, inputs in sorted(risk.items()):
        job, made_by = jobs[number], earliest[number]
        unsupplied = sorted(c for c, d in inputs.items() if d is None)
        late = sorted(c for c, d in inputs.items() if d is not None)
        why = [f"nothing supplies {', '.join(unsupplied)} yet"] if unsupplied else []
        if late:
            why.append(
                f"{', '.join(late)} come too late"
                + (f"; it can be made by {made_by} at the earliest" if made_by else "")
            )
        out.append(
            Condition(
                "at-risk",
                number,
                job.item_id,
                made_by,
                f"{number} ({codes[job.item_id]} x {job.quantity.normalize():f}, due "
                f"{job.due_date}, for {job.customer_line or 'stock'}) is at risk: "
                + "; ".join(why)
                + ".",
            )
        )
    return out


def floors(session: Session, jobs: dict[str, production_queries.OpenJob]) -> dict[str, dt.date]:
    """The earliest day each open job can be made by what its inputs are pegged to: a day
    after the last of them comes. A job something supplies nothing to has none."""
    dates: dict[str, list[str | None]] = {}
    for _, pegs in projection.stored_pegging(session):
        for g in pegs:
            number = str(g["demand"]).rpartition("/")[0]
            if number in jobs:
                dates.setdefault(number, []).append(g["supply_date"])
    return {
        number: max(dt.date.fromisoformat(d) for d in days if d) + MAKE_AFTER
        for number, days in dates.items()
        if None not in days
    }


def late_by_plan(
    session: Session, jobs: dict[str, production_queries.OpenJob], codes: dict[int, str]
) -> list[Condition]:
    """Open jobs that the finite plan in force finishes after their due date."""
    out = []
    for number, finish in sorted(schedule_queries.at_risk(session).items()):
        job = jobs.get(number)
        if job is None:
            continue
        out.append(
            Condition(
                "late-by-plan",
                number,
                job.item_id,
                finish.date(),
                f"{number} ({codes[job.item_id]} x {job.quantity.normalize():f}, due "
                f"{job.due_date}, for {job.customer_line or 'stock'}) is planned to finish "
                f"{finish:%Y-%m-%d %H:%M} UTC, after its due date.",
            )
        )
    return out


def depth(jobs: dict[str, production_queries.OpenJob], number: str) -> int:
    """How many parents a job has (a top-level job: 0)."""
    depth, job = 0, jobs.get(number)
    while job is not None and job.parent is not None and depth < 20:
        depth, job = depth + 1, jobs.get(job.parent)
    return depth


#: An alert opens while its condition holds, closes when it ends and opens again if it returns.
ALERT_TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.open: frozenset({AlertStatus.closed}),
    AlertStatus.closed: frozenset({AlertStatus.open}),
}


def _alert_names(alert: Alert) -> dict[str, str]:
    return {"what": f"alert {alert.key}", "kind": "alert", "field": "alert"}


def sync(session: Session, today: dt.date) -> int:
    """Open, update or close the alerts so they say what holds now; answer how many changed."""
    now = utcnow()
    held = {a.key: a for a in session.scalars(select(Alert))}
    current = {c.key: c for c in conditions(session, today)}
    changed = 0
    opened: list[dict[str, object]] = []
    for key, c in current.items():
        alert = held.get(key)
        if alert is None:
            opened.append(
                {
                    "key": key,
                    "condition": c.condition,
                    "item_id": c.item_id,
                    "subject": c.subject,
                    "status": AlertStatus.open,
                    "date": c.date,
                    "text": c.text[:2000],
                    "opened_at": now,
                    "updated_at": now,
                }
            )
        elif (alert.status, alert.text, alert.date) != (AlertStatus.open, c.text[:2000], c.date):
            if alert.status is AlertStatus.closed:
                alert.opened_at, alert.closed_at = now, None
                move(alert, ALERT_TRANSITIONS, AlertStatus.open, **_alert_names(alert))
            alert.text, alert.date, alert.updated_at = c.text[:2000], c.date, now
            changed += 1
    if opened:  # one statement for the new alerts
        session.execute(insert(Alert), opened)
        changed += len(opened)
    for key, alert in held.items():
        if key not in current and alert.status is AlertStatus.open:
            move(alert, ALERT_TRANSITIONS, AlertStatus.closed, **_alert_names(alert))
            alert.closed_at, alert.updated_at = now, now
            changed += 1
    session.flush()
    return changed


def open_alerts(session: Session) -> list[Alert]:
    """The alerts that hold now, by condition and subject."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.status == AlertStatus.open)
            .order_by(Alert.condition, Alert.subject)
        )
    )
