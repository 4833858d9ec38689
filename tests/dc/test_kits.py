"""A customer order needing kits: the intake agent makes the kit job; its BOM is picked into a
kit tote, assembled (labour by scan), labelled with an SSCC, packed, shipped in a wave, with an
outbound despatch advice valid against GS1's EPCIS schema and the cost per kit to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from isom.agents import intake, releasing, runner
from isom.costing import services as costing
from isom.db import Database
from isom.dc import kits, waves
from isom.errors import Conflict
from isom.integration import capture
from isom.orders import services as orders
from isom.orders.schemas import CreateCustomerOrder, CreateShipOrder
from isom.production.models import WorkOrder
from tests.dc.support import DAY, at, container, contents, dc_site, dc_stock, do, source_lots
from tests.ledger.support import assert_verified

D = Decimal


def kit_order(db: Database) -> str:
    """Elektro-Max orders 3 sensor kits; the intake agent makes the kit job for the line, and
    on its next run releases it, as its inputs are on the shelves."""
    do(
        db,
        orders.create_customer_order,
        CreateCustomerOrder.model_validate(
            {
                "number": "SO-DC-1",
                "customer": "ELEKTRO-MAX",
                "lines": [
                    {"item": "KIT-SENSOR-INSTALL", "quantity": "3", "due_date": DAY.isoformat()}
                ],
            }
        ),
    )
    runner.run_agent(db, "intake", intake.run, DAY, runner.ROBOT)  # makes the kit job
    runner.run_agent(db, "intake", releasing.release_ready, DAY, runner.ROBOT)  # releases it
    jobs = db.read(
        lambda s: [
            (str(w.number), w.quantity, w.status.value)
            for w in s.scalars(select(WorkOrder).where(WorkOrder.customer_line == "SO-DC-1/1"))
        ]
    )
    assert [(q, st) for _, q, st in jobs] == [(D(3), "released")]
    return jobs[0][0]


def test_a_kit_order_is_kitted_labelled_and_shipped_with_a_despatch_advice(db: Database) -> None:
    dc_site(db)
    dc_stock(db)
    job = kit_order(db)
    sheet = db.read(lambda s: kits.kit_sheet(s, job))
    assert [(ln.item, ln.to_pick) for ln in sheet.lines] == [
        ("SENSOR-PROX-M12", D(6)),
        ("CABLE-M12-5M", D(6)),
        ("BRACKET-M12", D(6)),
        ("BOX-KIT", D(3)),
    ]
    assert sheet.lines[0].sources[0].location == "DC-A01"
    assert sheet.gs1_labels

    # The operator cannot start before the tote holds the whole BOM.
    with pytest.raises(Conflict, match="still lacks"):
        do(db, kits.start_kit, kits.KitStart(work_order=job, badge="B2002", workstation="KIT-1"))

    # Picking: each scan takes what is still due into the kit tote.
    for code in ("C-SENS-1", "C-CABL-1", "C-BRKT-1", "C-BOXK-1"):
        do(db, kits.pick_for_kit, kits.KitPick(work_order=job, container=code, occurred_at=at(8)))
    with pytest.raises(Conflict, match="nothing kit"):
        do(db, kits.pick_for_kit, kits.KitPick(work_order=job, container="C-SENS-1"))
    tote = kits.tote_code(job)
    assert contents(db, tote) == {
        "SENSOR-PROX-M12": "6",
        "CABLE-M12-5M": "6",
        "BRACKET-M12": "6",
        "BOX-KIT": "3",
    }

    # Assembly: Tom scans in at 09:00 and out at 09:14 with 3 kits: labour by scan.
    start = kits.KitStart(work_order=job, badge="B2002", workstation="KIT-1", occurred_at=at(9))
    do(db, kits.start_kit, start)
    done = do(
        db,
        kits.finish_kit,
        kits.KitFinish(
            work_order=job,
            badge="B2002",
            good_quantity=D(3),
            location="DC-KIT-STAGE",
            occurred_at=at(9, 14),
        ),
    )
    kit_box = done.detail["container"]
    assert len(kit_box) == 18 and kit_box.startswith("14012345")  # an SSCC of DC1
    assert contents(db, kit_box) == {"KIT-SENSOR-INSTALL": "3"}
    assert contents(db, tote) == {}

    # Cost: material 3 x 39.00 at the lots' actual cost + 14 min at 30/h = 124.00, 41.33 a kit.
    cost = db.read(lambda s: costing.job_cost(s, job, at=at(10)))
    assert (cost.actual.material, cost.actual.labour, cost.actual.total) == (
        D("117.00"),
        D("7.00"),
        D("124.00"),
    )
    assert db.read(lambda s: kits.kit_sheet(s, job)).cost_per_unit == D("41.33")

    # Genealogy: the kit's lot (the job number) comes from the sensors' supplier lot.
    assert source_lots(db, job) == {"SP-2611"}

    # Shipping: the order is released, waved (DHL, 15:00), picked into a tote, packed, shipped.
    do(db, orders.create_ship_order, CreateShipOrder(order="SO-DC-1"))
    made = do(db, waves.make_waves, waves.MakeWaves(day=DAY))
    wave = made.number
    do(db, waves.wave_pick, waves.WavePick(wave=wave, container=kit_box))
    packed = do(db, waves.wave_pack, waves.WaveAction(wave=wave)).detail["packed"]
    shipped = do(db, waves.wave_ship, waves.WaveAction(wave=wave))
    assert shipped.status == "shipped"
    carton = packed[0]["package"]
    assert container(db, carton)["status"] == "shipped"

    doc = db.read(lambda s: waves.despatch_advice(s, packed[0]["ship_order"]))
    capture.validate(doc)  # GS1's EPCIS 2.0 JSON schema
    agg, obj = doc["epcisBody"]["eventList"]
    assert agg["parentID"] == f"https://id.gs1.org/00/{carton}"
    assert agg["childQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/04012345000078/10/{job}", "quantity": 3}
    ]
    assert obj["epcList"] == [f"https://id.gs1.org/00/{carton}"]
    assert obj["destinationList"][0]["destination"] == "urn:isom:customer:ELEKTRO-MAX"
    assert_verified(db)
