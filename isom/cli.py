"""The `isom` command line: serve, demo, migrate, and each domain's sub-commands."""

from __future__ import annotations

import typer

from isom.schema import open_db

app = typer.Typer(
    help="ISOM: an Intelligent System for Operations Management.", no_args_is_help=True
)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    db = open_db()
    typer.echo(f"schema is current on {db.dialect}")


@app.command()
def demo() -> None:
    """Load the demo plant (master data, people, users, containers) into an empty database."""
    from isom import demo as demo_plant

    db = open_db()
    if not demo_plant.load_if_empty(db):
        typer.echo("the database already holds data; the demo plant was not loaded")
    typer.echo("\n".join(demo_plant.login_lines(db)))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    demo_data: bool = typer.Option(
        False,
        "--demo/--no-demo",
        help="Load the demo plant, with its published log-ins, into an empty database",
    ),
    agents: bool = typer.Option(
        True, "--agents/--no-agents", envvar="ISOM_AGENTS", help="Run the agents every few seconds"
    ),
    mqtt: bool = typer.Option(
        False, "--mqtt/--no-mqtt", envvar="ISOM_MQTT_INGEST", help="Ingest device events from MQTT"
    ),
) -> None:
    """Migrate the database and serve the app (with `--demo`, load the demo plant first)."""
    import os

    import uvicorn

    os.environ["ISOM_AGENTS"] = "on" if agents else "off"
    os.environ["ISOM_MQTT_INGEST"] = "1" if mqtt else "0"

    from isom import demo as demo_plant
    from isom.auth import services as auth_service
    from isom.web.app import create_app

    db = open_db()
    if demo_data and demo_plant.load_if_empty(db):
        typer.echo("first start: the demo plant is loaded")
    logins = demo_plant.login_lines(db)
    if logins:
        typer.echo("\n".join(logins))
    elif not db.read(auth_service.list_users):
        typer.echo(
            "no users yet: add the first administrator with "
            "`isom users add NAME --role admin` (it asks for the password)"
        )
    typer.echo(f"ISOM serves http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    from isom import logs

    logs.configure()  # JSON lines with the request id; uvicorn's access log is ours instead
    uvicorn.run(
        create_app(db), host=host, port=port, log_config=None, access_log=False, proxy_headers=False
    )


def _register() -> None:
    from isom.ops.cli import backup, restore

    app.command("backup")(backup)
    app.command("restore")(restore)

    from isom.ledger.cli import app as ledger_app

    app.add_typer(ledger_app, name="ledger", help="The container ledger: verify, events.")

    from isom.masterdata.cli import app as md_app

    app.add_typer(md_app, name="md", help="Master data: import from CSV/JSON, list.")

    from isom.production.cli import app as production_app

    app.add_typer(production_app, name="production", help="Work orders, WIP board, job cost.")

    from isom.costing.cli import batches, cost

    production_app.command("cost")(cost)
    production_app.command("batches")(batches)

    from isom.orders.cli import app as orders_app

    app.add_typer(orders_app, name="orders", help="Customer and purchase orders: import, demand.")

    from isom.planning.cli import app as planning_app

    app.add_typer(planning_app, name="planning", help="Projected inventory, netting, schedule.")

    from isom.agents.cli import app as agents_app

    app.add_typer(agents_app, name="agents", help="Agents: run, decisions, approve, reject.")

    from isom.auth.cli import tokens_app, users_app

    app.add_typer(users_app, name="users", help="Users and their roles.")
    app.add_typer(tokens_app, name="tokens", help="API tokens for devices, the ERP and scripts.")

    from isom.devices.cli import app as devices_app
    from isom.devices.cli import simulate

    app.add_typer(devices_app, name="devices", help="Devices: MQTT ingest, scans, labels.")
    app.command("simulate")(simulate)

    from isom.integration.cli import app as feed_app
    from isom.integration.cli import export_app

    app.add_typer(feed_app, name="feed", help="The ERP feed: webhook delivery, NATS relay.")
    app.add_typer(export_app, name="export", help="Exports: CSV, EPCIS 2.0, B2MML.")
    from isom.integration.cli import reconcile_app

    app.add_typer(reconcile_app, name="reconcile", help="The ERP's inventory against ours.")


_register()

if __name__ == "__main__":  # pragma: no cover
    app()
