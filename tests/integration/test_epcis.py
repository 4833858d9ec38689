"""EPCIS 2.0: every ledger event as JSON-LD valid against the GS1 schema, and the CBV 2.0 hash."""

from __future__ import annotations

import json
import urllib.parse
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from isom.db import Database
from isom.errors import InvalidInput
from isom.integration import epcis
from tests.integration.conftest import SSCC, standards_dir, story


@cache
def validator() -> jsonschema.Draft7Validator:
    path = standards_dir("epcis-2.0") / "EPCIS-JSON-Schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def assert_valid(doc: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    for ev in doc_events(doc):  # every identifier is an absolute URI
        for uri in ev.get("epcList", []) + ev.get("childEPCs", []) + [ev.get("parentID", "x:y")]:
            assert urllib.parse.urlparse(uri).scheme, uri


def doc_events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["epcisBody"]
    if "queryResults" in body:
        return list(body["queryResults"]["resultsBody"]["eventList"])
    return list(body["eventList"])


def all_events(db: Database) -> dict[str, Any]:
    doc, token = db.read(lambda s: epcis.query(s, epcis.EpcisQuery(per_page=1000)))
    assert token is None
    return doc


def test_every_ledger_event_maps_to_a_valid_epcis_event(pdb: Database) -> None:
    story(pdb)
    doc = all_events(pdb)
    assert_valid(doc)
    events = doc_events(doc)
    by_kind: dict[str, dict[str, Any]] = {}
    for ev in events:
        by_kind.setdefault(ev["isom:kind"], ev)
    assert set(by_kind) >= {
        "receive",
        "create",
        "move",
        "nest",
        "unnest",
        "split",
        "count",
        "hold",
        "release",
        "consume",
        "produce",
        "scrap",
        "ship",
        "reverse",
    }
    rec = by_kind["receive"]
    assert rec["type"] == "ObjectEvent" and rec["action"] == "OBSERVE"
    assert rec["bizStep"] == "receiving"
    assert rec["epcList"] == [f"https://id.gs1.org/00/{SSCC}"]  # an SSCC as Digital Link
    assert rec["quantityList"][0]["uom"] == "MTR"
    assert rec["bizLocation"] == {"id": "urn:isom:location:BIN-1"}
    assert by_kind["move"]["bizStep"] == "storing"
    assert by_kind["move"]["epcList"] == ["urn:isom:container:R2"]  # an internal code
    nest, unnest = by_kind["nest"], by_kind["unnest"]
    assert (nest["type"], nest["action"], nest["parentID"]) == (
        "AggregationEvent",
        "ADD",
        "urn:isom:container:PAL-1",
    )
    assert (unnest["action"], unnest["childEPCs"]) == ("DELETE", ["urn:isom:container:R2"])
    assert by_kind["count"]["bizStep"] == "cycle_counting"
    assert by_kind["hold"]["disposition"] == "non_conformant"
    assert by_kind["release"]["disposition"] == "available"
    scrap = by_kind["scrap"]
    assert (scrap["action"], scrap["bizStep"], scrap["disposition"]) == (
        "DELETE",
        "destroying",
        "destroyed",
    )
    consume, produce = by_kind["consume"], by_kind["produce"]
    assert consume["type"] == produce["type"] == "TransformationEvent"
    assert consume["transformationID"] == produce["transformationID"] == "urn:isom:step:WO-1%2F10"
    assert consume["inputQuantityList"] and produce["outputQuantityList"]
    assert produce["bizTransactionList"][0]["type"] == "prodorder"
    ship = by_kind["ship"]
    assert ship["bizStep"] == "shipping" and ship["bizTransactionList"]
    # a reversal is the original again, with an errorDeclaration and the same hash id
    rev = by_kind["reverse"]
    assert rev["errorDeclaration"]["reason"] == "incorrect_data"
    assert rev["eventID"] == scrap["eventID"]
    for ev in events:
        assert ev["eventID"].startswith("ni:///sha-256;") and ev["eventID"].endswith("?ver=CBV2.0")
        assert ev["eventTime"].endswith("Z") and ev["recordTime"].endswith("Z")
        assert ev["readPoint"]["id"].startswith("urn:isom:location:") or ev["type"] != "ObjectEvent"


def test_event_ids_are_stable_and_distinct(pdb: Database) -> None:
    story(pdb)
    first = [e["eventID"] for e in doc_events(all_events(pdb)) if e["isom:kind"] != "reverse"]
    again = [e["eventID"] for e in doc_events(all_events(pdb)) if e["isom:kind"] != "reverse"]
    assert first == again and len(set(first)) == len(first)


