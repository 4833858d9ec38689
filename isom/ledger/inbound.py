"""Receiving a whole pallet at once: the pallet and every case on it arrive in one event.

A supplier's pallet (labelled with an SSCC) carries cases (each with its own code) holding item,
lot and quantity. Scanning the pallet at the dock makes the pallet container, a container per
case nested on it, and the supplier -> case lines, all in one ledger event with one idempotency
key: one scan, one event, all or nothing.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from isom.errors import InvalidInput
from isom.ledger import services as ledger
from isom.ledger.models import Container, ContentStatus, Event, EventKind
from isom.ledger.operations import frame
from isom.ledger.posting import COST_QUANTUM, Edge, Posting
from isom.ledger.schemas import Code, EventResult, ReceiveLine, _Command
from isom.masterdata import services as md
from isom.masterdata.models import Supplier


class CaseIn(BaseModel):
    """One case on the pallet: its label code and what it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    container_kind: str = Field(default="case", min_length=1, max_length=30)
    lines: list[ReceiveLine] = Field(min_length=1, max_length=50)


class ReceivePalletCommand(_Command):
    """A pallet arrives with its cases: the pallet and each case become containers at once."""

    pallet: Code
    location: Code
    supplier: Code | None = None
    reference: str | None = Field(default=None, max_length=100)
    cases: list[CaseIn] = Field(min_length=1, max_length=500)


def receive_pallet(
    session: Session, actor: ledger.Actor, key: str, cmd: ReceivePalletCommand
) -> EventResult:
    """Receive a pallet and all its cases in one event (supplier -> each case, cases on it)."""
    return frame._run(session, actor, key, EventKind.receive, cmd, _receive_pallet)


def _receive_pallet(
    session: Session, event: Event, cmd: ReceivePalletCommand, posting: Posting
) -> dict[str, Any]:
    codes = [c.code for c in cmd.cases]
    if len(set(codes)) != len(codes) or cmd.pallet in codes:
        raise InvalidInput(
            "case codes must be distinct and differ from the pallet's",
            field="cases",
            expected="one code per case",
        )
    location = md.get_location(session, cmd.location, field="location")
    supplier = md.get_supplier(session, cmd.supplier) if cmd.supplier else None
    pallet = frame._new_container(
        session, posting, event, code=cmd.pallet, kind="pallet", location=location, field="pallet"
    )
    for i, case in enumerate(cmd.cases):
        box = frame._new_container(
            session,
            posting,
            event,
            code=case.code,
            kind=case.container_kind,
            location=location,
            field=f"cases[{i}].code",
        )
        posting.moves[-1].to_parent_id = pallet.id
        for j, line in enumerate(case.lines):
            _receive_line(session, event, posting, box, line, supplier, f"cases[{i}].lines[{j}]")
    frame._event_at(event, location)
    event.reference = cmd.reference
    return {"container": pallet.code, "cases": codes, "location": location.code}


def _receive_line(
    session: Session,
    event: Event,
    posting: Posting,
    box: Container,
    line: ReceiveLine,
    supplier: Supplier | None,
    field: str,
) -> None:
    item = frame._label_item(posting, md.get_item(session, line.item, field=f"{field}.item"))
    qty = md.to_base_quantity(session, item, line.quantity, line.unit, field=f"{field}.quantity")
    unit_cost = (line.unit_cost * line.quantity / qty).quantize(
        COST_QUANTUM, rounding=ROUND_HALF_EVEN
    )
    lot = frame._lot_in(
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
        target=box,
        source_status=ContentStatus.available,
        target_status=ContentStatus.available,
    )
    posting.edges.append(
        Edge(item_id=item.id, quantity=qty, to_lot_id=lot_id, to_container_id=box.id)
    )
