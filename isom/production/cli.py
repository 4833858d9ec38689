"""`isom production ...`: the WIP board, a job, learned times; costing adds cost and batches."""

from __future__ import annotations

import json

import typer

from isom.production import queries

app = typer.Typer(no_args_is_help=True)


@app.command()
def wip(
    stuck_minutes: int = typer.Option(30, help="Running with no event this long = stuck"),
) -> None:
    """Print the live WIP board as JSON."""
    from isom.schema import open_db

    board = open_db().read(lambda s: queries.wip(s, stuck_minutes=stuck_minutes))
    typer.echo(json.dumps(board.model_dump(mode="json"), indent=2))


@app.command()
def job(number: str) -> None:
    """Print a work order with its steps as JSON."""
    from isom.schema import open_db

    view = open_db().read(lambda s: queries.work_order(s, number))
    typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))


@app.command()
def learned() -> None:
    """Print learned setup, run and cleanup times beside the standards, as JSON."""
    from isom.schema import open_db

    result = open_db().read(queries.learned_times)
    typer.echo(json.dumps([t.model_dump(mode="json") for t in result], indent=2))
