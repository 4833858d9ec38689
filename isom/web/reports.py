"""The reports page: throughput, cycle and queue time, machine utilisation, labour efficiency
and inventory history, each a chart beside the table of its exact figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from isom.ledger import queries as ledger_queries
from isom.production import reports
from isom.toolkit.charts import figure_dict
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import guarded, render
from isom.types import utcnow

router = APIRouter(include_in_schema=False)
STATE_COLOURS = {
    "run": "#1a7f37",
    "setup": "#0b5cab",
    "cleanup": "#6639ba",
    "idle": "#9aa5b1",
    "down": "#b42318",
    "unrecorded": "#e3e8ee",
}


def _figures(
    report: reports.ShopReport, history: list[ledger_queries.DayBalance] | None, item: str | None
) -> dict[str, dict[str, Any]]:
    figs: dict[str, dict[str, Any]] = {}
    through = go.Figure()
    for code in sorted({t.item for t in report.throughput}):
        rows = [t for t in report.throughput if t.item == code]
        through.add_trace(
            go.Bar(
                x=[r.day.isoformat() for r in rows], y=[float(r.quantity) for r in rows], name=code
            )
        )
    through.update_layout(
        title="Finished per day", barmode="stack", yaxis={"title": "good quantity"}
    )
    figs["throughput"] = figure_dict(through)

    cycles = go.Figure(
        go.Bar(
            x=[c.work_order for c in report.cycles],
            y=[float(c.hours) for c in report.cycles],
            text=[c.item for c in report.cycles],
        )
    )
    cycles.update_layout(
        title="Cycle time per job (release to completion)", yaxis={"title": "hours"}
    )
    figs["cycles"] = figure_dict(cycles)

    queues = go.Figure()
    ops = [q.operation for q in report.queues]
    queues.add_trace(
        go.Bar(x=ops, y=[float(q.mean_queue_minutes) for q in report.queues], name="waiting")
    )
    queues.add_trace(
        go.Bar(x=ops, y=[float(q.mean_run_minutes) for q in report.queues], name="running")
    )
    queues.update_layout(title="Mean minutes per step", barmode="group", yaxis={"title": "minutes"})
    figs["queues"] = figure_dict(queues)

    util = go.Figure()
    stations = [u.workstation for u in report.utilisation]
    for state, colour in STATE_COLOURS.items():
        util.add_trace(
            go.Bar(
                y=stations,
                x=[float(u.hours.get(state, 0)) for u in report.utilisation],
                name=state,
                orientation="h",
                marker={"color": colour},
            )
        )
    util.update_layout(title="Machine time by state", barmode="stack", xaxis={"title": "hours"})
    figs["utilisation"] = figure_dict(util)

    labour = go.Figure(
        go.Bar(
            x=[p.name for p in report.labour],
            y=[float(p.efficiency_percent or 0) for p in report.labour],
        )
    )
    labour.add_hline(y=100, line={"color": "#555", "dash": "dot"})
    labour.update_layout(title="Labour efficiency (earned / worked)", yaxis={"title": "%"})
    figs["labour"] = figure_dict(labour)

    if history is not None and item:
        inv = go.Figure(
            go.Scatter(
                x=[h.day.isoformat() for h in history],
                y=[float(h.quantity) for h in history],
                mode="lines+markers",
                line={"shape": "hv"},
                name=item,
            )
        )
        inv.update_layout(
            title=f"{item} in containers at the end of each day", yaxis={"title": "quantity"}
        )
        figs["inventory"] = figure_dict(inv)
    return figs


@router.get("/reports")
def reports_page(
    request: Request,
    principal: Caller,
    db: Db,
    days: int = Query(default=14, ge=1, le=366),
    item: str | None = Query(default=None, max_length=64),
) -> Response:
    """The last `days` of the shop floor, and one item's inventory history."""
    chosen = (item or "").strip() or None

    def load(s: Session) -> dict[str, Any]:
        now = utcnow()
        report = reports.shop_report(s, days=days, now=now)
        history = (
            ledger_queries.on_hand_history(s, chosen, now - dt.timedelta(days=days), now)
            if chosen
            else None
        )
        return {"report": report, "history": history}

    def build() -> Response:
        data = db.read(load)
        figures = _figures(data["report"], data["history"], chosen)
        return render(
            request,
            "reports.html",
            principal,
            days=days,
            item=chosen or "",
            figures=figures,
            **data,
        )

    return guarded(request, principal, build)
