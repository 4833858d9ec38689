"""`make run` loads the distribution centre beside the plant: pallets announced by SSCC, one
received short, kits and repacks on open customer orders, a wave in progress."""

from __future__ import annotations

from isom import demo
from isom.db import Database
from isom.dc import inbound, kits, waves
from isom.dc.models import PalletStatus
from isom.demo import dc as demo_dc
from isom.ledger.verify import verify
from tests.dc.support import contents


def test_the_demo_dc_loads_beside_the_plant_and_verifies(db: Database) -> None:
    assert demo.load_if_empty(db) is True
    users = [line.split()[0] for line in demo.login_lines(db)[1:]]
    assert {"clerk", "dcclerk", "kitter"} <= set(users)

    expected = db.read(lambda s: inbound.list_pallets(s, status=PalletStatus.advised))
    assert [p.sscc for p in expected] == [demo_dc.supplier_sscc(1002)]
    received = db.read(lambda s: inbound.list_pallets(s, status=PalletStatus.received))
    short = [d for p in received for d in p.differences]
    assert [(d["kind"], d["received"]) for d in short] == [("short", "950")]
    assert contents(db, demo_dc.supplier_sscc(2007)) == {"BRACKET-M12": "200"}

    jobs = db.read(kits.open_vas_jobs)
    assert [(j.item, j.customer_line) for j in jobs] == [
        ("KIT-SENSOR-INSTALL", "SO-DC-101/1"),
        ("TIE-BAG-50", "SO-DC-102/1"),
    ]
    sheet = db.read(lambda s: kits.kit_sheet(s, jobs[0].work_order))
    assert [(ln.item, ln.to_pick) for ln in sheet.lines if ln.to_pick] == [
        ("BRACKET-M12", 6),
        ("BOX-KIT", 3),
    ]

    every = db.read(waves.list_waves)
    assert [(w.carrier, w.status, len(w.orders)) for w in every] == [
        ("DSV", "released", 1),
        ("DHL", "picking", 2),
    ]
    assert every[1].open_picks == 3
    report = db.read(verify)
    assert report.ok, report.differences
