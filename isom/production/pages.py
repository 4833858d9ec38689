"""Production pages: the live WIP board (kept current by server-sent events) and learned times."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from isom.production import queries
from isom.toolkit.charts import figure_dict
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import read_page

router = APIRouter(include_in_schema=False)


@router.get("/wip")
def wip_page(request: Request, principal: Caller, db: Db) -> Response:
    """Every open job, its step, what is where and who is on it; updates itself."""
    return read_page(request, principal, db, "wip.html", lambda s: {"board": queries.wip(s)})


def learned_figure(times: list[queries.LearnedTime]) -> dict[str, Any]:
    """Per group, a run of its mean length as actual and standard bars, stacked by phase."""
    labels: list[str] = []
    phases: dict[str, list[float]] = {"setup": [], "run": [], "cleanup": []}
    for t in times:
        group = f"{t.operation} {t.item} @{t.workstation} ({t.run_length})"
        for kind in ("standard", "actual"):
            labels.append(f"{group} {kind}")
            if kind == "actual":
                run = t.run_minutes_per_unit * t.mean_run_length
                parts = (t.setup_minutes, run, t.cleanup_minutes)
            else:
                run = t.standard_run_minutes_per_unit * t.mean_run_length
                parts = (t.standard_setup_minutes, run, t.standard_cleanup_minutes)
            for phase, value in zip(phases, parts, strict=True):
                phases[phase].append(float(value))
    fig = go.Figure()
    for phase, colour in (("setup", "#8d6e63"), ("run", "#1565c0"), ("cleanup", "#9e9e9e")):
        fig.add_trace(
            go.Bar(y=labels, x=phases[phase], name=phase, orientation="h", marker={"color": colour})
        )
    fig.update_layout(
        title="Minutes for a run of the mean length: actual against standard",
        barmode="stack",
        xaxis={"title": "minutes"},
        yaxis={"autorange": "reversed"},
        height=140 + 40 * len(labels),
        margin={"l": 320, "r": 20, "t": 50, "b": 40},
    )
    return figure_dict(fig)


@router.get("/learned-times")
def learned_times_page(request: Request, principal: Caller, db: Db) -> Response:
    """Actual setup, run and cleanup learned from done steps, beside the standards."""

    def read(session: Session) -> dict[str, Any]:
        times = queries.learned_times(session)
        return {"times": times, "figure": learned_figure(times)}

    return read_page(request, principal, db, "learned_times.html", read)
