"""The cost accountant's pages: jobs with actual against standard, and one job's breakdown with
its variances as a waterfall from standard to actual, per job and per batch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from isom.costing import services as costing
from isom.costing.api import COST_READERS
from isom.costing.schemas import JobCost
from isom.errors import Forbidden
from isom.production import queries as production_queries
from isom.toolkit.charts import figure_dict
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import error_page, fmt_money, may, read_page

router = APIRouter(include_in_schema=False)
RECENT_JOBS = 50
VARIANCES = (
    ("material_price", "material price"),
    ("material_usage", "material usage"),
    ("labour_efficiency", "labour efficiency"),
    ("labour_rate", "labour rate"),
    ("machine", "machine"),
    ("scrap", "scrap"),
    ("overhead", "overhead"),
)


def _recent_costs(session: Session) -> list[JobCost]:
    numbers = production_queries.costed_job_numbers(session, limit=RECENT_JOBS)
    return [costing.job_cost(session, n) for n in numbers]


def waterfall(cost: JobCost) -> dict[str, Any]:
    """Standard cost, each variance as a step up or down, and the actual cost it lands on."""
    labels = ["standard"] + [label for _, label in VARIANCES] + ["actual"]
    values = [cost.standard.total]
    values += [getattr(cost.variances, name) for name, _ in VARIANCES]
    values.append(cost.actual.total)
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=[float(v) for v in values],
            measure=["absolute"] + ["relative"] * len(VARIANCES) + ["total"],
            text=[fmt_money(v) for v in values],
            increasing={"marker": {"color": "#b42318"}},
            decreasing={"marker": {"color": "#1a7f37"}},
            totals={"marker": {"color": "#0b5cab"}},
        )
    )
    fig.update_layout(title=f"{cost.work_order}: standard to actual", yaxis={"title": "cost"})
    return figure_dict(fig)


@router.get("/costing")
def costs_page(request: Request, principal: Caller, db: Db) -> Response:
    """The latest jobs: actual against standard, and the variance of each."""
    if not may(principal, COST_READERS):
        return error_page(request, principal, Forbidden(f"{principal.name} may not read costs"))
    return read_page(request, principal, db, "costs.html", lambda s: {"jobs": _recent_costs(s)})


@router.get("/costing/jobs/{number}")
def job_cost_page(request: Request, number: str, principal: Caller, db: Db) -> Response:
    """One job's cost by element, its variances, its batches and the materials it used."""
    if not may(principal, COST_READERS):
        return error_page(request, principal, Forbidden(f"{principal.name} may not read costs"))

    def read(session: Session) -> dict[str, Any]:
        cost = costing.job_cost(session, number)
        return {
            "cost": cost,
            "batches": costing.batch_costs(session, number),
            "figure": waterfall(cost),
        }

    return read_page(
        request, principal, db, "job_cost.html", read, variances=VARIANCES, zero=Decimal(0)
    )
