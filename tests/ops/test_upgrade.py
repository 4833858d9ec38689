"""A plant made by the previous release upgrades to this one with all its data: the demo plant as
release ace5d0c stored it (schema 0007) is loaded at that schema, migrated to today's head, and
then verifies clean, keeps every row and balance, lets its people sign in and takes new events.

The target is `head`, so the test keeps checking every migration added after 0007."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from isom import schema
from isom.auth import services as auth_service
from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import MoveCommand
from isom.ledger.verify import verify
from tests.builders import key
from tests.ops import release_data
from tests.ops.stores import NewStore

FIXTURE = Path(__file__).parent / "data" / "release-0007.json.gz"
WHERE_IS = text(
    "SELECT l.code FROM ledger_container c JOIN md_location l ON l.id = c.location_id"
    " WHERE c.code = :code"
)
BALANCES = text(
    "SELECT location_id, item_id, lot_id, status, quantity FROM ledger_balance ORDER BY id"
)


def _counts(db: Database, tables: list[str]) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def _balances(db: Database) -> list[tuple[Any, ...]]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(BALANCES)]


def test_the_previous_release_s_demo_plant_upgrades_with_its_data(new_store: NewStore) -> None:
    release = release_data.read(FIXTURE)
    assert release["revision"] == "0007"
    url = new_store()
    db = Database(url)
    try:
        schema.upgrade(db, release["revision"])
        release_data.load(url, release)
        tables = sorted(release["tables"])
        stored = {name: len(data["rows"]) for name, data in release["tables"].items()}
        assert _counts(db, tables) == stored
        assert stored["ledger_event"] == 70
        balances = _balances(db)
        assert len(balances) > 10

        schema.upgrade(db)

        heads = ScriptDirectory.from_config(schema.alembic_config(db)).get_heads()
        with db.engine.connect() as conn:
            assert [conn.execute(text("SELECT version_num FROM alembic_version")).scalar()] == heads
        still_there = [t for t in tables if inspect(db.engine).has_table(t)]
        assert _counts(db, still_there) == {t: stored[t] for t in still_there}
        assert _balances(db) == balances
        report = db.read(verify)
        assert report.ok, report.differences[:5]
        assert report.containers == stored["ledger_container"]

        assert db.read(lambda s: auth_service.authenticate(s, "admin", "admin-demo").username)
        with db.engine.connect() as conn:
            assert conn.execute(WHERE_IS, {"code": "B-2007"}).scalar() == "DOCK-IN"
        move = MoveCommand(container="B-2007", to_location="B-03")
        done = db.write(lambda s: ledger.move(s, ledger.Actor(name="clerk"), key(), move))
        assert done.event_id > max(row[0] for row in release["tables"]["ledger_event"]["rows"])
        assert db.read(verify).ok
        with db.engine.connect() as conn:
            assert conn.execute(WHERE_IS, {"code": "B-2007"}).scalar() == "B-03"
    finally:
        db.dispose()
