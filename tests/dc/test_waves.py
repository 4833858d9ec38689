"""Wave picking: several released orders grouped by carrier and cut-off, picked zone by zone in
walking order into one tote per order, packed under SSCCs and shipped; and a repack job that
breaks a supplier's case into customer bags, keeping the supplier's lot in the genealogy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isom.db import Database
from isom.dc import kits, waves
from isom.errors import Conflict
from isom.integration import capture
from isom.orders import services as orders
from isom.orders.schemas import CreateCustomerOrder, CreateShipOrder
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder
from tests.dc.support import DAY, at, container, contents, dc_site, dc_stock, do, source_lots
from tests.ledger.support import assert_verified

D = Decimal


def order(db: Database, number: str, customer: str, *lines: tuple[str, str]) -> None:
    """A customer order, released at once for shipping."""
    do(
        db,
        orders.create_customer_order,
        CreateCustomerOrder.model_validate(
            {
                "number": number,
                "customer": customer,
                "lines": [
                    {"item": i, "quantity": q, "due_date": DAY.isoformat()} for i, q in lines
                ],
            }
        ),
    )
    do(db, orders.create_ship_order, CreateShipOrder(order=number))


def test_a_wave_of_several_orders_is_picked_by_zone_and_shipped(db: Database) -> None:
    dc_site(db)
    dc_stock(db)
    order(db, "SO-W1", "ELEKTRO-MAX", ("SENSOR-PROX-M12", "4"), ("BRACKET-M12", "10"))
    order(db, "SO-W2", "BAU-TEC", ("CABLE-M12-5M", "5"), ("BAG-POLY-S", "20"))
    order(db, "SO-W3", "SOLAR-NORD", ("SENSOR-PROX-M12", "2"))

    made = do(db, waves.make_waves, waves.MakeWaves(day=DAY)).detail["waves"]
    # Elektro-Max and Bau-Tec go with DHL at 15:00, Solar Nord with DSV at 17:00 (Berlin).
    assert [(w["carrier"], w["orders"]) for w in made] == [("DHL", 2), ("DSV", 1)]
    dhl = made[0]["wave"]
    sheet = db.read(lambda s: waves.wave_sheet(s, dhl))
    assert sheet.cutoff.hour == 14  # 15:00 in Berlin in November is 14:00 UTC
    assert {
        z: [(r.location, r.item, r.quantity) for r in rows] for z, rows in sheet.zones.items()
    } == {
        "DC-ZA": [
            ("DC-A01", "SENSOR-PROX-M12", D(4)),
            ("DC-A02", "CABLE-M12-5M", D(5)),
        ],
        "DC-ZB": [("DC-B01", "BRACKET-M12", D(10))],
        "DC-ZC": [("DC-C01", "BAG-POLY-S", D(20))],
    }
    # Nothing of another wave, nor a container off the list, can be picked here.
    with pytest.raises(Conflict, match="not on the open pick list"):
        do(db, waves.wave_pick, waves.WavePick(wave=dhl, container="C-TIES-1"))

    # Lina walks zone A, then B, then C, scanning each container; goods go to the order's tote.
    for zone in ("DC-ZA", "DC-ZB", "DC-ZC"):
        for row in sheet.zones[zone]:
            pick = waves.WavePick(wave=dhl, container=row.container, occurred_at=at(10))
            assert do(db, waves.wave_pick, pick).detail["tote"] == row.tote
    totes = {o["ship_order"]: o["tote"] for o in sheet.orders}
    ship_w1 = sheet.orders[0]["ship_order"]
    assert contents(db, totes[ship_w1]) == {"SENSOR-PROX-M12": "4", "BRACKET-M12": "10"}

    packed = do(db, waves.wave_pack, waves.WaveAction(wave=dhl)).detail["packed"]
    assert len(packed) == 2 and all(len(p["package"]) == 18 for p in packed)
    assert container(db, totes[ship_w1])["parent"] == packed[0]["package"]
    assert do(db, waves.wave_ship, waves.WaveAction(wave=dhl)).status == "shipped"
    assert db.read(lambda s: waves.wave_sheet(s, dhl)).open_picks == 0
    for p in packed:
        assert container(db, p["package"])["status"] == "shipped"
        capture.validate(db.read(lambda s, n=p["ship_order"]: waves.despatch_advice(s, n)))
    # The DSV wave is untouched: its sensors are still on the shelf.
    assert contents(db, "C-SENS-1") == {"SENSOR-PROX-M12": "36"}
    assert_verified(db)


def test_a_repack_breaks_a_supplier_case_into_bags_with_the_supplier_lot(db: Database) -> None:
    dc_site(db)
    dc_stock(db)
    job = do(
        db,
        production.create_work_order,
        CreateWorkOrder(
            item="TIE-BAG-50", quantity=D(4), due_date=DAY, customer_line="SO-R1/1", release=True
        ),
    ).work_order
    for code in ("C-TIES-1", "C-BAGS-1"):
        do(db, kits.pick_for_kit, kits.KitPick(work_order=job, container=code))
    do(
        db,
        kits.start_kit,
        kits.KitStart(work_order=job, badge="B2002", workstation="REPACK-1", occurred_at=at(11)),
    )
    made = do(
        db,
        kits.finish_kit,
        kits.KitFinish(work_order=job, badge="B2002", good_quantity=D(4), occurred_at=at(11, 2)),
    ).detail
    assert (made["lot"], made["gs1"]) == (job, False)
    assert contents(db, made["container"]) == {"TIE-BAG-50": "4"}
    assert contents(db, "C-TIES-1") == {"CABLE-TIE-200": "800"}
    assert source_lots(db, job) == {"FX-7701"}
    assert_verified(db)
