"""Small column types the migrations share (a migration states the schema; these spell it once)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def json_type() -> sa.JSON:
    """JSON on SQLite, JSONB on PostgreSQL (what `isom.types` maps JSON columns to)."""
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
