"""The migrations build exactly the schema the models describe, on the store under test."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from isom.db import Database
from isom.models import Base


# SQLite cannot reflect expression indexes (coalesce keys): autogenerate says so and skips them.
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_the_migrated_schema_matches_the_models(migrated_db: Database) -> None:
    with migrated_db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