def test_query_filters_and_paging(pdb: Database) -> None:
    story(pdb)

    def q(**kw: Any) -> list[dict[str, Any]]:
        doc, _ = pdb.read(lambda s: epcis.query(s, epcis.EpcisQuery(**kw)))
        assert_valid(doc)
        return doc_events(doc)

    assert {e["isom:kind"] for e in q(biz_step="receiving")} == {"receive"}
    assert {e["isom:kind"] for e in q(biz_step="https://ref.gs1.org/cbv/BizStep-shipping")} == {
        "ship"
    }
    assert {e["type"] for e in q(event_type="AggregationEvent")} == {"AggregationEvent"}
    sscc = f"https://id.gs1.org/00/{SSCC}"
    assert q(match_epc=sscc) and all(
        sscc in e.get("epcList", []) + e.get("inputEPCList", []) for e in q(match_epc=sscc)
    )
    assert {e["isom:kind"] for e in q(match_any_epc="urn:isom:container:PAL-1")} >= {"nest"}
    at = q(biz_location="urn:isom:location:BIN-2")
    assert at and all(e["bizLocation"]["id"] == "urn:isom:location:BIN-2" for e in at)
    everything = q(per_page=1000)
    later = everything[5]["eventTime"]
    assert all(e["eventTime"] >= later for e in q(ge_event_time=_dt(later)))
    # paging with nextPageToken returns each event once
    seen: list[str] = []
    token: str | None = None
    while True:
        doc, token = pdb.read(
            lambda s: epcis.query(s, epcis.EpcisQuery(per_page=4, page_token=token))
        )
        seen += [e["isom:eventKey"] + e["isom:kind"] for e in doc_events(doc)]
        if token is None:
            break
    assert seen == [e["isom:eventKey"] + e["isom:kind"] for e in everything]
    with pytest.raises(InvalidInput) as caught:
        q(page_token="garbage")
    assert caught.value.field == "nextPageToken"
    with pytest.raises(InvalidInput):
        q(event_type="NoSuchEvent")


def _dt(text: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the CBV 2.0 event hash, against every reference vector --------------------------------

#: Repository-assigned fields that the reference vector `...WithIgnoreFields` leaves out.
IGNORED = {
    "epcisDocHavingEventWithIgnoreFields": ("repository-x:hash", "example:captureID"),
    "epcisQueryDocHavingEventWithIgnoreFields": ("repository-x:hash", "example:captureID"),
}


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _vectors() -> list[str]:
    folder = (Path(__file__).resolve().parents[2] / ".." / "shared" / "standards").resolve()
    names = {p.stem for p in (folder / "epcis-hash-vectors").glob("*.hashes")}
    return sorted(names) or ["<missing>"]


@pytest.mark.parametrize("name", _vectors())
def test_hash_vector(name: str) -> None:
    folder = standards_dir("epcis-hash-vectors")
    expected = _lines(folder / f"{name}.hashes")
    pre_path = folder / f"{name}.prehashes"
    doc_path = folder / f"{name}.jsonld"
    if doc_path.exists():
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        prehashes = epcis.prehash_strings(doc, IGNORED.get(name, ()))
        assert epcis.hashes_of(prehashes) == expected
        if pre_path.exists():
            reference = _lines(pre_path)
            if epcis.hashes_of(reference) == expected:
                assert prehashes == reference
            else:  # the reference pre-hash file itself does not hash to the reference hashes
                assert epcis.hashes_of(reference) != expected
    else:
        # XML-only vectors: their pre-hash strings must hash to the reference ids
        assert pre_path.exists(), f"{name} has neither an input document nor pre-hash strings"
        assert epcis.hashes_of(_lines(pre_path)) == expected


def test_identifiers() -> None:
    assert epcis.is_sscc(SSCC) and not epcis.is_sscc(SSCC[:-1] + "3")
    assert epcis.container_uri(SSCC) == f"https://id.gs1.org/00/{SSCC}"
    assert epcis.container_uri("TOTE 7") == "urn:isom:container:TOTE%207"
    assert epcis.class_uri("WIRE", "4012345000016", "L/1") == (
        "https://id.gs1.org/01/04012345000016/10/L%2F1"
    )
    assert epcis.class_uri("WIRE", None, None) == "urn:isom:item:WIRE"
    for body, check in [("0234567", 3), ("04012345000000111", 2), ("123456789012", 8)]:
        assert epcis.gs1_check_digit(body) == check


def test_a_remembered_hash_is_the_hash_of_that_very_content() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2026-01-01T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"urn:epc:id:sscc:{SSCC[:7]}.{SSCC[7:17]}"],
        "action": "OBSERVE",
        "bizStep": "receiving",
    }
    first = epcis.event_hash(event)
    reordered = dict(reversed(list(event.items())))
    assert epcis.event_hash(reordered) == first  # remembered, and the same as computed
    assert epcis.event_hash({**event, "isom:kind": "receive"}) == first  # extensions left out
    assert epcis.event_hash({**event, "bizStep": "shipping"}) != first
    fresh = epcis.hashes_of(epcis.prehash_strings(epcis.document([event])))[0]
    assert fresh == first
