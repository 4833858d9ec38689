"""Receiving a whole pallet at once: the pallet and every case on it arrive in one event.

A supplier's pallet (labelled with an SSCC) carries cases (each with its own code) holding item,
lot and quantity. Scanning the pallet at the dock makes the pallet container, a container per
case nested on it, and the supplier -> case lines, all in one ledger event with one idempotency
key: one scan, one event, all or nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from isom.errors import InvalidInput
from isom.ledger import services as ledger
from isom.ledger.models import Event, EventKind
from isom.ledger.operations import frame, receiving
from isom.ledger.posting import Posting
from isom.ledger.schemas import Code, Command, EventResult, ReceiveLine
from isom.masterdata import services as md


class CaseIn(BaseModel):
    """One case on the pallet: its label code and what it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    container_kind: str = Field(default="case", min_length=1, max_length=30)
    lines: list[ReceiveLine] = Field(min_length=1, max_length=50)


class ReceivePalletCommand(Command):
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
            receiving.receive_line(
                session, event, posting, box, line, supplier, f"cases[{i}].lines[{j}]"
            )
    frame._event_at(event, location)
    event.reference = cmd.reference
    return {"container": pallet.code, "cases": codes, "location": location.code}
