"""Small column types the migrations share (a migration states the schema; these spell it once)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def json_type() -> sa.JSON:
    """JSON on SQLite, JSONB on PostgreSQL (what `isom.types` maps JSON columns to)."""
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def indexes(table: str, *columns: str) -> None:
    """One plain index per column, named `ix_<table>_<column>` as the models' convention does."""
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def enum_type(name: str, *values: str, length: int = 20) -> sa.Enum:
    """An enum stored as a checked string, as the models declare every status."""
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def foreign_key(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """`table.column` pointing at `target.id`, named `fk_<table>_<column>_<target>`."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )
