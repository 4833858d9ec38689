"""`isom backup` while the plant keeps scanning, then `isom restore` into a new database: the
copy is the ledger as of one instant, so it verifies clean, and a copy taken at rest holds
exactly the balances of the original."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from isom.cli import app
from isom.db import Database
from isom.ledger.models import Balance, Event
from tests.builders import plant
from tests.ops.stores import NewStore
from tests.ops.support import receiving

runner = CliRunner()


def _isom(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ISOM_DATABASE_URL": url})
    return result.exit_code, result.output


def _receive(db: Database, codes: dict[str, str], n: int) -> None:
    db.write(receiving(codes, f"TOTE-{n}", f"L-{n % 3}"))


def _keep_receiving(db: Database, stop: threading.Event, done: list[int]) -> None:
    codes = plant(db)
    while not stop.is_set():
        _receive(db, codes, len(done) + 1)
        done.append(len(done) + 1)


def _events(db: Database) -> list[tuple[int, str]]:
    return db.read(lambda s: [(e.id, e.key) for e in s.scalars(select(Event).order_by(Event.id))])


def _balances(db: Database) -> list[tuple[object, ...]]:
    def rows(s: Session) -> list[tuple[object, ...]]:
        found = s.scalars(select(Balance).order_by(Balance.id))
        return [(b.location_id, b.item_id, b.lot_id, b.status, b.quantity) for b in found]

    return db.read(rows)


def test_a_backup_taken_while_writing_restores_to_a_ledger_that_verifies(
    db: Database, new_store: NewStore, tmp_path: Path
) -> None:
    stop, done = threading.Event(), []
    writer = threading.Thread(target=_keep_receiving, args=(db, stop, done))
    writer.start()
    try:
        while len(done) < 5:
            stop.wait(0.02)
        code, out = _isom(db.url, "backup", str(tmp_path / "busy.backup"))
        written_during = len(done)
    finally:
        stop.set()
        writer.join()
    assert code == 0, out
    assert "backed up to" in out

    target = new_store()
    code, out = _isom(target, "restore", str(tmp_path / "busy.backup"))
    assert code == 0, out
    code, out = _isom(target, "ledger", "verify")
    assert code == 0, out
    assert "ledger verified" in out
    restored = Database(target)
    try:
        copied = _events(restored)
    finally:
        restored.dispose()
    assert 5 <= len(copied) <= len(done) + 1  # +1: the writer may have been mid-event
    assert copied == _events(db)[: len(copied)]  # one instant: a prefix of the history
    assert written_during >= 5


def test_a_backup_at_rest_restores_the_same_balances_and_overwrites_nothing(
    db: Database, new_store: NewStore, tmp_path: Path
) -> None:
    codes = plant(db)
    for n in range(1, 8):
        _receive(db, codes, n)
    file = tmp_path / "rest.backup"
    assert _isom(db.url, "backup", str(file))[0] == 0
    code, out = _isom(db.url, "backup", str(file))
    assert code == 1 and "exists" in out

    target = new_store()
    assert _isom(target, "restore", str(file))[0] == 0
    restored = Database(target)
    try:
        assert _balances(restored) == _balances(db)
        assert _events(restored) == _events(db)
        _receive(db, codes, 8)
        code, out = _isom(target, "restore", str(file))
        assert code == 1 and "already holds tables" in out
        at_backup = _events(restored)
        _receive(restored, codes, 9)  # the restored plant takes new events
        assert len(_events(restored)) == len(at_backup) + 1
    finally:
        restored.dispose()
    code, out = _isom(target, "restore", "--force", str(file))
    assert code == 0, out
    again = Database(target)
    try:
        assert _events(again) == at_backup
    finally:
        again.dispose()


def test_a_backup_or_restore_that_cannot_work_says_why_and_changes_nothing(
    db: Database, new_store: NewStore, tmp_path: Path
) -> None:
    code, out = _isom(db.url, "backup", str(tmp_path / "no-such-dir" / "x.backup"))
    assert code == 1 and "no directory" in out
    junk = tmp_path / "junk.backup"
    junk.write_text("not a backup\n")
    target = new_store()
    code, out = _isom(target, "restore", str(junk))
    assert code == 1 and "restore failed" in out
    code, out = _isom(target, "restore", str(tmp_path / "missing.backup"))
    assert code == 1 and "no backup file" in out
