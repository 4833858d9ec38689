"""reactions after the event: the queue of job-cost messages still to write"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import isom.types
from isom.migrations.columns import table

revision: str = "0014"
down_revision: str | None = "0013"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = isom.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    table(
        "feed_job_cost_due",
        """
        id          serial
        work_order  string 40
        at          moment
        header      document
        part        integer
        """,
    )


def downgrade() -> None:
    op.drop_table("feed_job_cost_due")
