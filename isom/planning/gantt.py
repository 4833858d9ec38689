"""The one Gantt chart both plans draw: bars on rows from start to end, late ones in red."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from isom.toolkit.charts import figure_dict


@dataclass(frozen=True, slots=True)
class Bar:
    """One step on the chart: its row, its span, its label and what hovering it tells."""

    row: str
    start: dt.datetime
    end: dt.datetime
    label: str
    hover: str
    late: bool


def bar(
    step: Any, row: str, start: dt.datetime, end: dt.datetime, on: str = "", tail: str = ""
) -> Bar:
    """A job step's bar, labelled with its job and sequence; hovering tells its operation, item,
    (`on`) and times (then `tail`)."""
    label = f"{step.work_order}/{step.sequence}"
    span = f"{start:%d %b %H:%M} - {end:%d %b %H:%M}"
    return Bar(
        row, start, end, label, f"{label} {step.operation} {step.item}{on}: {span}{tail}", step.late
    )


def gantt(bars: list[Bar], *, title: str, row_height: int) -> dict[str, Any]:
    """Every bar on its row, on-time ones in blue and late ones in red, first row on top."""
    fig = go.Figure()
    for late, colour, name in ((False, "#0b5cab", "on time"), (True, "#b42318", "late")):
        shown = [b for b in bars if b.late == late]
        fig.add_trace(
            go.Bar(
                name=name,
                orientation="h",
                y=[b.row for b in shown],
                base=[b.start.isoformat() for b in shown],
                x=[(b.end - b.start).total_seconds() * 1000 for b in shown],
                text=[b.label for b in shown],
                hovertext=[b.hover for b in shown],
                marker={"color": colour},
            )
        )
    rows = sorted({b.row for b in bars})
    fig.update_layout(
        title=title,
        barmode="overlay",
        xaxis={"type": "date"},
        yaxis={"categoryorder": "array", "categoryarray": rows[::-1]},
        height=160 + row_height * max(len(rows), 1),
    )
    return figure_dict(fig)
