"""Engines, sessions and the one unit-of-work wrapper that commits (and retries) writes.

Services take a session, flush, and never commit. Exactly three places commit: the API's
write helper, the CLI command wrapper and the agent/worker wrapper, all through
`Database.write`, which retries the whole unit of work when the store reports a busy
database, a serialization failure or a deadlock.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from isom.config import Settings, get_settings
from isom.errors import Conflict, InsufficientStock, IsomError, ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every ISOM table, with a shared constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: `session.info` key: this unit of work is one command from a door (see `Database.write`).
ONE_COMMAND = "isom.one_command"


class RetryableConflict(Exception):
    """Raised inside a unit of work to ask `Database.write` to run it again from the start."""


_PG_RETRY_CODES = {"40001", "40P01", "55P03"}
# Unique keys (PostgreSQL constraint, SQLite column) whose clash means "replay, do not refuse".
_KEY_CONSTRAINTS = (
    "uq_command_key",
    "command.key",
    "uq_ledger_event_key",
    "ledger_event.key",
    "uq_prod_event_key",
    "prod_event.key",
    "uq_ord_event_key",
    "ord_event.key",
)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryableConflict):
        return True
    if isinstance(exc, IntegrityError):
        # A concurrent request inserted the same idempotency key first: run again to replay.
        text = str(exc.orig)
        return any(name in text for name in _KEY_CONSTRAINTS)
    if isinstance(exc, OperationalError | DBAPIError):
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if code in _PG_RETRY_CODES:
            return True
        text = str(orig).lower()
        return "database is locked" in text or "database is busy" in text
    return False


#: Connections kept open per engine: one per thread of the server's thread pool (anyio's 40),
#: so a busy server reuses them instead of opening, configuring and closing one per request.
#: The few more that background threads (agents, ingest lanes) may take are opened on demand.
POOL_OVERFLOW = 8


def _sqlite_engine(url: str, settings: Settings, *, immediate: bool) -> Engine:
    """SQLite in WAL mode; writers BEGIN IMMEDIATE so two never both read, then write."""
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=settings.db_pool_size,
        max_overflow=POOL_OVERFLOW,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        """Once per connection, not per checkout: the pool keeps the connection configured."""
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The store: a write engine, a read engine and the retrying unit of work."""

    def __init__(self, url: str | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.url = url or self.settings.database_url
        if self.url.startswith("postgresql://"):
            self.url = "postgresql+psycopg://" + self.url.split("://", 1)[1]
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url, self.settings, immediate=True)
            self.read_engine = _sqlite_engine(self.url, self.settings, immediate=False)
        else:
            self.engine = create_engine(
                self.url,
                pool_size=self.settings.db_pool_size,
                max_overflow=POOL_OVERFLOW,
                pool_pre_ping=True,
            )
            self.read_engine = self.engine
        self._writer = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def write(
        self, work: Callable[[Session], T], *, attempts: int = 12, one_command: bool = False
    ) -> T:
        """Run `work` in one transaction and commit; retry all of it on a transient conflict.

        `one_command`: `work` is one command from a door (HTTP, a device): a refusal its command
        frame recorded is that key's answer, so it is committed before the error is raised.
        """
        for attempt in range(1, attempts + 1):
            session = self._writer()
            try:
                if one_command:
                    session.info[ONE_COMMAND] = True
                try:
                    result = work(session)
                except IsomError as refusal:
                    if one_command and refusal.keep is not None:  # the key's answer: keep it
                        session.rollback()
                        refusal.keep(session)
                        session.commit()
                    raise
                session.commit()
                return result
            except Exception as exc:
                session.rollback()
                if not is_retryable(exc):
                    raise conflict_from(exc) from exc
                if attempt == attempts:
                    raise ServiceUnavailable(
                        "the database stayed busy; nothing was applied, please retry"
                    ) from exc
                time.sleep(min(0.2, 0.002 * 2**attempt) * random.random())
            finally:
                session.close()
        raise AssertionError("unreachable")

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session; it never commits and never blocks writers (WAL on SQLite)."""
        session = self._reader()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def read(self, work: Callable[[Session], T]) -> T:
        """Run a read-only query function."""
        with self.reading() as session:
            return work(session)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def conflict_from(exc: Exception) -> Exception:
    """Integrity errors that reach the top are a conflict with existing data, not a crash."""
    if isinstance(exc, IntegrityError):
        text = str(exc.orig).lower()
        if "quantity" in text and ("check" in text or "constraint" in text):
            return InsufficientStock(
                "not enough quantity: the change would make a quantity negative"
            )
        return Conflict(f"the change conflicts with existing data: {str(exc.orig).splitlines()[0]}")
    return exc


R = TypeVar("R", bound=Base)


def copy_row(row: R, **changes: Any) -> R:
    """A new row of the same table with this row's values but its primary key, and `changes`
    (a split or a copy into another parent). Not added to the session."""
    attrs = inspect(row).mapper.column_attrs
    values = {
        a.key: getattr(row, a.key) for a in attrs if not any(c.primary_key for c in a.columns)
    }
    return type(row)(**(values | changes))


V = TypeVar("V", bound=BaseModel)


def row_view(view: type[V], row: object, **given: Any) -> V:
    """The view of a row: each of the view's fields is the row's attribute of that name, but
    those `given` (computed, renamed, or kept out of the row's view, like a secret)."""
    return view.model_validate(
        {k: given[k] if k in given else getattr(row, k) for k in view.model_fields}
    )
