"""`isom backup FILE` and `isom restore FILE`: a consistent copy of the store, and back."""

from __future__ import annotations

from pathlib import Path

import typer

from isom.db import Database
from isom.errors import IsomError
from isom.ops import backup as backups


def backup(file: Path = typer.Argument(..., help="The new backup file to write")) -> None:
    """Copy the database to FILE while ISOM keeps running (SQLite backup API, or pg_dump)."""
    try:
        done = backups.backup(Database(), file)
    except IsomError as err:
        typer.echo(f"backup failed: {err.detail}", err=True)
        raise typer.Exit(1) from err
    held = f" holding {done.events} ledger events" if done.events is not None else ""
    typer.echo(f"backed up to {done.path}{held}")


def restore(
    file: Path = typer.Argument(..., help="A file written by `isom backup`"),
    force: bool = typer.Option(False, "--force", help="Replace a database that holds tables"),
) -> None:
    """Load FILE into the configured database and migrate it; stop ISOM's processes first."""
    try:
        done = backups.restore(Database(), file, force=force)
    except IsomError as err:
        typer.echo(f"restore failed: {err.detail}", err=True)
        raise typer.Exit(1) from err
    typer.echo(f"restored {done.path}: {done.events} ledger events; run `isom ledger verify`")
