"""Cutting pieces from reels, and the remnant a cut leaves: kept as an offcut or scrapped."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from isom.db import Database
from isom.errors import Conflict, InvalidInput, NotFound
from isom.ledger import cutting
from isom.ledger.cutting import CutCommand, RemnantCommand, RemnantDisposition
from isom.masterdata.models import Item, Measure
from isom.web.app import create_app
from tests.builders import key, token
from tests.ledger.support import (
    D,
    apply,
    assert_verified,
    contents,
    receive,
    refused,
    view,
)


@pytest.fixture
def rdb(pdb: Database) -> Database:
    """The small plant with its wire measured by length (remnants under 5 m) and a 42 m reel."""

    def measure(s: Session) -> None:
        wire = s.query(Item).filter_by(code="WIRE").one()
        wire.measure = Measure.length
        wire.min_usable = D("5")

    pdb.write(measure)
    receive(pdb, "R-1", quantity="42", unit_cost="0.50")
    return pdb


def cut(db: Database, length: str, reel: str = "R-1", step: str = "WO-1/10") -> dict[str, object]:
    cmd = CutCommand(container=reel, item="WIRE", length=D(length), step=step)
    return apply(db, cutting.cut, cmd).detail


def test_a_cut_takes_the_length_from_the_reel_into_the_step(rdb: Database) -> None:
    detail = cut(rdb, "30")
    assert detail["left"] == "12" and detail["remnant"] is False
    assert contents(rdb, "R-1") == {("WIRE", "L1", "available"): D(12)}
    history = view(rdb, "R-1").history
    assert (history[0].kind, history[0].reference, history[0].reason_code) == (
        "consume",
        "WO-1/10",
        "cut",
    )
    assert_verified(rdb)


def test_a_cut_that_leaves_less_than_the_minimum_says_so(rdb: Database) -> None:
    cut(rdb, "30")
    detail = cut(rdb, "10")
    assert detail["left"] == "2" and detail["remnant"] is True and detail["min_usable"] == "5"


def test_a_piece_longer_than_the_reel_is_refused_and_changes_nothing(rdb: Database) -> None:
    err = refused(
        rdb,
        Conflict,
        cutting.cut,
        CutCommand(container="R-1", item="WIRE", length=D("42.5"), step="WO-1/10"),
        field="length",
    )
    assert "holds 42" in str(err)


def test_an_item_counted_in_units_is_not_cut(rdb: Database) -> None:
    receive(rdb, "B-1", item="CONN", quantity="10", lot=None)
    refused(
        rdb,
        InvalidInput,
        cutting.cut,
        CutCommand(container="B-1", item="CONN", length=D(1), step="WO-1/10"),
        field="item",
    )


def test_a_kept_remnant_becomes_an_offcut_at_its_length_s_cost(rdb: Database) -> None:
    cut(rdb, "39.5")
    result = apply(
        rdb,
        cutting.dispose_remnant,
        RemnantCommand(
            container="R-1", item="WIRE", disposition=RemnantDisposition.keep, offcut="OC-1"
        ),
    )
    assert result.kind == "split" and result.detail["offcut"] == "OC-1"
    offcut = view(rdb, "OC-1")
    assert offcut.kind == "offcut" and offcut.location == "BIN-1"
    assert [(c.quantity, c.unit_cost) for c in offcut.contents] == [(D("2.5"), D("0.5"))]
    assert contents(rdb, "R-1") == {}
    assert_verified(rdb)


def test_a_scrapped_remnant_names_the_cut_that_left_it(rdb: Database) -> None:
    cut(rdb, "20", step="WO-1/10")
    cut(rdb, "19", step="WO-2/10")
    result = apply(
        rdb,
        cutting.dispose_remnant,
        RemnantCommand(
            container="R-1",
            item="WIRE",
            disposition=RemnantDisposition.scrap,
            reason="3 m end of reel",
        ),
    )
    assert result.kind == "scrap" and result.detail["step"] == "WO-2/10"
    assert result.detail["length"] == "3"
    scrapped = view(rdb, "R-1").history[0]
    assert (scrapped.reason_code, scrapped.reference) == ("remnant", "WO-2/10")
    assert contents(rdb, "R-1") == {}
    assert_verified(rdb)


def test_usable_stock_is_not_a_remnant_and_scrap_needs_a_reason(rdb: Database) -> None:
    refused(
        rdb,
        Conflict,
        cutting.dispose_remnant,
        RemnantCommand(container="R-1", item="WIRE", disposition=RemnantDisposition.keep),
        field="container",
    )
    cut(rdb, "40")
    refused(
        rdb,
        InvalidInput,
        cutting.dispose_remnant,
        RemnantCommand(container="R-1", item="WIRE", disposition=RemnantDisposition.scrap),
        field="reason",
    )
    refused(
        rdb,
        NotFound,
        cutting.dispose_remnant,
        RemnantCommand(
            container="R-404", item="WIRE", disposition=RemnantDisposition.keep, reason="x"
        ),
        field="container",
    )


def test_the_cut_and_remnant_routes_check_the_role_and_replay_the_key(rdb: Database) -> None:
    with TestClient(create_app(rdb)) as client:
        body = {"container": "R-1", "item": "WIRE", "length": "40", "step": "WO-1/10"}
        clerk = token(rdb, "clerk")
        operator = token(rdb, "operator")
        denied = client.post(
            "/api/v1/ledger/cut", json=body, headers={**clerk, "Idempotency-Key": key()}
        )
        assert denied.status_code == 403
        assert contents(rdb, "R-1") == {("WIRE", "L1", "available"): D(42)}
        k = key()
        first = client.post(
            "/api/v1/ledger/cut", json=body, headers={**operator, "Idempotency-Key": k}
        )
        again = client.post(
            "/api/v1/ledger/cut", json=body, headers={**operator, "Idempotency-Key": k}
        )
        assert first.status_code == 201, first.text
        assert again.status_code == 200 and again.json()["detail"] == first.json()["detail"]
        assert first.json()["detail"]["remnant"] is True
        bad = client.post(
            "/api/v1/ledger/cut",
            json={**body, "length": "-1"},
            headers={**operator, "Idempotency-Key": key()},
        )
        assert bad.status_code == 422 and bad.json()["field"] == "length"
        scrap = client.post(
            "/api/v1/ledger/remnant",
            json={"container": "R-1", "item": "WIRE", "disposition": "scrap", "reason": "end"},
            headers={**operator, "Idempotency-Key": key()},
        )
        assert scrap.status_code == 201, scrap.text
        assert contents(rdb, "R-1") == {}
    assert Decimal(scrap.json()["detail"]["length"]) == D(2)
