"""`isom devices ...` (listen, resolve, label, seed) and `isom simulate`."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import typer
from rich.console import Console

from isom.db import Database
from isom.errors import IsomError

app = typer.Typer(help="Devices: MQTT ingest, scans, labels.", no_args_is_help=True)


def _open_db() -> Database:
    from isom import schema

    return schema.open_db()


def _fail(exc: IsomError) -> typer.Exit:
    typer.echo(f"error: {exc.detail}", err=True)
    if exc.expected:
        typer.echo(f"expected: {exc.expected}", err=True)
    return typer.Exit(1)


@app.command()
def listen(
    host: str | None = typer.Option(None, help="Broker host (ISOM_MQTT_HOST, 127.0.0.1)"),
    port: int | None = typer.Option(None, help="Broker port (ISOM_MQTT_PORT, 1883)"),
    client_id: str | None = typer.Option(
        None, help="Fixed id, so the broker keeps the session (ISOM_MQTT_CLIENT_ID, isom-ingest)"
    ),
) -> None:
    """Run the MQTT ingest worker until Ctrl-C."""
    from isom.devices.mqtt import IngestWorker

    worker = IngestWorker(_open_db(), host=host, port=port, client_id=client_id).start()
    typer.echo(
        f"listening on mqtt://{worker.host}:{worker.port} isom/+/+/{{scan,rfid,weight,machine}}"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        typer.echo(f"stopped after {worker.handled} messages")


@app.command()
def resolve(data: str = typer.Argument(..., help="The scan; write GS as \\x1d")) -> None:
    """Say what a scanned code names."""
    from isom.devices.scans import resolve as resolve_scan

    text = data.encode().decode("unicode_escape")
    try:
        view = _open_db().read(lambda s: resolve_scan(s, text))
    except IsomError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(view.model_dump(mode="json", exclude_none=True), indent=2))


@app.command()
def label(
    kind: str = typer.Argument(..., help="container, lot, location or badge"),
    code: str = typer.Argument(..., help="Its code (for a lot: the item code)"),
    out: Path = typer.Option(..., "--out", "-o", help="File to write (.pdf or .zpl)"),
    lot: str | None = typer.Option(None, help="The lot, for a lot label"),
    size: str = typer.Option("100x150", help="100x150, 100x50 or 50x25 (mm)"),
) -> None:
    """Write a label as PDF or ZPL."""
    from isom.devices import labels

    if kind not in ("container", "lot", "location", "badge") or size not in labels.SIZES:
        typer.echo(
            "error: kind is container|lot|location|badge; size 100x150|100x50|50x25", err=True
        )
        raise typer.Exit(1)
    try:
        described = _open_db().read(lambda s: labels.describe(s, kind, code, lot))  # type: ignore[arg-type]
    except IsomError as exc:
        raise _fail(exc) from None
    if out.suffix == ".zpl":
        out.write_text(labels.to_zpl(described, size))
    else:
        out.write_bytes(labels.to_pdf(described, size))
    typer.echo(f"wrote {out}")


@app.command("dead-letters")
def dead_letters_command(
    device: str | None = typer.Option(None, help="Only this device's"),
    after: int = typer.Option(0, help="Only letters after this id"),
    limit: int = typer.Option(100, help="How many"),
    raw: bool = typer.Option(False, help="Print the kept bytes (base64) too"),
) -> None:
    """List device messages that were not applied (JSON lines), oldest first."""
    from isom.devices import dead_letters

    letters = _open_db().read(
        lambda s: dead_letters.list_letters(s, device=device, after=after, limit=limit)
    )
    for letter in letters:
        typer.echo(letter.model_dump_json(exclude=None if raw else {"raw_base64"}))


@app.command()
def seed() -> None:
    """Set up the demo plant's GS1 settings, devices and printers (prints new device tokens)."""
    from isom.devices.seed import seed_demo

    try:
        tokens = _open_db().write(seed_demo)
    except IsomError as exc:
        raise _fail(exc) from None
    for code, token in tokens.items():
        typer.echo(f"{code}: {token}")


def simulate(
    events: int = typer.Option(500, help="How many messages to publish"),
    rate: float = typer.Option(20.0, help="Messages per second"),
    seed: int | None = typer.Option(None, help="Random seed, for a repeatable stream"),
) -> None:
    """Publish a realistic stream of scans, weights and machine states for the demo plant."""
    from isom.devices.simulate import run

    console = Console()
    try:
        answers = run(_open_db(), events=events, rate=rate, seed=seed, console=console)
    except IsomError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        typer.echo(f"error: cannot reach the MQTT broker: {exc}", err=True)
        raise typer.Exit(1) from None
    console.print(f"answers: {answers}")
    if sum(answers.values()) == 0:
        console.print("no answers: is the ingest running? (isom devices listen)")
