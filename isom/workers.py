"""`isom worker ingest|feed|agents`: the background work of a plant, each in its own process.

`isom serve` on SQLite runs everything in one process. On PostgreSQL, `isom serve --workers N`
runs API processes that only answer requests, and these long-running workers do the rest beside
them: MQTT ingest, the webhook feed, the agents with the re-planner. Each stops cleanly on
SIGTERM or Ctrl-C, after the work in hand.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

import typer

from isom.db import Database

app = typer.Typer(no_args_is_help=True)
log = logging.getLogger(__name__)


def _start() -> tuple[Database, threading.Event]:
    """The migrated store, logs configured, and an event set by SIGTERM or SIGINT."""
    from isom import logs
    from isom.schema import open_db

    logs.configure()
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    return open_db(), stopping


def _until_stopped(name: str, stopping: threading.Event, stop: Callable[[], None]) -> None:
    log.info("worker %s running", name)
    stopping.wait()
    log.info("worker %s stopping", name)
    stop()
    log.info("worker %s stopped", name)


@app.command()
def ingest() -> None:
    """Apply device events from MQTT (`ISOM_MQTT_HOST`, `ISOM_MQTT_PORT`) until stopped."""
    from isom.devices.mqtt import IngestWorker

    db, stopping = _start()
    worker = IngestWorker(db).start()
    _until_stopped("ingest", stopping, worker.stop)


@app.command()
def feed(
    idle_sleep: float = typer.Option(0.5, help="Seconds to wait when there is nothing to send"),
) -> None:
    """Project job costs into the feed and deliver it to every webhook subscriber until stopped."""
    from isom.integration import delivery
    from isom.integration.job_cost_feed import Projector

    db, stopping = _start()
    projector = Projector(db)
    projector.start()
    log.info("worker feed running")
    delivery.deliver_forever(db, idle_sleep=idle_sleep, stop=stopping.is_set)
    projector.stop()
    log.info("worker feed stopped")


@app.command()
def agents(
    interval: float = typer.Option(
        60.0, envvar="ISOM_AGENTS_INTERVAL", help="Seconds between runs when nothing happens"
    ),
) -> None:
    """Run the agents (every `interval` seconds and soon after events) and the re-planner."""
    from isom.agents.runner import Scheduler
    from isom.planning.scheduling.worker import Replanner

    db, stopping = _start()
    scheduler, replanner = Scheduler(db, interval=interval), Replanner(db)
    scheduler.start()
    replanner.start()

    def stop() -> None:
        scheduler.stop()
        replanner.stop()

    _until_stopped("agents", stopping, stop)
