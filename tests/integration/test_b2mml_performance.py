"""B2MML V0700 SyncOperationsPerformance: production results per job and step, schema-valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from isom.cli import app
from isom.costing import services as costing
from isom.db import Database
from isom.errors import NotFound
from isom.integration import b2mml
from isom.web.app import create_app
from tests.builders import token
from tests.integration.conftest import standards_dir
from tests.integration.test_production_feed import WO, run_job
from tests.production.support import at, demo_masterdata

NS = {"b": b2mml.NS}
API = "/api/v1"


@cache
def performance_schema() -> Any:
    import xmlschema

    path = standards_dir("b2mml-v0700") / "B2MML-OperationsPerformance.xsd"
    return xmlschema.XMLSchema(str(path))


def text(node: ET.Element, path: str) -> str:
    return node.findtext(path, namespaces=NS) or ""


def test_a_job_is_one_operations_performance_with_a_segment_per_step(db: Database) -> None:
    run_job(db)
    xml = db.read(lambda s: b2mml.sync_operations_performance(s, work_order=WO, at=at(9)))
    performance_schema().validate(xml)
    root = ET.fromstring(xml)
    assert root.tag == f"{{{b2mml.NS}}}SyncOperationsPerformance"
    assert root.get("releaseID") == "0700"
    assert text(root, "b:ApplicationArea/b:BODID")
    (perf,) = root.findall("b:DataArea/b:OperationsPerformance", NS)
    assert (text(perf, "b:ID"), text(perf, "b:OperationsType")) == (WO, "Production")
    assert text(perf, "b:PerformanceState") == "Completed"
    (seg,) = perf.findall("b:OperationsResponse/b:SegmentResponse", NS)
    assert (text(seg, "b:ID"), text(seg, "b:ProcessSegmentID")) == (f"{WO}/10", "cut")
    assert text(seg, "b:SegmentState") == "Completed"
    assert text(seg, "b:ActualStartTime") == "2026-11-20T08:00:00Z"
    data = {
        text(d, "b:ID"): Decimal(text(d, "b:Value/b:ValueString"))
        for d in seg.findall("b:SegmentData", NS)
    }
    assert data["QuantityGood"] == 10 and data["QuantityScrap"] == 0
    assert data["MaterialCost"] == Decimal("0.61")  # 3.05 m of wire at 0.20
    cost = db.read(lambda s: costing.job_cost(s, WO, at=at(9)))
    assert data["LabourCost"] == cost.actual.labour
    assert data["MachineCost"] == cost.actual.machine
    materials = {
        (
            text(m, "b:MaterialUse"),
            text(m, "b:MaterialDefinitionID"),
            text(m, "b:MaterialLotID"),
            text(m, "b:MaterialSubLotID"),
        ): (Decimal(text(m, "b:Quantity/b:QuantityString")), text(m, "b:Quantity/b:UnitOfMeasure"))
        for m in seg.findall("b:MaterialActual", NS)
    }
    assert materials == {
        ("Consumed", "WIRE-0.5-RD", "W-RD-1", "W-RD"): (Decimal("3.05"), "MTR"),
        ("Produced", "LEAD-RD-300", WO, "LEADS-1"): (Decimal(10), "C62"),
    }
    (person,) = seg.findall("b:PersonnelActual", NS)
    assert text(person, "b:PersonID") == "P-ANNA"
    assert Decimal(text(person, "b:Quantity/b:QuantityString")) == Decimal("0.6667")
    assert text(person, "b:Quantity/b:UnitOfMeasure") == "HUR"
    (machine,) = seg.findall("b:EquipmentActual", NS)
    assert text(machine, "b:EquipmentID") == "CUT-1"
    assert Decimal(text(machine, "b:Quantity/b:QuantityString")) == Decimal("0.6667")
    # the same results give the same BODID; every started job is sent without a filter
    again = db.read(lambda s: b2mml.sync_operations_performance(s, at=at(9)))
    performance_schema().validate(again)
    assert text(ET.fromstring(again), "b:ApplicationArea/b:BODID") == text(
        root, "b:ApplicationArea/b:BODID"
    )


def test_no_results_or_an_unknown_job_is_refused(db: Database) -> None:
    demo_masterdata(db)
    with pytest.raises(NotFound) as caught:
        db.read(lambda s: b2mml.sync_operations_performance(s))
    assert caught.value.field == "work_order"
    with pytest.raises(NotFound):
        db.read(lambda s: b2mml.sync_operations_performance(s, work_order="WO-NOPE"))


def test_operations_performance_over_http_and_the_cli(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_job(db)
    path = API + "/b2mml/operations-performance"
    with TestClient(create_app(db)) as client:
        assert client.get(path, headers=token(db, "clerk")).status_code == 403
        integrator = token(db, "integrator")
        r = client.get(path, params={"work_order": WO}, headers=integrator)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
        performance_schema().validate(r.text)
        missing = client.get(path, params={"work_order": "WO-NOPE"}, headers=integrator)
        assert missing.status_code == 404 and missing.json()["field"] == "work_order"
    monkeypatch.setenv("ISOM_DATABASE_URL", db.url)
    out = tmp_path / "perf.xml"
    result = CliRunner().invoke(app, ["export", "b2mml-performance", str(out), "--work-order", WO])
    assert result.exit_code == 0, result.output
    performance_schema().validate(out.read_text())
