"""initial schema: each domain's first tables"""

from isom.migrations.columns import create_tables, drop_tables
from isom.migrations.initial import DOMAINS

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    for domain in DOMAINS:
        create_tables(domain.TABLES)


def downgrade() -> None:
    for domain in reversed(DOMAINS):
        drop_tables(domain.TABLES)
