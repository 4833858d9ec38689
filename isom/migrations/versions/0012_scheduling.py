"""finite scheduling: published plans and their planned operations"""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0012"
down_revision: str | None = "0011"

TABLES = (
    """
    plan_schedule
    id                  integer
    status              string 20
    method              string 20
    reason              string 500
    base_id             integer null
    made_at             moment
    made_by             string 100
    moved               integer
    moved_minutes       big
    weighted_tardiness  big
    late_jobs           integer
    changes             document
    seen                document
    REF base_id plan_schedule
    INDEX status
    """,
    """
    plan_schedule_op
    id           integer
    schedule_id  integer
    work_order   string 40
    sequence     integer
    operation    string 64
    item         string 64
    workstation  string 64
    start        moment
    end          moment
    due          moment
    priority     string 10
    state        string 10
    late         flag
    moved        flag
    REF schedule_id plan_schedule ON DELETE CASCADE
    UNIQUE schedule_id work_order sequence
    INDEX ix_plan_schedule_op_station: schedule_id workstation start
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
