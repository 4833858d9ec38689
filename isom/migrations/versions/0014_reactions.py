"""reactions after the event: the queue of job-cost messages still to write"""

from alembic import op

from isom.migrations.columns import create_tables

revision: str = "0014"
down_revision: str | None = "0013"

TABLES = (
    """
    feed_job_cost_due
    id          serial
    work_order  string 40
    at          moment
    header      document
    part        integer
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    op.drop_table("feed_job_cost_due")
