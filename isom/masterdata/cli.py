"""`isom md`: import master data from an ERP's CSV or JSON, and list it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from isom.errors import IsomError
from isom.masterdata import imports, records

app = typer.Typer(no_args_is_help=True, help="Master data: import and list.")
console = Console()


def fail(console: Console, exc: IsomError) -> NoReturn:
    """Print a refusal (each bad row of an import as a table) and exit 1."""
    console.print(f"[red]{exc.detail}[/red]")
    if exc.errors:
        table = Table("row", "field", "message", "expected")
        for err in exc.errors:
            table.add_row(str(err["row"]), err["field"], err["message"], err["expected"])
        console.print(table)
    elif exc.field:
        console.print(f"field: {exc.field}; expected: {exc.expected or ''}")
    raise typer.Exit(1) from None


@app.command("import")
def import_(
    kind: str = typer.Argument(help=f"One of: {', '.join(imports.IMPORT_KINDS)}"),
    file: Path = typer.Argument(exists=True, dir_okay=False, readable=True, help="A .csv or .json"),
) -> None:
    """Upsert every record of the file by code, all or nothing; print each bad row and exit 1."""
    from isom.schema import open_db

    try:
        fmt = imports.format_of(file.name, None)
        content = file.read_bytes()
        db = open_db()
        result = db.write(lambda s: imports.run(s, kind, content, fmt))
    except IsomError as exc:
        fail(console, exc)
    console.print(
        f"imported {result.rows} {kind} rows: {result.created} created, {result.updated} updated"
    )


@app.command("list")
def list_(
    kind: str = typer.Argument(help=f"One of: {', '.join(records.KINDS)}"),
    q: str | None = typer.Option(None, help="Part of a code or name"),
    limit: int = typer.Option(100, min=1, max=10000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table"),
) -> None:
    """Show the records of a kind by code, as a table or JSON."""
    from isom.schema import open_db

    try:
        rows, total = open_db().read(lambda s: records.list_records(s, kind, q=q, limit=limit))
    except IsomError as exc:
        console.print(f"[red]{exc.detail}[/red] (expected: {exc.expected or ''})")
        raise typer.Exit(1) from None
    dumped = [r.model_dump(mode="json") for r in rows]
    if as_json:
        typer.echo(json.dumps(dumped, indent=2))
        return
    columns = list(records.KINDS[kind].schema_out.model_fields)
    table = Table(*columns, title=f"{kind}: {len(rows)} of {total}")
    for row in dumped:
        table.add_row(*(_short(row[c]) for c in columns))
    console.print(table)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
