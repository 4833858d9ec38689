"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 12:26:20.156299
"""

from collections.abc import Sequence

from isom.migrations.initial import DOMAINS

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for domain in DOMAINS:
        domain.upgrade()


def downgrade() -> None:
    for domain in reversed(DOMAINS):
        domain.downgrade()
