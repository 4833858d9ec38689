"""initial schema: each domain's first tables"""

from isom.migrations.initial import DOMAINS

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    for domain in DOMAINS:
        domain.upgrade()


def downgrade() -> None:
    for domain in reversed(DOMAINS):
        domain.downgrade()
