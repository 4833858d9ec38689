"""The demo plant loads through the real services and tells a traceable story."""

from __future__ import annotations

from decimal import Decimal

from isom import demo
from isom.db import Database
from isom.ledger import queries
from isom.ledger.verify import verify


def test_demo_plant_loads_once_and_verifies(db: Database) -> None:
    assert demo.load_if_empty(db) is True
    assert demo.load_if_empty(db) is False  # a second start leaves the data alone
    assert demo.is_loaded(db)
    report = db.read(verify)
    assert report.ok, report.differences
    assert report.events > 20


def test_demo_wire_reel_is_traced_to_the_customer(db: Database) -> None:
    demo.load_if_empty(db)
    recall = db.read(lambda s: queries.recall(s, "WIRE-0.5-RD", "WR-2611-01"))
    assert recall.customers == ["ACME-ROBOTICS"]
    assert {"WO-1001", "WO-1003"} <= set(recall.jobs)
    assert {s.container for s in recall.shipments} >= {"K-4001", "K-4002"}
    backward = db.read(lambda s: queries.genealogy(s, "HARN-JST-300", "WO-1003", "backward"))
    assert {(n.item, n.lot) for n in backward.nodes} >= {
        ("LEAD-RD-300", "WO-1001"),
        ("WIRE-0.5-RD", "WR-2611-01"),
    }


def test_demo_reels_stay_separate_containers(db: Database) -> None:
    demo.load_if_empty(db)
    page = db.read(lambda s: queries.inventory(s, item="WIRE-0.5-RD"))
    by_lot = {row.lot: row.quantity for row in page.rows}
    assert by_lot == {"WR-2611-01": Decimal("19.5"), "WR-2611-02": Decimal("30")}
    held = db.read(lambda s: queries.inventory(s, location="QUAR"))
    assert [(r.item, r.status.value) for r in held.rows] == [("ADHESIVE-UV", "hold")]
