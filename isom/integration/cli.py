"""`isom feed ...` (webhook delivery worker, NATS relay), `isom export ...` (files) and
`isom reconcile load FILE` (the ERP's inventory against the containers)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import typer

from isom.errors import IsomError
from isom.integration import b2mml, csv_export, delivery, epcis, feed, nats_relay, reconcile

app = typer.Typer(no_args_is_help=True)
export_app = typer.Typer(no_args_is_help=True)
reconcile_app = typer.Typer(no_args_is_help=True)


@app.command()
def deliver(
    once: bool = typer.Option(False, help="One pass, then exit"),
    idle_sleep: float = typer.Option(0.5, help="Seconds to wait when there is nothing to send"),
) -> None:
    """Deliver the feed to every webhook subscriber (a loop; stop with Ctrl-C)."""
    from isom.schema import open_db

    logging.basicConfig(level=logging.INFO)
    db = open_db()
    if once:
        report = delivery.deliver_once(db)
        typer.echo(
            f"delivered {report.delivered}, failed {report.failed}, "
            f"dead-lettered {report.dead_lettered}"
        )
        for err in report.errors:
            typer.echo(f"  {err}", err=True)
        return
    try:
        delivery.deliver_forever(db, idle_sleep=idle_sleep)
    except KeyboardInterrupt:
        typer.echo("stopped")


@app.command()
def relay(
    url: str = typer.Option(nats_relay.DEFAULT_URL, help="NATS server URL"),
    idle_sleep: float = typer.Option(0.5, help="Seconds to wait when there is nothing to send"),
    pipeline: bool = typer.Option(
        False, help="Send a batch before awaiting its acks (faster; see nats_relay.relay_once)"
    ),
) -> None:
    """Relay the feed to NATS JetStream (stream ISOM_FEED; a loop; stop with Ctrl-C)."""
    from isom.schema import open_db

    db = open_db()
    try:
        asyncio.run(nats_relay.relay_forever(db, url, idle_sleep=idle_sleep, pipeline=pipeline))
    except KeyboardInterrupt:
        typer.echo("stopped")


@app.command()
def show(
    after: int = typer.Option(0, help="Cursor: show messages after this sequence number"),
    limit: int = typer.Option(20, help="How many"),
) -> None:
    """Print feed messages as JSON lines."""
    from isom.schema import open_db

    db = open_db()
    feed.sync(db)
    page = db.read(lambda s: feed.page(s, after, limit))
    for m in page.messages:
        typer.echo(m.model_dump_json())
    typer.echo(f"# next cursor: {page.next_cursor}", err=True)


@app.command()
def subscribers() -> None:
    """List webhook subscribers and how far each has got."""
    from isom.schema import open_db

    db = open_db()
    for s in db.read(delivery.list_subscribers):
        state = "paused" if s.paused else "active"
        typer.echo(
            f"{s.name}\t{state}\t{s.cursor}/{s.head}\tdead={s.dead_letters}\t{s.url}"
            + (f"\tlast error: {s.last_error}" if s.last_error else "")
        )


@app.command("dead-letters")
def dead_letters_command(name: str = typer.Argument(..., help="The subscriber")) -> None:
    """List a subscriber's dead letters (those not yet taken by a re-send) as JSON lines."""
    from isom.schema import open_db

    try:
        letters = open_db().read(lambda s: delivery.dead_letters(s, name))
    except IsomError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    for letter in letters:
        typer.echo(letter.model_dump_json())


@app.command()
def resend(
    name: str = typer.Argument(..., help="The subscriber"),
    letter_id: int = typer.Argument(..., help="The dead letter's id"),
) -> None:
    """Send one dead letter again, alone; once the receiver takes it, it is cleared."""
    from isom.schema import open_db

    try:
        view = delivery.resend_dead_letter(open_db(), name, letter_id)
    except IsomError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"dead letter {view.id} (seq {view.seq}) taken by {name}; cleared")


@export_app.command("inventory")
def export_inventory(out: Path = typer.Argument(..., help="CSV file to write")) -> None:
    """Inventory by item, location, lot and status as CSV."""
    from isom.schema import open_db

    out.write_text(open_db().read(csv_export.inventory_csv), encoding="utf-8")
    typer.echo(f"wrote {out}")


@export_app.command("feed")
def export_feed(
    out: Path = typer.Argument(..., help="CSV file to write"),
    after: int = typer.Option(0, help="Cursor"),
) -> None:
    """The feed's messages after a cursor as CSV."""
    from isom.schema import open_db

    db = open_db()
    feed.sync(db)
    out.write_text(db.read(lambda s: csv_export.feed_csv(s, after)), encoding="utf-8")
    typer.echo(f"wrote {out}")


@export_app.command("epcis")
def export_epcis(out: Path = typer.Argument(..., help="JSON-LD file to write")) -> None:
    """Every ledger event as one EPCIS 2.0 JSON-LD document (first 10000 events)."""
    from isom.schema import open_db

    doc, _ = open_db().read(lambda s: epcis.query(s, epcis.EpcisQuery(per_page=10_000)))
    doc["type"] = "EPCISDocument"
    doc["epcisBody"] = {"eventList": doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]}
    out.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    typer.echo(f"wrote {out}")


@export_app.command("b2mml-lots")
def export_b2mml(out: Path = typer.Argument(..., help="XML file to write")) -> None:
    """Inventory by lot as a B2MML V0700 SyncMaterialLot."""
    from isom.schema import open_db

    out.write_text(open_db().read(lambda s: b2mml.sync_material_lot(s)), encoding="utf-8")
    typer.echo(f"wrote {out}")


@export_app.command("b2mml-performance")
def export_b2mml_performance(
    out: Path = typer.Argument(..., help="XML file to write"),
    work_order: str | None = typer.Option(None, help="One job; default every started job"),
) -> None:
    """Production results as a B2MML V0700 SyncOperationsPerformance."""
    from isom.schema import open_db

    xml = open_db().read(lambda s: b2mml.sync_operations_performance(s, work_order=work_order))
    out.write_text(xml, encoding="utf-8")
    typer.echo(f"wrote {out}")


@reconcile_app.command("load")
def reconcile_command(
    source: Path = typer.Argument(..., help="The ERP's inventory: .csv or .json"),
    out: Path | None = typer.Option(None, help="Write the differences to this CSV file"),
) -> None:
    """Compare the ERP's inventory with the containers and list the differences."""
    from isom.schema import open_db

    fmt = "json" if source.suffix.lower() == ".json" else "csv"
    text = source.read_text(encoding="utf-8")
    view = open_db().write(lambda s: reconcile.load(s, text, fmt, source=source.name, actor="cli"))
    typer.echo(
        f"reconciliation {view.id}: {view.erp_rows} ERP rows, {view.matched} match, "
        f"{len(view.differences)} differ"
    )
    for d in view.differences:
        typer.echo(
            f"  {d.item}\t{d.location}\t{d.lot or '-'}\terp {d.erp_quantity}\t"
            f"isom {d.isom_quantity}\tdiff {d.difference} {d.unit}"
        )
    if out is not None:
        out.write_text(reconcile.differences_csv(view), encoding="utf-8")
        typer.echo(f"wrote {out}")
