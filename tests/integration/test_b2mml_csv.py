"""B2MML V0700 SyncMaterialLot valid against MESA's schema; CSV exports of inventory and feed."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from isom.db import Database
from isom.errors import InvalidInput, NotFound
from isom.integration import b2mml, csv_export, feed
from tests.integration.conftest import SSCC, standards_dir, story
from tests.ledger.support import receive, stock

NS = {"b": b2mml.NS}


@cache
def material_schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(standards_dir("b2mml-v0700") / "B2MML-Material.xsd"))


def test_sync_material_lot_is_valid_b2mml_with_lots_and_containers(pdb: Database) -> None:
    story(pdb)
    xml = pdb.read(lambda s: b2mml.sync_material_lot(s))
    material_schema().validate(xml)
    root = ET.fromstring(xml)
    assert root.tag == f"{{{b2mml.NS}}}SyncMaterialLot" and root.get("releaseID") == "0700"
    assert root.findtext("b:ApplicationArea/b:Sender/b:LogicalID", namespaces=NS) == "ISOM"
    bod = root.findtext("b:ApplicationArea/b:BODID", namespaces=NS)
    assert bod
    lots = {
        (
            lot.findtext("b:MaterialDefinitionID", namespaces=NS),
            lot.findtext("b:ID", namespaces=NS),
        ): lot
        for lot in root.findall("b:DataArea/b:MaterialLot", NS)
    }
    assert ("WIRE", "L1") in lots and ("WIRE", "L2") in lots
    l1 = lots[("WIRE", "L1")]
    subs = {s.findtext("b:ID", namespaces=NS): s for s in l1.findall("b:MaterialSubLot", NS)}
    assert SSCC in subs and subs[SSCC].find("b:ID", NS).get("schemeID") == "SSCC"  # type: ignore[union-attr]
    total = Decimal(l1.findtext("b:Quantity/b:QuantityString", namespaces=NS) or "")
    on_hand = sum(q for (it, _, lot, _), q in stock(pdb, item="WIRE").items() if lot == "L1")
    assert total == on_hand
    assert l1.findtext("b:Quantity/b:UnitOfMeasure", namespaces=NS) == "MTR"
    # the same snapshot again carries the same BODID; a change gives a new one
    assert (
        ET.fromstring(pdb.read(lambda s: b2mml.sync_material_lot(s))).findtext(
            "b:ApplicationArea/b:BODID", namespaces=NS
        )
        == bod
    )
    receive(pdb, "NEW", lot="L9")
    pdb.write(lambda s: feed.sequence(s))
    again = pdb.read(lambda s: b2mml.sync_material_lot(s, item="WIRE"))
    material_schema().validate(again)
    assert ET.fromstring(again).findtext("b:ApplicationArea/b:BODID", namespaces=NS) != bod


def test_sync_material_lot_refuses_unknown_item_and_action(pdb: Database) -> None:
    with pytest.raises(NotFound):
        pdb.read(lambda s: b2mml.sync_material_lot(s, item="NOPE"))
    with pytest.raises(InvalidInput) as caught:
        pdb.read(lambda s: b2mml.sync_material_lot(s, action="Upsert"))
    assert caught.value.field == "action"


def test_an_empty_inventory_is_still_valid_b2mml_or_refused_by_the_schema(pdb: Database) -> None:
    # MaterialLot is minOccurs=1: with no lots the document must not validate silently
    xml = pdb.read(lambda s: b2mml.sync_material_lot(s))
    assert not material_schema().is_valid(xml)


def test_inventory_csv_matches_the_inventory(pdb: Database) -> None:
    story(pdb)
    text = pdb.read(csv_export.inventory_csv)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == csv_export.INVENTORY_COLUMNS
    got = {
        (r["item"], r["location"], r["lot"] or None, r["status"]): Decimal(r["quantity"])
        for r in rows
    }
    assert got == stock(pdb)


def test_feed_csv_has_one_row_per_message(pdb: Database) -> None:
    story(pdb)
    pdb.write(lambda s: feed.sequence(s))
    rows = list(csv.DictReader(io.StringIO(pdb.read(lambda s: csv_export.feed_csv(s)))))
    page = pdb.read(lambda s: feed.page(s, 0, 10_000))
    assert [r["message_id"] for r in rows] == [m.id for m in page.messages]
    inv = [r for r in rows if r["topic"] == "inventory.changed"]
    assert inv and all(r["delta"] and r["quantity"] for r in inv)
