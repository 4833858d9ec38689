"""ISA-95 / B2MML V0700 messages to the ERP: `SyncMaterialLot` (inventory by lot).

A material lot is a lot of an item; each container holding it is a `MaterialSubLot` (its ID is
the container code, an SSCC where it has one) with its status, storage location and quantity.
Element order follows the schema (in a lot: `MaterialSubLot` before `StorageLocation` and
`Quantity`). The BODID is derived from the feed position and the filter, so the same
snapshot sent twice carries the same BODID and the ERP drops the second.
`SyncOperationsPerformance` (production results per route step) comes with work orders.

The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import InvalidInput
from isom.integration import epcis, feed
from isom.ledger.models import Container, ContainerStatus, Content, Lot
from isom.ledger.posting import plain
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Unit

NS = "http://www.mesa.org/xml/B2MML"
RELEASE_ID = "0700"
SENDER = "ISOM"
_BOD_NS = uuid.UUID("6f1c1e04-5d0a-4f39-9a59-2b1f0e3c7a11")
ACTIONS = ("Add", "Change", "Delete")

ET.register_namespace("", NS)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def uom(unit: str) -> str:
    """UN/ECE Recommendation 20 code of a unit (counted units are C62, 'one')."""
    return epcis.uom_of(unit) or "C62"


def _quantity(parent: ET.Element, quantity: Decimal, unit: str) -> None:
    q = _el(parent, "Quantity")
    _el(q, "QuantityString", plain(quantity))
    _el(q, "DataType", "decimal")
    _el(q, "UnitOfMeasure", uom(unit))


def application_area(root: ET.Element, bod_id: str, created: dt.datetime) -> None:
    area = _el(root, "ApplicationArea")
    sender = _el(area, "Sender")
    _el(sender, "LogicalID", SENDER)
    _el(area, "CreationDateTime", created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"))
    _el(area, "BODID", bod_id)


def sync_material_lot(
    session: Session,
    *,
    item: str | None = None,
    action: str = "Change",
    created: dt.datetime | None = None,
) -> str:
    """The inventory of every lot (or one item's lots) as a `SyncMaterialLot` BOD."""
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown action {action!r}", field="action", expected="Add, Change, Delete"
        )
    query: Any = (
        select(
            Item.code,
            Item.name,
            Unit.code,
            Lot.code,
            Lot.expiry_date,
            Lot.supplier_lot,
            Container.code,
            Location.code,
            Content.status,
            Content.quantity,
        )
        .join(Container, Container.id == Content.container_id)
        .join(Lot, Lot.id == Content.lot_id)
        .join(Item, Item.id == Content.item_id)
        .join(Unit, Unit.id == Item.base_unit_id)
        .outerjoin(Location, Location.id == Container.location_id)
        .where(Content.quantity > 0, Container.status == ContainerStatus.active)
        .order_by(Item.code, Lot.code, Container.code, Content.status)
    )
    if item is not None:
        query = query.where(Content.item_id == md.get_item(session, item).id)
    lots: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in session.execute(query):
        lots[(row[0], row[3])].append(row)
    head = feed.head(session)
    bod_id = str(uuid.uuid5(_BOD_NS, f"SyncMaterialLot|{head}|{item or '*'}|{action}"))
    root = ET.Element(f"{{{NS}}}SyncMaterialLot", {"releaseID": RELEASE_ID})
    application_area(root, bod_id, created or dt.datetime.now(dt.UTC))
    data = _el(root, "DataArea")
    sync = _el(data, "Sync")
    criteria = _el(sync, "ActionCriteria")
    _el(criteria, "ActionExpression", "/MaterialLot", actionCode=action)
    for (item_code, lot_code), rows in lots.items():
        name, unit, expiry, supplier_lot = rows[0][1], rows[0][2], rows[0][4], rows[0][5]
        lot = _el(data, "MaterialLot")
        _el(lot, "ID", lot_code)
        _el(lot, "Description", name)
        _el(lot, "MaterialDefinitionID", item_code)
        if expiry is not None:
            prop = _el(lot, "MaterialLotProperty")
            _el(prop, "ID", "ExpiryDate")
            value = _el(prop, "Value")
            _el(value, "ValueString", expiry.isoformat())
            _el(value, "DataType", "date")
        if supplier_lot:
            prop = _el(lot, "MaterialLotProperty")
            _el(prop, "ID", "SupplierLot")
            value = _el(prop, "Value")
            _el(value, "ValueString", supplier_lot)
            _el(value, "DataType", "string")
        total = Decimal(0)
        for row in rows:
            sub = _el(lot, "MaterialSubLot")
            _el(sub, "ID", row[6], schemeID="SSCC" if epcis.is_sscc(row[6]) else "ISOM")
            _el(sub, "Status", row[8].value)
            if row[7]:
                _el(sub, "StorageLocation", row[7])
            _quantity(sub, row[9], unit)
            total += row[9]
        _quantity(lot, total, unit)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
