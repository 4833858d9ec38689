"""Alerts: what a planner or supervisor should look at, each noted once per situation.

Standing conditions (a shortage, a job at risk, a surplus job) are alerts kept in place by
`watch.py`. Noted once per situation here: `late-job` (an open job past its due date),
`expiring-lot` (available stock of a lot expiring within 30 days, or expired),
`idle-container` (a container holding stock untouched for 14 days).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from isom.agents import master, watch
from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.ledger import queries as ledger_queries
from isom.planning import projection, sources
from isom.production import rows as production_rows
from isom.types import utcnow

AGENT = "alerts"
EXPIRY_WARNING = dt.timedelta(days=30)
IDLE_AFTER = dt.timedelta(days=14)


def _note(kind_rule: str, situation: str, text: str, **fields: Any) -> Proposal:
    return Proposal(
        agent=AGENT,
        kind="alert",
        situation=f"{kind_rule}|{situation}",
        rule=kind_rule,
        explanation=text,
        **fields,
    )


def run(session: Session, actor: agents.Actor, today: dt.date) -> list[Any]:
    """Keep the standing alerts; note each late job, expiring lot and idle container once.

    The standing alerts come from the stored projections, brought up to date first.
    """
    notes: list[Proposal] = []
    codes = master.codes(session)
    projection.refresh_dirty(session, today)  # the stored projections, current to the last event
    watch.sync(session, today)  # shortages, jobs at risk, surplus: one alert each, in place
    for wo in production_rows.jobs(session, statuses=sources.OPEN_JOBS, due_before=today, by="due"):
        notes.append(
            _note(
                "late-job",
                f"{wo.number}|{wo.due_date}",
                f"{wo.number} ({codes[wo.item_id]} x {wo.quantity}) was due {wo.due_date} and is "
                f"still {wo.status.value}"
                + (f"; it serves {wo.customer_line}." if wo.customer_line else "."),
                item_id=wo.item_id,
                demand=wo.customer_line,
                supply=wo.number,
                date=wo.due_date,
            )
        )
    for item_id, lot_code, expiry, qty, site_id in ledger_queries.expiring_lots(
        session, today + EXPIRY_WARNING
    ):
        state = "expired on" if expiry is not None and expiry < today else "expires on"
        notes.append(
            _note(
                "expiring-lot",
                f"{item_id}|{lot_code}|{expiry}|{site_id}|{state}",
                f"lot {lot_code} of {codes[item_id]} ({qty} available) {state} {expiry}.",
                item_id=item_id,
                date=expiry,
                site_id=site_id,
            )
        )
    before = max(utcnow(), dt.datetime.combine(today, dt.time(), dt.UTC)) - IDLE_AFTER
    for code, updated, event_id, site_id in ledger_queries.idle_containers(session, before):
        notes.append(
            _note(
                "idle-container",
                f"{code}|{event_id}",
                f"container {code} holds stock and has not moved since "
                f"{updated:%Y-%m-%d %H:%M} UTC.",
                site_id=site_id,
            )
        )
    return list(agents.decide_all(session, actor, notes))
