"""EPCIS 2.0 capture: documents from outside become ledger events, once per eventID.

A captured document is validated against GS1's EPCIS JSON schema, then each event is mapped
(STANDARDS.md's table, read backwards) to the ledger's own services: receiving, moving,
packing and unpacking, shipping, holding and releasing, counting, destroying, repacking.
The whole document is one transaction, all or nothing: the first event that cannot be
applied refuses the document with the path of that event (`epcisBody.eventList[3].epcList[0]`)
and nothing is applied. The answer lists every event with what it did.

The eventID is the idempotency key. The same eventID with the same content (`recordTime`
aside) is a replay and applies nothing; with other content it is refused (409). An event
carrying an `errorDeclaration` reverses, in the ledger, what the event with its eventID
applied: one captured here, or one ISOM exported (named by `isom:ledgerEventId`, checked
against its eventID). Production (a `transformationID` or a `prodorder`) is refused here:
it is recorded by work-order scans, which cost the job."""

from __future__ import annotations

from isom.integration.capture.capturing import CaptureResult, EventOutcome, capture
from isom.integration.capture.mapping import (
    COUNT_STEPS,
    DESTROY_STEPS,
    HOLD_DISPOSITIONS,
    MOVE_STEPS,
    RECEIVE_STEPS,
    RELEASE_DISPOSITIONS,
    SHIP_STEPS,
    UNIT_OF,
    Operation,
    container_code,
)
from isom.integration.capture.validation import StandardsMissing, standards_dir, validate

__all__ = [
    "COUNT_STEPS",
    "CaptureResult",
    "DESTROY_STEPS",
    "EventOutcome",
    "HOLD_DISPOSITIONS",
    "MOVE_STEPS",
    "Operation",
    "RECEIVE_STEPS",
    "RELEASE_DISPOSITIONS",
    "SHIP_STEPS",
    "StandardsMissing",
    "UNIT_OF",
    "capture",
    "container_code",
    "standards_dir",
    "validate",
]
