"""`isom orders`: import orders from an ERP's files, list open orders, register a shop."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from isom.errors import IsomError
from isom.ledger import services as ledger
from isom.masterdata import imports as md_imports
from isom.masterdata.cli import fail
from isom.orders import imports, queries, webhook
from isom.orders.schemas import WebhookSourceIn

app = typer.Typer(no_args_is_help=True, help="Customer and purchase orders.")
console = Console()
CLI_ACTOR = ledger.Actor(name="cli")


@app.command("import")
def import_(
    kind: str = typer.Argument(help="customer-orders or purchase-orders"),
    file: Path = typer.Argument(exists=True, dir_okay=False, readable=True, help="A .csv or .json"),
) -> None:
    """Upsert every order of the file, all or nothing; print each bad row and exit 1."""
    from isom.schema import open_db

    try:
        fmt = md_imports.format_of(file.name, None)
        content = file.read_bytes()
        db = open_db()
        result, replayed = db.write(
            lambda s: imports.run(s, CLI_ACTOR, kind, content.decode("utf-8-sig"), fmt)
        )
    except IsomError as exc:
        fail(console, exc)
        return
    note = " (this file was imported before: nothing changed)" if replayed else ""
    console.print(
        f"imported {result.rows} {kind}: {result.created} created, {result.updated} updated{note}"
    )


@app.command("demand")
def demand() -> None:
    """Open customer demand, rush first, then by due date."""
    from isom.schema import open_db

    rows = open_db().read(queries.open_customer_demand)
    table = Table("line", "customer", "item", "open", "reserved", "due", "priority")
    for d in rows:
        table.add_row(
            d.reference,
            d.customer,
            d.item,
            str(d.open_quantity),
            str(d.reserved_quantity),
            d.due_date.isoformat(),
            d.priority.value,
        )
    console.print(table)


@app.command("supply")
def supply() -> None:
    """Open purchase supply by due date."""
    from isom.schema import open_db

    rows = open_db().read(queries.open_purchase_supply)
    table = Table("line", "supplier", "item", "open", "due", "order status")
    for s in rows:
        table.add_row(
            s.reference,
            s.supplier,
            s.item,
            str(s.open_quantity),
            s.due_date.isoformat(),
            s.order_status.value,
        )
    console.print(table)


@app.command("shop")
def shop(
    name: str = typer.Argument(help="The shop's source name (sent in X-Shop-Source)"),
    secret: str = typer.Option(..., prompt=True, hide_input=True, help="The signing secret"),
    default_customer: str | None = typer.Option(None, help="Customer for orders naming none"),
) -> None:
    """Register a shop that may post orders to the webhook, or change its secret."""
    from isom.schema import open_db

    try:
        data = WebhookSourceIn(name=name, secret=secret, default_customer=default_customer)
        created = open_db().write(lambda s: webhook.register_source(s, data)[1])
    except IsomError as exc:
        fail(console, exc)
        return
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"shop {name} {'registered' if created else 'updated'}")
