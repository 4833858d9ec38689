"""Every B2MML and EPCIS document the demo plant produces is valid against the standards."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from isom import demo
from isom.db import Database
from isom.integration import b2mml, epcis
from isom.production.models import WorkOrder
from tests.integration.test_b2mml_csv import material_schema
from tests.integration.test_b2mml_performance import performance_schema
from tests.integration.test_epcis import assert_valid, doc_events


def test_every_document_of_the_demo_plant_is_schema_valid(db: Database) -> None:
    demo.load_if_empty(db)
    # EPCIS: every ledger event, page by page
    token: str | None = None
    seen = 0
    while True:
        q = epcis.EpcisQuery(per_page=100, page_token=token)
        doc, token = db.read(lambda s, q=q: epcis.query(s, q))  # type: ignore[misc]
        assert_valid(doc)
        seen += len(doc_events(doc))
        if token is None:
            break
    assert seen > 20
    # B2MML: inventory by lot, every item's lots, every started job and each job on its own
    lots = db.read(lambda s: b2mml.sync_material_lot(s))
    material_schema().validate(lots)
    ns = {"b": b2mml.NS}
    items = {
        lot.findtext("b:MaterialDefinitionID", namespaces=ns)
        for lot in ET.fromstring(lots).findall("b:DataArea/b:MaterialLot", ns)
    }
    assert len(items) >= 3
    for item in items:
        material_schema().validate(
            db.read(lambda s, i=item: b2mml.sync_material_lot(s, item=i))  # type: ignore[misc]
        )
    performance_schema().validate(db.read(lambda s: b2mml.sync_operations_performance(s)))
    started = db.read(
        lambda s: list(s.scalars(select(WorkOrder.number).where(WorkOrder.started_at.is_not(None))))
    )
    assert len(started) >= 3
    for number in started:
        xml = db.read(lambda s, n=number: b2mml.sync_operations_performance(s, work_order=n))  # type: ignore[misc]
        performance_schema().validate(xml)
