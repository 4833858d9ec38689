"""The `isom` command line: serve, demo, migrate, and each domain's sub-commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from isom.schema import open_db

if TYPE_CHECKING:
    from isom.db import Database

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
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        envvar="ISOM_WORKERS",
        help="API processes (PostgreSQL only); they serve requests only: run the agents and "
        "MQTT ingest with `isom worker agents|ingest`",
    ),
) -> None:
    """Migrate the database and serve the app (with `--demo`, load the demo plant first)."""
    import os

    from isom import demo as demo_plant
    from isom.auth import services as auth_service

    db = open_db()
    if workers > 1 and db.is_sqlite:
        typer.echo(
            "--workers needs PostgreSQL: SQLite has one writer, so one process serves it "
            "(`isom serve` runs everything). Set ISOM_DATABASE_URL=postgresql://... for several.",
            err=True,
        )
        raise typer.Exit(2)
    os.environ["ISOM_AGENTS"] = "on" if agents and workers == 1 else "off"
    os.environ["ISOM_MQTT_INGEST"] = "1" if mqtt and workers == 1 else "0"
    os.environ.setdefault("ISOM_PROJECTORS", "on" if workers == 1 else "off")
    if workers > 1:
        os.environ["ISOM_SCHEDULER"] = "off"
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
    if workers > 1:
        typer.echo(
            f"{workers} API processes; agents and MQTT ingest are off in them: run "
            "`isom worker agents`, `isom worker ingest` and `isom worker feed` beside them"
        )
    _run_server(db, host, port, workers)


def _run_server(db: Database, host: str, port: int, workers: int) -> None:
    """uvicorn with its C parser (httptools) and event loop (uvloop): one process holding `db`,
    or `workers` processes each building its own app (uvicorn's factory)."""
    import os
    import tempfile

    import uvicorn

    from isom import logs

    logs.configure()  # JSON lines with the request id; uvicorn's access log is ours instead
    if workers == 1:
        from isom.web.app import create_app

        uvicorn.run(
            create_app(db),
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
        return
    db.dispose()  # each process opens its own connections
    # Metrics from every process, summed by whichever one Prometheus reaches.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="isom-metrics-"))
    uvicorn.run(
        "isom.web.app:create_worker_app",
        factory=True,
        workers=workers,
        # Seconds a process may take to import the app and answer uvicorn's health check (slow
        # on a busy machine), and after which a hung one is restarted.
        timeout_worker_healthcheck=int(os.environ.get("ISOM_WORKER_TIMEOUT", "120")),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def _register() -> None:
    from isom import composition
    from isom.workers import app as worker_app

    app.add_typer(
        worker_app, name="worker", help="Long-running workers: MQTT ingest, feed, agents."
    )
    from isom.ops.cli import backup, restore

    composition.wire()

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

    from isom.auth.cli import auth_app, tokens_app, users_app

    app.add_typer(users_app, name="users", help="Users and their roles.")
    app.add_typer(tokens_app, name="tokens", help="API tokens for devices, the ERP and scripts.")
    app.add_typer(auth_app, name="auth", help="Which sites users and API tokens act in.")

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
