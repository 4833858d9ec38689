"""EPCIS 2.0 capture: documents from outside become ledger events once, all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from isom.db import Database
from isom.integration import capture, epcis
from isom.integration.capture.mapping import _cbv
from isom.ledger.models import Event
from isom.masterdata.models import Item
from isom.web.app import create_app
from tests.builders import token
from tests.integration.conftest import SSCC, standards_dir
from tests.ledger.support import receive, snapshot, stock

API = "/api/v1"
BOX = f"https://id.gs1.org/00/{SSCC}"


@pytest.fixture
def client(pdb: Database) -> Iterator[TestClient]:
    standards_dir("epcis-2.0")
    with TestClient(create_app(pdb)) as c:
        yield c


def loc(code: str) -> dict[str, str]:
    return {"id": f"urn:isom:location:{code}"}


def event(type_: str = "ObjectEvent", **fields: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": "2026-11-27T09:00:00.000Z",
        "eventTimeZoneOffset": "+01:00",
        **fields,
    }


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return epcis.document(list(events))


def wire(quantity: float | int, lot: str = "L7") -> dict[str, Any]:
    return {"epcClass": f"urn:isom:item:WIRE:lot:{lot}", "quantity": quantity, "uom": "MTR"}


def receiving() -> dict[str, Any]:
    return event(
        action="OBSERVE",
        bizStep="receiving",
        epcList=[BOX],
        quantityList=[wire(25.5)],
        bizLocation=loc("BIN-1"),
        readPoint=loc("BIN-1"),
        sourceList=[{"type": "owning_party", "source": "urn:isom:supplier:SUP"}],
        bizTransactionList=[{"type": "po", "bizTransaction": "urn:isom:po:PO-1"}],
    )


def ledger_events(db: Database) -> int:
    return db.read(lambda s: s.scalar(select(func.count()).select_from(Event)) or 0)


def test_a_document_of_every_kind_moves_the_containers_once(
    pdb: Database, client: TestClient
) -> None:
    headers = token(pdb, "integrator")
    pallet = "urn:isom:container:PAL-9"
    tote = "urn:isom:container:T-9"
    events = [
        receiving(),
        event(action="OBSERVE", bizStep="storing", epcList=[BOX], bizLocation=loc("BIN-2")),
        event(action="ADD", bizStep="commissioning", epcList=[pallet], bizLocation=loc("BIN-2")),
        event(
            "AggregationEvent", action="ADD", bizStep="packing", parentID=pallet, childEPCs=[BOX]
        ),
        event(
            "AggregationEvent",
            action="DELETE",
            bizStep="unpacking",
            parentID=pallet,
            childEPCs=[BOX],
            bizLocation=loc("BIN-1"),
        ),
        event(
            "TransformationEvent",
            bizStep="repackaging",
            inputEPCList=[BOX],
            outputEPCList=[tote],
            outputQuantityList=[wire(5.5)],
        ),
        event(
            action="OBSERVE",
            bizStep="cycle_counting",
            epcList=[tote],
            quantityList=[wire(5)],
        ),
        event(action="OBSERVE", bizStep="holding", disposition="non_conformant", epcList=[tote]),
        event(action="OBSERVE", bizStep="inspecting", disposition="available", epcList=[tote]),
        event(
            action="DELETE",
            bizStep="destroying",
            disposition="destroyed",
            epcList=[tote],
            quantityList=[wire(1)],
        ),
        event(
            action="OBSERVE",
            bizStep="shipping",
            disposition="in_transit",
            epcList=[tote],
            destinationList=[{"type": "owning_party", "destination": "urn:isom:customer:CUS"}],
            bizTransactionList=[{"type": "po", "bizTransaction": "urn:isom:order:SO-7"}],
        ),
    ]
    doc = document(*events)
    r = client.post(API + "/epcis/capture", json=doc, headers=headers)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["applied"] == len(events) and body["replayed"] == 0
    assert [e["eventID"] for e in body["events"]] == [e["eventID"] for e in events]
    # 25.5 m received; 5.5 m split off, counted down to 5, 1 m scrapped, the rest shipped
    assert stock(pdb, item="WIRE") == {("WIRE", "BIN-1", "L7", "available"): Decimal("20.0")}
    kinds = pdb.read(
        lambda s: [
            k.value
            for k in s.scalars(
                select(Event.kind).where(Event.key.like("epcis:%")).order_by(Event.id)
            )
        ]
    )
    assert kinds == [
        "receive",
        "move",
        "create",
        "nest",
        "unnest",
        "split",
        "count",
        "hold",
        "release",
        "scrap",
        "ship",
    ]
    reference = pdb.read(lambda s: s.scalar(select(Event.reference).where(Event.kind == "receive")))
    assert reference == "PO-1"
    # the same document again: every event is a replay and nothing changes
    before = snapshot(pdb)
    again = client.post(API + "/epcis/capture", json=doc, headers=headers)
    assert again.status_code == 200
    assert again.json()["replayed"] == len(events) and again.json()["applied"] == 0
    assert [e["ledger_events"] for e in again.json()["events"]] == [
        e["ledger_events"] for e in body["events"]
    ]
    assert snapshot(pdb) == before


def test_a_reused_eventid_with_other_content_is_refused(pdb: Database, client: TestClient) -> None:
    headers = token(pdb, "integrator")
    first = receiving()
    assert (
        client.post(API + "/epcis/capture", json=document(first), headers=headers).status_code
        == 201
    )
    before = snapshot(pdb)
    changed = {**first, "quantityList": [wire(30)]}
    r = client.post(API + "/epcis/capture", json=document(changed), headers=headers)
    assert r.status_code == 409
    assert r.json()["field"] == "epcisBody.eventList[0].eventID"
    assert snapshot(pdb) == before


@pytest.mark.parametrize(
    ("bad", "status", "field"),
    [
        ({"epcList": ["urn:isom:container:NOPE"]}, 404, "epcisBody.eventList[1].epcList[0]"),
        ({"epcList": ["not a uri"]}, 422, "epcisBody.eventList[1].epcList[0]"),
        ({"bizLocation": loc("NOWHERE")}, 404, "epcisBody.eventList[1].bizLocation.id"),
        ({"eventTime": "yesterday"}, 422, "epcisBody.eventList[1].eventTime"),
        ({"bizStep": "sampling"}, 422, "epcisBody.eventList[1].bizStep"),
    ],
)
def test_a_bad_event_refuses_the_whole_document(
    pdb: Database, client: TestClient, bad: dict[str, Any], status: int, field: str
) -> None:
    headers = token(pdb, "device")
    move = event(action="OBSERVE", bizStep="storing", epcList=[BOX], bizLocation=loc("BIN-2"))
    before = snapshot(pdb)
    r = client.post(
        API + "/epcis/capture", json=document(receiving(), {**move, **bad}), headers=headers
    )
    assert r.status_code == status, r.json()
    problem = r.json()
    assert problem["field"] == field, problem
    assert problem["detail"] and problem.get("expected")
    assert snapshot(pdb) == before, "the receipt before the bad event was not applied either"


def test_production_and_events_without_id_are_refused(pdb: Database, client: TestClient) -> None:
    headers = token(pdb, "integrator")
    receive(pdb, "R1", quantity="10")
    made = event(
        "TransformationEvent",
        inputEPCList=["urn:isom:container:R1"],
        outputEPCList=["urn:isom:container:R2"],
        outputQuantityList=[wire(1, "L1")],
        transformationID="urn:isom:step:WO-1/10",
    )
    r = client.post(API + "/epcis/capture", json=document(made), headers=headers)
    assert r.status_code == 422 and r.json()["field"].endswith("transformationID")
    anonymous = receiving()
    del anonymous["eventID"]
    r = client.post(API + "/epcis/capture", json=document(anonymous), headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "epcisBody.eventList[0].eventID"


def test_a_document_the_schema_refuses_names_the_path(pdb: Database, client: TestClient) -> None:
    headers = token(pdb, "integrator")
    doc = document(receiving())
    doc["epcisBody"]["eventList"][0]["action"] = "TOUCH"
    r = client.post(API + "/epcis/capture", json=doc, headers=headers)
    assert r.status_code == 422
    problem = r.json()
    assert "epcisBody.eventList[0]" in problem["field"]
    assert problem["errors"] and problem["expected"].startswith("a document valid")
    assert "TOUCH" in problem["detail"]
    del doc["schemaVersion"]
    assert client.post(API + "/epcis/capture", json=doc, headers=headers).status_code == 422


def test_an_error_declaration_reverses_what_the_event_applied(
    pdb: Database, client: TestClient
) -> None:
    headers = token(pdb, "integrator")
    ev = receiving()
    client.post(API + "/epcis/capture", json=document(ev), headers=headers)
    assert stock(pdb, item="WIRE")[("WIRE", "BIN-1", "L7", "available")] == Decimal("25.5")
    declared = {
        **ev,
        "errorDeclaration": {
            "declarationTime": "2026-11-27T10:00:00.000Z",
            "reason": "incorrect_data",
        },
    }
    r = client.post(API + "/epcis/capture", json=document(declared), headers=headers)
    assert r.status_code == 201, r.json()
    assert r.json()["events"][0]["declaration"] is True
    assert stock(pdb, item="WIRE") == {}
    events = ledger_events(pdb)
    again = client.post(API + "/epcis/capture", json=document(declared), headers=headers)
    assert again.status_code == 200 and ledger_events(pdb) == events
    # a declaration for an event nobody captured names nothing
    stray = {**declared, "eventID": f"urn:uuid:{uuid.uuid4()}"}
    r = client.post(API + "/epcis/capture", json=document(stray), headers=headers)
    assert r.status_code == 404 and r.json()["field"] == "epcisBody.eventList[0].eventID"


def test_an_error_declaration_of_an_event_isom_exported(pdb: Database, client: TestClient) -> None:
    headers = token(pdb, "integrator")
    receive(pdb, "R1", quantity="10")
    doc, _ = pdb.read(lambda s: epcis.query(s, epcis.EpcisQuery(event_type="ObjectEvent")))
    exported = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    declared = {
        **exported,
        "errorDeclaration": {
            "declarationTime": "2026-11-27T10:00:00.000Z",
            "reason": "did_not_occur",
        },
    }
    r = client.post(API + "/epcis/capture", json=document(declared), headers=headers)
    assert r.status_code == 201, r.json()
    assert stock(pdb, item="WIRE") == {}
    forged = {**declared, "eventID": "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0"}
    r = client.post(API + "/epcis/capture", json=document(forged), headers=headers)
    assert r.status_code == 409 and r.json()["field"].endswith("isom:ledgerEventId")


def test_single_event_capture_and_roles(pdb: Database, client: TestClient) -> None:
    ev = {"@context": epcis.CONTEXT, **receiving()}
    clerk = token(pdb, "clerk")
    assert client.post(API + "/epcis/events", json=ev, headers=clerk).status_code == 403
    assert client.post(API + "/epcis/capture", json=document(ev), headers=clerk).status_code == 403
    assert client.post(API + "/epcis/capture", json=document(ev)).status_code == 401
    device = token(pdb, "device")
    r = client.post(API + "/epcis/events", json=ev, headers=device)
    assert r.status_code == 201, r.json()
    assert client.post(API + "/epcis/events", json=ev, headers=device).status_code == 409
    assert stock(pdb, item="WIRE")[("WIRE", "BIN-1", "L7", "available")] == Decimal("25.5")


def test_identifiers_from_gs1_urns_and_digital_links() -> None:
    assert capture.container_code("urn:epc:id:sscc:4012345.0000000111", "f") == SSCC
    assert capture.container_code(BOX, "f") == SSCC
    assert capture.container_code("urn:isom:container:A%2FB", "f") == "A/B"


def test_a_container_observed_where_it_stands_moves_nowhere(
    pdb: Database, client: TestClient
) -> None:
    headers = token(pdb, "integrator")
    receive(pdb, "R1", quantity="10")
    seen = event(
        action="OBSERVE",
        bizStep="storing",
        epcList=["urn:isom:container:R1"],
        bizLocation=loc("BIN-1"),
    )
    before = ledger_events(pdb)
    r = client.post(API + "/epcis/capture", json=document(seen), headers=headers)
    assert r.status_code == 201 and r.json()["events"][0]["ledger_events"] == []
    assert ledger_events(pdb) == before


def test_items_named_by_gtin_digital_link_or_lgtin_urn(pdb: Database, client: TestClient) -> None:
    pdb.write(
        lambda s: s.execute(update(Item).where(Item.code == "WIRE").values(gtin="04012345000016"))
    )
    headers = token(pdb, "integrator")
    by_link = {
        **receiving(),
        "quantityList": [
            {"epcClass": "https://id.gs1.org/01/04012345000016/10/L8", "quantity": 4, "uom": "MTR"}
        ],
    }
    by_urn = {
        **receiving(),
        "epcList": ["urn:isom:container:R-URN"],
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.000001.L9", "quantity": 6}],
    }
    r = client.post(API + "/epcis/capture", json=document(by_link, by_urn), headers=headers)
    assert r.status_code == 201, r.json()
    assert stock(pdb, item="WIRE") == {
        ("WIRE", "BIN-1", "L8", "available"): Decimal(4),
        ("WIRE", "BIN-1", "L9", "available"): Decimal(6),
    }
    unknown = {
        **receiving(),
        "epcList": ["urn:isom:container:R-X"],
        "quantityList": [{"epcClass": "https://id.gs1.org/01/09999999999999", "quantity": 1}],
    }
    r = client.post(API + "/epcis/capture", json=document(unknown), headers=headers)
    assert r.status_code == 404
    assert r.json()["field"] == "epcisBody.eventList[0].quantityList[0].epcClass"


def test_cbv_values_in_every_form() -> None:
    for value in ("receiving", "urn:epcglobal:cbv:bizstep:receiving"):
        assert _cbv(value, "BizStep") == "receiving"
    assert _cbv("https://ref.gs1.org/cbv/BizStep-receiving", "BizStep") == "receiving"
    assert _cbv("https://ref.gs1.org/cbv/Disp-in_transit", "Disp") == "in_transit"
