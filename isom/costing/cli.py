"""`isom production cost` and `isom production batches`: a job's cost, printed as JSON.

They sit under `isom production` for the person asking about a job; costing provides them, so
production does not import costing (isom/cli.py mounts them).
"""

from __future__ import annotations

import json

import typer

from isom.costing import services as costing


def cost(number: str) -> None:
    """Print a job's actual cost against standard, with the variance split, as JSON."""
    from isom.schema import open_db

    result = open_db().read(lambda s: costing.job_cost(s, number))
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))


def batches(number: str) -> None:
    """Print the cost of each finished lot (batch) of a job against standard, as JSON."""
    from isom.schema import open_db

    result = open_db().read(lambda s: costing.batch_costs(s, number))
    typer.echo(json.dumps([b.model_dump(mode="json") for b in result], indent=2))
