"""trust: device dead letters keep the raw bytes; subscribers count refusals apart from outages"""

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"


def upgrade() -> None:
    with op.batch_alter_table("dev_dead_letter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))
    with op.batch_alter_table("feed_subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusals", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("feed_subscriber", schema=None) as batch_op:
        batch_op.drop_column("refusals")
    with op.batch_alter_table("dev_dead_letter", schema=None) as batch_op:
        batch_op.drop_column("size")
        batch_op.drop_column("raw")
