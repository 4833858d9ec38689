"""Receiving: material from a supplier into a container, and empty containers made."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN
from typing import Any

from sqlalchemy.orm import Session

from isom.ledger.models import (
    ContentStatus,
    Event,
    EventKind,
)
from isom.ledger.operations.frame import (
    _event_at,
    _label_item,
    _lot_in,
    _new_container_of,
    operation,
)
from isom.ledger.posting import COST_QUANTUM, Box, Edge, Posting
from isom.ledger.schemas import (
    CreateContainerCommand,
    ReceiveCommand,
    ReceiveLine,
)
from isom.masterdata import services as md
from isom.masterdata.models import Supplier


def _receive(
    session: Session, event: Event, cmd: ReceiveCommand, posting: Posting
) -> dict[str, Any]:
    """A labelled container arrives from a supplier with lines of item, lot, quantity and cost."""
    location = md.get_location(session, cmd.location, field="location")
    supplier = md.get_supplier(session, cmd.supplier) if cmd.supplier else None
    cont = _new_container_of(session, posting, event, cmd, location, "container")
    for i, line in enumerate(cmd.lines):
        receive_line(session, event, posting, cont, line, supplier, f"lines[{i}]")
    _event_at(event, location)
    event.reference = cmd.reference
    return {"container": cont.code, "location": location.code}


receive = operation(EventKind.receive, _receive)


def receive_line(
    session: Session,
    event: Event,
    posting: Posting,
    cont: Box,
    line: ReceiveLine,
    supplier: Supplier | None,
    field: str,
) -> None:
    """One supplier line into a container: its lot, its cost per base unit, its genealogy edge
    (a plain receipt and an SSCC pallet's cases both take their lines this way)."""
    item = _label_item(posting, md.get_item(session, line.item, field=f"{field}.item"))
    qty = md.to_base_quantity(session, item, line.quantity, line.unit, field=f"{field}.quantity")
    unit_cost = (line.unit_cost * line.quantity / qty).quantize(
        COST_QUANTUM, rounding=ROUND_HALF_EVEN
    )
    lot = _lot_in(
        session,
        posting,
        event,
        item,
        line.lot,
        qty,
        field=f"{field}.lot",
        supplier_id=supplier.id if supplier else None,
    )
    lot_id = lot.id if lot else None
    posting.transfer(
        item_id=item.id,
        lot_id=lot_id,
        quantity=qty,
        unit_cost=unit_cost,
        source=f"supplier:{supplier.code}" if supplier else "supplier",
        target=cont,
        source_status=ContentStatus.available,
        target_status=ContentStatus.available,
    )
    posting.edges.append(
        Edge(item_id=item.id, quantity=qty, to_lot_id=lot_id, to_container_id=cont.id)
    )


def _create_container(
    session: Session, event: Event, cmd: CreateContainerCommand, posting: Posting
) -> dict[str, Any]:
    """Register an empty container (tote, pallet, cart) so it can be filled or nested onto."""
    location = md.get_location(session, cmd.location, field="location")
    cont = _new_container_of(session, posting, event, cmd, location, "container")
    _event_at(event, location)
    return {"container": cont.code, "location": location.code}


create_container = operation(EventKind.create, _create_container)
