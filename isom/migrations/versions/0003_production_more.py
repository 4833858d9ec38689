"""Production: standard overhead rate, rework and returns on steps; one open machine state.

`prod_step.std_overhead_rate` is snapshotted at release like the labour and machine rates;
`rework_pending` counts units sent back to the step that made them and not yet re-stopped;
`quantity_returned` counts the step's WIP output returned to plain stock. The partial unique
index `uq_prod_machine_open` lets a workstation have one open state record only, so two first
machine-state events racing cannot both open one (the loser retries and closes the winner's).
"""

import sqlalchemy as sa
from alembic import op

import isom.types

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    with op.batch_alter_table("prod_step", schema=None) as batch_op:
        for name in ("std_overhead_rate", "rework_pending", "quantity_returned"):
            batch_op.add_column(
                sa.Column(name, isom.types.Exact(), nullable=False, server_default="0")
            )
    op.create_index(
        "uq_prod_machine_open",
        "prod_machine",
        ["workstation_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_prod_machine_open", table_name="prod_machine")
    with op.batch_alter_table("prod_step", schema=None) as batch_op:
        for name in ("quantity_returned", "rework_pending", "std_overhead_rate"):
            batch_op.drop_column(name)
