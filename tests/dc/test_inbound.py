"""Inbound by SSCC: an advised pallet is received with its cases in one scan, one event."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from isom.db import Database
from isom.dc import inbound
from isom.dc.schemas import ReceiveSscc
from isom.errors import Conflict, InvalidInput, NotFound
from isom.ledger.models import Event, EventKind
from tests.dc.support import at, container, contents, dc_site, do, sscc
from tests.ledger.support import assert_verified

PALLET, CASE_1, CASE_2 = sscc(1001), sscc(2001), sscc(2002)
DL = "https://id.gs1.org"


def supplier_advice() -> dict[str, Any]:
    """SensorCo's despatch advice as EPCIS 2.0: one pallet, two cases and what is in them."""
    common = {"eventTime": "2026-11-19T16:00:00.000Z", "eventTimeZoneOffset": "+01:00"}
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-19T16:05:00.000Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "AggregationEvent",
                    **common,
                    "parentID": f"{DL}/00/{CASE_1}",
                    "childEPCs": [],
                    "childQuantityList": [
                        {"epcClass": f"{DL}/01/04012345000054/10/SP-2611", "quantity": 20}
                    ],
                    "action": "ADD",
                    "bizStep": "packing",
                },
                {
                    "type": "AggregationEvent",
                    **common,
                    "parentID": f"{DL}/00/{CASE_2}",
                    "childEPCs": [],
                    "childQuantityList": [{"epcClass": f"{DL}/01/04012345000061", "quantity": 30}],
                    "action": "ADD",
                    "bizStep": "packing",
                },
                {
                    "type": "AggregationEvent",
                    **common,
                    "parentID": f"{DL}/00/{PALLET}",
                    "childEPCs": [f"{DL}/00/{CASE_1}", f"{DL}/00/{CASE_2}"],
                    "action": "ADD",
                    "bizStep": "packing",
                },
                {
                    "type": "ObjectEvent",
                    **common,
                    "epcList": [f"{DL}/00/{PALLET}"],
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    "bizTransactionList": [
                        {"type": "desadv", "bizTransaction": "urn:isom:desadv:SC-DESADV-881"}
                    ],
                    "sourceList": [
                        {"type": "owning_party", "source": "urn:isom:supplier:SENSORCO"}
                    ],
                },
            ]
        },
    }


def receive_events(db: Database) -> int:
    return db.read(
        lambda s: s.scalar(
            select(func.count()).select_from(Event).where(Event.kind == EventKind.receive)
        )
    )


def test_an_advised_pallet_is_received_with_its_cases_in_one_scan(db: Database) -> None:
    dc_site(db)
    advice = db.read(lambda s: inbound.advice_from_epcis(s, supplier_advice()))
    registered = do(db, inbound.register_advice, advice)
    assert (registered.number, registered.detail["pallets"]) == ("SC-DESADV-881", [PALLET])

    # Lina scans the pallet's GS1-128 label at the dock: one scan, one ledger event.
    result = do(
        db,
        inbound.receive_by_sscc,
        ReceiveSscc(scan=f"]C100{PALLET}", location="DC-DOCK-IN", occurred_at=at(7, 5)),
    )
    assert result.status == "received"
    assert result.detail["differences"] == []
    assert receive_events(db) == 1
    assert container(db, PALLET) == {"parent": None, "location": "DC-DOCK-IN", "status": "active"}
    assert container(db, CASE_1)["parent"] == PALLET
    assert container(db, CASE_2)["parent"] == PALLET
    assert contents(db, CASE_1) == {"SENSOR-PROX-M12": "20"}
    assert contents(db, CASE_2) == {"CABLE-M12-5M": "30"}
    view = db.read(lambda s: inbound.pallet_view(s, PALLET))
    assert (view.status, view.supplier, view.received_by) == ("received", "SENSORCO", "tester")

    # The same pallet scanned again is refused and changes nothing.
    with pytest.raises(Conflict, match="received already"):
        do(db, inbound.receive_by_sscc, ReceiveSscc(scan=PALLET, location="DC-DOCK-IN"))
    assert receive_events(db) == 1
    assert_verified(db)


CSV = """pallet_sscc,case,item,lot,expiry_date,quantity,unit_cost
{p},CASE-A,CABLE-TIE-200,FX-7701,,1000,0.018
{p},CASE-B,CABLE-TIE-200,FX-7701,,1000,0.018
{p},CASE-C,BRACKET-M12,,,100,0.85
"""


def test_what_differs_from_the_advice_is_received_as_found_and_flagged(db: Database) -> None:
    dc_site(db)
    pallet = sscc(1002)
    advice = inbound.advice_from_csv(CSV.format(p=pallet), number="FX-ASN-12", supplier="FIXPRO")
    do(db, inbound.register_advice, advice)

    # One case never came; another holds 950 ties, not 1000.
    result = do(
        db,
        inbound.receive_by_sscc,
        ReceiveSscc(
            scan=f"(00){pallet}",
            location="DC-DOCK-IN",
            missing_cases=["CASE-C"],
            counted=[{"case": "CASE-B", "quantity": "950"}],
        ),
    )
    assert result.detail["cases"] == ["CASE-A", "CASE-B"]
    assert result.detail["differences"] == [
        {
            "case": "CASE-B",
            "item": "CABLE-TIE-200",
            "advised": "1000",
            "received": "950",
            "kind": "short",
        },
        {
            "case": "CASE-C",
            "item": "BRACKET-M12",
            "advised": "100",
            "received": "0",
            "kind": "missing",
        },
    ]
    assert contents(db, "CASE-B") == {"CABLE-TIE-200": "950"}
    assert db.read(lambda s: inbound.pallet_view(s, pallet)).differences[1]["kind"] == "missing"
    assert receive_events(db) == 1


def test_a_pallet_nobody_announced_or_a_bad_label_is_refused(db: Database) -> None:
    dc_site(db)
    with pytest.raises(NotFound, match="no despatch advice announces pallet"):
        do(db, inbound.receive_by_sscc, ReceiveSscc(scan=sscc(9999), location="DC-DOCK-IN"))
    with pytest.raises(InvalidInput, match="not a pallet's SSCC"):
        do(db, inbound.receive_by_sscc, ReceiveSscc(scan="PALLET-7", location="DC-DOCK-IN"))
    assert receive_events(db) == 0
