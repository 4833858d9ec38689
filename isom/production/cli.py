"""`isom production ...`: the WIP board, a job, and a job's cost from the command line."""

from __future__ import annotations

import json

import typer

from isom.costing import services as costing
from isom.production import queries

app = typer.Typer(no_args_is_help=True)


@app.command()
def wip(
    stuck_minutes: int = typer.Option(30, help="Running with no event this long = stuck"),
) -> None:
    """Print the live WIP board as JSON."""
    from isom.cli import open_db

    board = open_db().read(lambda s: queries.wip(s, stuck_minutes=stuck_minutes))
    typer.echo(json.dumps(board.model_dump(mode="json"), indent=2))


@app.command()
def job(number: str) -> None:
    """Print a work order with its steps as JSON."""
    from isom.cli import open_db

    view = open_db().read(lambda s: queries.work_order(s, number))
    typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))


@app.command()
def cost(number: str) -> None:
    """Print a job's actual cost against standard, with the variance split, as JSON."""
    from isom.cli import open_db

    result = open_db().read(lambda s: costing.job_cost(s, number))
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
