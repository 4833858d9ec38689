"""`isom planning ...`: refresh projections, an item's projection, net requirements, schedule."""

from __future__ import annotations

import datetime as dt
import json

import typer

from isom.planning import projection, scheduling, views
from isom.types import utcnow

app = typer.Typer(no_args_is_help=True)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text) if text else utcnow().date()


@app.command()
def refresh(
    full: bool = typer.Option(False, help="Rebuild every item, not only dirty ones"),
) -> None:
    """Bring the stored projections up to date."""
    from isom.schema import open_db

    db = open_db()
    if full:
        typer.echo(f"{db.write(projection.refresh_all)} items projected")
    else:
        typer.echo(f"{len(db.write(projection.refresh_dirty))} dirty items projected")


@app.command()
def item(code: str, today: str = typer.Option("", help="YYYY-MM-DD; default today")) -> None:
    """Print an item's projection with pegging as JSON."""
    from isom.schema import open_db

    view = open_db().read(lambda s: views.projection_view(s, code, _day(today)))
    typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))


@app.command()
def net(today: str = typer.Option("", help="YYYY-MM-DD; default today")) -> None:
    """Print the multi-level net requirements as JSON."""
    from isom.schema import open_db

    result = open_db().read(lambda s: views.net_view(s, _day(today)))
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))


@app.command()
def schedule(learned: bool = typer.Option(False, help="Use times learned from history")) -> None:
    """Print the backward schedule and the load per workstation and day as JSON."""
    from isom.schema import open_db

    result = open_db().read(lambda s: scheduling.backward_schedule(s, learned=learned))
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
