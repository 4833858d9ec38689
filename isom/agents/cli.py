"""`isom agents ...`: run the agents once with a progress display, list and decide proposals."""

from __future__ import annotations

import datetime as dt

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from isom.agents import queries, runner
from isom.agents import services as agents
from isom.agents.models import DecisionStatus, Mode

app = typer.Typer(no_args_is_help=True)
console = Console()
CLI_ACTOR = agents.Actor(name="cli", device="isom-cli")


@app.command()
def run(
    today: str = typer.Option("", help="Plan as of this date (YYYY-MM-DD); default today (UTC)"),
) -> None:
    """Run every agent once in priority order; the same situation never makes anything twice."""
    from isom.schema import open_db

    db = open_db()
    day = dt.date.fromisoformat(today) if today else None
    table = Table("agent", "decisions", "applied", "proposed", "failed", "noted")
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
    ) as progress:
        task = progress.add_task("agents", total=len(runner.AGENTS) + 1)

        def done(r: runner.AgentRun) -> None:
            progress.update(task, advance=1, description=f"{r.agent}: {r.decisions} new")
            table.add_row(
                r.agent, *(str(x) for x in (r.decisions, r.applied, r.proposed, r.failed, r.noted))
            )

        runner.run_all(db, today=day, actor=CLI_ACTOR, progress=done)
        progress.update(task, advance=1, description="projections refreshed")
    console.print(table)


@app.command()
def decisions(
    status: DecisionStatus | None = typer.Option(None, help="Only decisions in this state"),
    limit: int = typer.Option(50, help="How many, newest first"),
) -> None:
    """List decisions with their explanations."""
    from isom.schema import open_db

    rows = open_db().read(lambda s: queries.decisions(s, status=status, limit=limit))
    for d in rows:
        typer.echo(
            f"#{d.id} {d.agent} {d.kind} {d.status.value} [{d.rule}] {d.demand or '-'}: "
            f"{d.explanation}"
        )


@app.command()
def approve(decision_id: int) -> None:
    """Approve a proposal: it is applied now."""
    from isom.schema import open_db

    d = open_db().write(lambda s: agents.approve(s, CLI_ACTOR, decision_id))
    typer.echo(f"decision {decision_id}: {d.status.value} {d.result}")


@app.command()
def reject(decision_id: int, reason: str = typer.Option(..., help="Why it is turned down")) -> None:
    """Reject a proposal with a reason."""
    from isom.schema import open_db

    open_db().write(lambda s: agents.reject(s, CLI_ACTOR, decision_id, reason))
    typer.echo(f"decision {decision_id}: rejected")


@app.command()
def mode(
    agent: str,
    to: Mode = typer.Argument(..., help="apply or propose"),
    site: str = typer.Option("", help="A site code; all sites if empty"),
) -> None:
    """Make an agent apply its decisions at once or propose them for approval."""
    from isom.schema import open_db

    open_db().write(lambda s: agents.put_setting(s, CLI_ACTOR, agent, site=site or None, mode=to))
    typer.echo(f"{agent} now {to.value}s decisions" + (f" at {site}" if site else ""))
