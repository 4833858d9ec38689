"""`isom ledger ...`: verify the ledger against its events, and look at inventory."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from isom.ledger import queries
from isom.ledger.verify import verify as verify_ledger

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command()
def verify() -> None:
    """Rebuild contents, container places and balances from the events; exit 1 on any difference."""
    from isom.schema import open_db

    db = open_db()
    started = time.perf_counter()
    with console.status("rebuilding projections from the event history..."):
        report = db.read(verify_ledger)
    elapsed = time.perf_counter() - started
    console.print(
        f"checked {report.events} events, {report.lines} lines, {report.containers} containers, "
        f"{report.balances} balances in {elapsed:.2f}s"
    )
    if report.ok:
        console.print("[green]ledger verified: every projection matches the events[/green]")
        return
    table = Table("projection", "key", "expected", "actual", "events")
    for diff in report.differences[:200]:
        table.add_row(
            diff.projection,
            str(diff.key),
            str(diff.expected),
            str(diff.actual),
            ", ".join(map(str, diff.events)),
        )
    console.print(table)
    console.print(f"[red]{len(report.differences)} difference(s)[/red]")
    raise typer.Exit(1)


@app.command()
def inventory(
    item: str | None = typer.Option(None, help="Item code"),
    location: str | None = typer.Option(None, help="Location code (includes everything below)"),
    lot: str | None = typer.Option(None, help="Lot code"),
) -> None:
    """Print inventory by item, location, lot and status."""
    from isom.schema import open_db

    db = open_db()
    page = db.read(lambda s: queries.inventory(s, item=item, location=location, lot=lot))
    table = Table("item", "location", "lot", "status", "quantity", "unit")
    for row in page.rows:
        table.add_row(
            row.item, row.location, row.lot or "", row.status.value, f"{row.quantity:f}", row.unit
        )
    console.print(table)
