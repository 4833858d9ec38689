"""Fixtures for the integration tests: a small plant, a story of ledger events, the standards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import (
    ConsumeCommand,
    CountCommand,
    CreateContainerCommand,
    HoldCommand,
    LotIn,
    MoveCommand,
    NestCommand,
    ProduceCommand,
    ReleaseCommand,
    ReverseCommand,
    ScrapCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from tests.builders import plant
from tests.integration.fake_erp import FakeErp
from tests.ledger.support import D, apply, receive

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
STANDARDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards"

SSCC = "040123450000001112"  # a valid SSCC (STANDARDS.md's example)
SECRET = "s3cret-for-the-test-erp-0123456789"


def standards_dir(name: str) -> Path:
    """A folder of ../shared/standards; skip (fail under CI=true) when it is missing."""
    path = (STANDARDS / name).resolve()
    if not path.is_dir():
        message = f"the reference files {path} are missing (../shared/standards beside the repo)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture
def erp() -> Iterator[FakeErp]:
    """A test ERP listening on a free local port, checking signatures with `SECRET`."""
    with FakeErp(SECRET) as server:
        yield server


@pytest.fixture
def pdb(db: Database) -> Database:
    plant(db)
    return db


def story(db: Database) -> dict[str, Any]:
    """One of every ledger event kind, as a plant would produce them."""
    out: dict[str, Any] = {}
    out["receive"] = receive(db, SSCC, lot="L1", quantity="100")
    receive(db, "R2", lot="L2", quantity="50", location="BIN-2")
    out["create"] = apply(
        db, ledger.create_container, CreateContainerCommand(container="PAL-1", location="BIN-1")
    )
    out["move"] = apply(db, ledger.move, MoveCommand(container="R2", to_location="BIN-1"))
    out["nest"] = apply(db, ledger.nest, NestCommand(container="R2", parent="PAL-1"))
    out["unnest"] = apply(db, ledger.unnest, UnnestCommand(container="R2", to_location="BIN-2"))
    out["split"] = apply(
        db,
        ledger.split,
        SplitCommand(
            container=SSCC,
            new_container="R3",
            lines=[{"item": "WIRE", "lot": "L1", "quantity": D(10)}],  # type: ignore[list-item]
        ),
    )
    out["count"] = apply(
        db, ledger.count, CountCommand(container="R3", item="WIRE", lot="L1", counted_quantity=D(9))
    )
    out["hold"] = apply(db, ledger.hold, HoldCommand(container="R2", reason="damp"))
    out["release"] = apply(db, ledger.release, ReleaseCommand(container="R2"))
    out["consume"] = apply(
        db,
        ledger.consume,
        ConsumeCommand(container=SSCC, item="WIRE", lot="L1", quantity=D(30), step="WO-1/10"),
    )
    out["produce"] = apply(
        db,
        ledger.produce,
        ProduceCommand(
            step="WO-1/10",
            item="CABLE",
            lot=LotIn(code="CB-1"),
            quantity=D(10),
            unit_cost=D("4.5"),
            new_container="FG1",
            location="BIN-2",
        ),
    )
    out["scrap"] = apply(
        db, ledger.scrap, ScrapCommand(container="R2", item="WIRE", lot="L2", quantity=D(5))
    )
    out["ship"] = apply(
        db, ledger.ship, ShipCommand(container="FG1", customer="CUS", reference="SO-1")
    )
    out["reverse"] = apply(
        db, ledger.reverse, ReverseCommand(event_id=out["scrap"].event_id, reason="wrong tote")
    )
    return out
