"""The `isom` command line: serve, demo, migrate, and each domain's sub-commands."""

from __future__ import annotations

import typer

from isom.db import Database

app = typer.Typer(help="ISOM: an Intelligent System for Operations Management.", no_args_is_help=True)


def open_db() -> Database:
    """The configured store, migrated to the current schema."""
    from isom import schema

    db = Database()
    schema.upgrade(db)
    return db


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    db = open_db()
    typer.echo(f"schema is current on {db.dialect}")


def _register() -> None:
    from isom.ledger.cli import app as ledger_app

    app.add_typer(ledger_app, name="ledger", help="The container ledger: verify, events.")


_register()

if __name__ == "__main__":  # pragma: no cover
    app()
