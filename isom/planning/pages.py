"""The planner's pages: shortages, and one item's projected inventory as a plotly chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from isom.planning import scheduling, views
from isom.planning.gantt import bar, gantt
from isom.planning.scheduling import pages as scheduling_pages
from isom.planning.schemas import ProjectionView
from isom.toolkit.charts import figure_dict
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import read_page
from isom.types import utcnow

router = APIRouter(include_in_schema=False)
router.include_router(scheduling_pages.router)


def projection_figure(view: ProjectionView) -> dict[str, Any]:
    """The projected balance as a step line, supplies and demands as bars, zero marked."""
    days = [e.date.isoformat() for e in view.entries]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=days,
            y=[float(e.balance) for e in view.entries],
            mode="lines+markers",
            line={"shape": "hv"},
            name="projected on hand",
            text=[f"{e.kind} {e.ref}: {e.quantity}" for e in view.entries],
        )
    )
    for kind, colour in (("supply", "#2e7d32"), ("demand", "#c62828")):
        rows = [
            e
            for e in view.entries
            if e.kind != "on_hand" and (e.quantity > 0) == (kind == "supply")
        ]
        fig.add_trace(
            go.Bar(
                x=[e.date.isoformat() for e in rows],
                y=[float(e.quantity) for e in rows],
                name=kind,
                marker={"color": colour},
                text=[e.ref for e in rows],
                opacity=0.5,
            )
        )
    fig.add_hline(y=0, line={"color": "#555", "dash": "dot"})
    if view.first_shortage_date is not None:
        fig.add_vline(x=view.first_shortage_date.isoformat(), line={"color": "#c62828"})
    fig.update_layout(
        title=f"{view.item}: projected inventory ({view.unit})",
        barmode="relative",
        xaxis={"title": "date"},
        yaxis={"title": view.unit},
    )
    return figure_dict(fig)


@router.get("/planning")
def shortages_page(request: Request, principal: Caller, db: Db) -> Response:
    """Items projected to go short, with a link to each item's chart."""
    return read_page(
        request, principal, db, "planning.html", lambda s: {"rows": views.shortage_rows(s)}
    )


@router.get("/planning/items/{item}")
def projection_page(
    request: Request,
    item: str,
    principal: Caller,
    db: Db,
    today: dt.date | None = Query(default=None),
) -> Response:
    """One item's projected inventory: chart, movements with running balance, pegging."""

    def read(session: Session) -> dict[str, Any]:
        view = views.projection_view(session, item, today or utcnow().date())
        return {"view": view, "figure": projection_figure(view)}

    return read_page(request, principal, db, "projection.html", read)


def gantt_figure(schedule: scheduling.Schedule) -> dict[str, Any]:
    """Every planned step as a bar on its workstation's row, from planned start to end; late
    steps in red."""
    bars = [
        bar(s, s.workstation or s.operation, s.planned_start, s.planned_end) for s in schedule.steps
    ]
    return gantt(bars, title="Backward schedule of open jobs", row_height=45)


@router.get("/planning/schedule")
def schedule_page(
    request: Request, principal: Caller, db: Db, learned: bool = Query(default=False)
) -> Response:
    """The backward schedule as a Gantt chart per workstation, and the days over capacity."""

    def read(session: Session) -> dict[str, Any]:
        plan = scheduling.backward_schedule(session, learned=learned)
        return {"plan": plan, "figure": gantt_figure(plan)}

    return read_page(request, principal, db, "schedule.html", read)
