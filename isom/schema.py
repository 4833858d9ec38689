"""Bring a database to the current schema with Alembic (the only way tables are made)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from isom.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    """An Alembic configuration pointing at our migrations and this database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Run every pending migration (up to `revision`: the upgrade test stops at a past release)."""
    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("COMMIT") if conn.in_transaction() else None
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        if conn.in_transaction():
            conn.commit()


def open_db() -> Database:
    """The configured store, migrated to the current schema (what every command line opens)."""
    db = Database()
    upgrade(db)
    return db
