"""Settings read from the environment, so one build runs on a laptop and in a plant."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("var") / "isom.db"


@dataclass(frozen=True)
class Settings:
    """What the process needs to know before it touches the database."""

    database_url: str
    sqlite_synchronous: str
    container_prefix: str
    cookie_secure: bool
    #: Proxies whose X-Forwarded-Proto/-For we believe: comma-separated addresses, or "*".
    trusted_proxies: str = ""
    #: The bearer token Prometheus sends to /metrics; metrics are off while it is empty.
    metrics_token: str = ""
    #: /readyz fails when a feed consumer is further behind than this many seconds.
    ready_feed_lag_seconds: float = 300.0
    #: Connections each engine keeps open: the server's thread pool size (anyio's default 40).
    db_pool_size: int = 40
    #: The ledger's doors hand commands to the process's writer, many per commit (isom.writer).
    group_commit: bool = True
    #: Writer threads of one process on PostgreSQL, each grouping commands on its own connection.
    writer_lanes: int = 4


def get_settings() -> Settings:
    """Read settings from `ISOM_*` variables, defaulting to the embedded SQLite store."""
    url = os.environ.get("ISOM_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return Settings(
        database_url=url,
        sqlite_synchronous=os.environ.get("ISOM_SQLITE_SYNCHRONOUS", "FULL").upper(),
        container_prefix=os.environ.get("ISOM_CONTAINER_PREFIX", "C"),
        cookie_secure=os.environ.get("ISOM_COOKIE_SECURE", "0") == "1",
        trusted_proxies=os.environ.get("ISOM_TRUSTED_PROXIES", ""),
        metrics_token=os.environ.get("ISOM_METRICS_TOKEN", ""),
        ready_feed_lag_seconds=float(os.environ.get("ISOM_READY_FEED_LAG", "300")),
        db_pool_size=int(os.environ.get("ISOM_DB_POOL_SIZE", "40")),
        group_commit=os.environ.get("ISOM_GROUP_COMMIT", "1") != "0",
        writer_lanes=int(os.environ.get("ISOM_WRITER_LANES", "4")),
    )
