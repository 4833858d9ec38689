"""Master data services, called as other domains call them: upsert by code, never commit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from isom.db import Database
from isom.errors import Conflict, InvalidInput, NotFound
from isom.masterdata import records
from isom.masterdata import services as md
from isom.masterdata.models import ItemType, LocationKind
from isom.masterdata.schemas import ItemIn, LocationIn, UnitIn


def _units(s: Session) -> None:
    md.upsert_unit(s, UnitIn(code="m", name="metre", decimals=3))
    md.upsert_unit(s, UnitIn(code="ea", name="each"))


def test_upsert_item_resolves_its_unit_and_refuses_changing_it(db: Database) -> None:
    def work(s: Session) -> None:
        _units(s)
        item, created = md.upsert_item(
            s,
            ItemIn(
                code="W",
                name="Wire",
                type=ItemType.raw,
                base_unit="m",
                standard_cost=Decimal("0.1"),
            ),
        )
        assert created and item.standard_cost == Decimal("0.1")
        assert md.get_item(s, "W").id == item.id
        with pytest.raises(Conflict) as exc:
            md.upsert_item(s, ItemIn(code="W", name="Wire", type=ItemType.raw, base_unit="ea"))
        assert exc.value.field == "base_unit"
        with pytest.raises(NotFound) as nf:
            md.upsert_item(s, ItemIn(code="X", name="X", type=ItemType.raw, base_unit="kg"))
        assert (nf.value.field, nf.value.expected) == ("base_unit", "an existing unit code")

    db.write(work)


def test_an_item_conversion_feeds_the_ledgers_quantity_conversion(db: Database) -> None:
    def work(s: Session) -> Decimal:
        _units(s)
        md.upsert_unit(s, UnitIn(code="box", name="box"))
        item, _ = md.upsert_item(
            s,
            ItemIn.model_validate(
                {
                    "code": "T",
                    "name": "T",
                    "type": "raw",
                    "base_unit": "ea",
                    "conversions": [{"unit": "box", "factor": "250"}],
                }
            ),
        )
        return md.to_base_quantity(s, item, Decimal(2), "box", field="quantity")

    assert db.write(work) == Decimal(500)


def test_moving_an_area_moves_its_bins_paths_and_site(db: Database) -> None:
    def work(s: Session) -> dict[str, str]:
        for data in (
            LocationIn(code="S1", name="S1", kind=LocationKind.site),
            LocationIn(code="S2", name="S2", kind=LocationKind.site),
            LocationIn(code="A", name="A", kind=LocationKind.area, parent="S1"),
            LocationIn(code="B", name="B", kind=LocationKind.bin, parent="A"),
        ):
            md.upsert_location(s, data)
        md.upsert_location(s, LocationIn(code="A", name="A", kind=LocationKind.area, parent="S2"))
        bin_ = md.get_location(s, "B")
        s2 = md.get_location(s, "S2")
        assert bin_.site_id == s2.id
        assert bin_.path.startswith(md.location_subtree_prefix(s2))
        with pytest.raises(InvalidInput):
            md.upsert_location(
                s, LocationIn(code="S2", name="S2", kind=LocationKind.area, parent="B")
            )
        return {"ok": "yes"}

    db.write(work)


def test_services_never_commit(db: Database) -> None:
    class Stop(Exception):
        pass

    def work(s: Session) -> None:
        _units(s)
        raise Stop

    with pytest.raises(Stop):
        db.write(work)
    assert db.read(lambda s: records.list_records(s, "units"))[1] == 0


def test_an_unknown_kind_names_the_kinds(db: Database) -> None:
    with pytest.raises(NotFound) as exc:
        db.read(lambda s: records.list_records(s, "widgets"))
    assert "items" in (exc.value.expected or "")
