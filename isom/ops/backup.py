"""Backups a plant can restore: SQLite through its online backup API, PostgreSQL through pg_dump.

SQLite: `sqlite3`'s backup API copies the database page by page inside one read transaction,
so the copy is the database as of one instant even while the server keeps writing (WAL lets
the writer go on). PostgreSQL: `pg_dump --format=custom` takes one consistent snapshot as well;
`pg_restore` loads it. Either way a restore then brings the schema up to this release.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from isom import schema
from isom.db import Database
from isom.errors import Conflict, InvalidInput, ServiceUnavailable
from isom.ledger.models import Event


@dataclass(frozen=True)
class Copied:
    """What a backup or restore moved: the file, and the ledger's size in it when known."""

    path: Path
    events: int | None


def sqlite_path(db: Database) -> Path:
    """The file of an SQLite store."""
    name = make_url(db.url).database
    if not name or name == ":memory:":
        raise InvalidInput("an in-memory database cannot be backed up", field="database_url")
    return Path(name)


def _events_in(path: Path) -> int | None:
    with closing(sqlite3.connect(path)) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE name = 'ledger_event'"
        ).fetchone()
        return conn.execute("SELECT count(*) FROM ledger_event").fetchone()[0] if found else None


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the online backup API (one step: one
    read transaction, so one instant), then check the copy's integrity."""
    if not source.is_file():
        raise InvalidInput(f"no SQLite database at {source}", field="file")
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as exc:
        raise ServiceUnavailable(f"copying {source} to {target} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()
    if verdict != "ok":
        raise ServiceUnavailable(f"the copy failed its integrity check: {verdict}")


def _libpq(db: Database) -> tuple[str, dict[str, str]]:
    """The store's URL as libpq reads it, with the password moved to the environment (a
    command line shows in `ps` to every user of the machine)."""
    url = make_url(db.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(tool: str, *args: str, env: dict[str, str]) -> None:
    path = shutil.which(tool)
    if path is None:
        raise ServiceUnavailable(f"{tool} is not installed; install the PostgreSQL client tools")
    done = subprocess.run([path, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServiceUnavailable(f"{tool} failed: {done.stderr.strip()[:2000]}")


def backup(db: Database, target: Path) -> Copied:
    """Write a consistent copy of the store to `target` (never over an existing file)."""
    if target.exists():
        raise Conflict(f"{target} exists; back up to a new file", field="file")
    if not target.parent.is_dir():
        raise InvalidInput(f"no directory {target.parent}", field="file")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if db.is_sqlite:
        _copy_sqlite(sqlite_path(db), partial)
        events = _events_in(partial)
    else:
        url, env = _libpq(db)
        _run("pg_dump", "--format=custom", "--no-owner", f"--file={partial}", url, env=env)
        events = None
    partial.rename(target)  # a half-written backup never carries the final name
    return Copied(target, events)


def _holds_tables(db: Database) -> bool:
    return bool(inspect(db.engine).get_table_names())


def restore(db: Database, source: Path, *, force: bool = False) -> Copied:
    """Load a backup into the store, then migrate it to this release's schema.

    Refuses a store that already holds tables unless `force`: a restore replaces everything.
    Stop every ISOM process using the store first.
    """
    if not source.is_file():
        raise InvalidInput(f"no backup file at {source}", field="file")
    if not force and _holds_tables(db):
        raise Conflict(
            "the database already holds tables; a restore replaces them all",
            expected="an empty database, or --force",
        )
    if db.is_sqlite:
        db.dispose()
        _copy_sqlite(source, sqlite_path(db))
    else:
        url, env = _libpq(db)
        flags = ["--clean", "--if-exists"] if force else []
        _run(
            "pg_restore",
            *flags,
            "--no-owner",
            "--exit-on-error",
            f"--dbname={url}",
            str(source),
            env=env,
        )
    schema.upgrade(db)
    return Copied(source, db.read(lambda s: s.scalar(select(func.count()).select_from(Event))))
