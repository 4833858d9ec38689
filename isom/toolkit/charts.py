"""Charts on pages: plotly figures rendered in the browser by the plotly.js the package ships.

A plant network often has no internet, so the bundle is served by the app itself. Figures carry
numbers as floats for drawing only; every chart sits beside a table of the exact values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, Response

from isom.auth.services import Principal
from isom.toolkit.deps import current_principal

router = APIRouter(include_in_schema=False)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
HEIGHT = 360
MARGIN = {"l": 50, "r": 20, "t": 50, "b": 40}


def figure_dict(fig: Any) -> dict[str, Any]:
    """A plotly figure as the plain data and layout plotly.js draws (default size and margins
    where the figure sets none)."""
    if fig.layout.height is None:
        fig.update_layout(height=HEIGHT)
    if fig.layout.margin.t is None:
        fig.update_layout(margin=MARGIN)
    figure: dict[str, Any] = json.loads(fig.to_json())
    return figure


@router.get("/charts/plotly.min.js")
def plotly_js(_: Principal = Depends(current_principal)) -> Response:
    """The plotly.js bundle shipped with the plotly package (no CDN needed on a plant network)."""
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )
