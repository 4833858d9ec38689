"""continuous material: an item's measure and minimum usable length, a step input's cut length"""

import sqlalchemy as sa
from alembic import op

import isom.types

revision: str = "0016"
down_revision: str | None = "0014"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its CHECK in place; a batch copy of md_item would drop a
        # table every other table points at, which its foreign keys refuse once there is data.
        for ddl in (
            "ALTER TABLE md_item ADD COLUMN measure VARCHAR(20) DEFAULT 'count' NOT NULL",
            "ALTER TABLE md_item ADD COLUMN min_usable BIGINT CONSTRAINT "
            "ck_md_item_min_usable_positive CHECK (min_usable IS NULL OR min_usable > 0)",
            "ALTER TABLE md_step_input ADD COLUMN cut_length BIGINT CONSTRAINT "
            "ck_md_step_input_cut_length_positive CHECK (cut_length IS NULL OR cut_length > 0)",
        ):
            op.execute(ddl)
        return
    op.add_column(
        "md_item",
        sa.Column("measure", sa.String(length=20), nullable=False, server_default="count"),
    )
    op.add_column("md_item", sa.Column("min_usable", isom.types.Exact(), nullable=True))
    op.create_check_constraint(
        op.f("ck_md_item_min_usable_positive"), "md_item", "min_usable IS NULL OR min_usable > 0"
    )
    op.add_column("md_step_input", sa.Column("cut_length", isom.types.Exact(), nullable=True))
    op.create_check_constraint(
        op.f("ck_md_step_input_cut_length_positive"),
        "md_step_input",
        "cut_length IS NULL OR cut_length > 0",
    )


def downgrade() -> None:
    with op.batch_alter_table("md_step_input") as batch:
        batch.drop_constraint(op.f("ck_md_step_input_cut_length_positive"), type_="check")
        batch.drop_column("cut_length")
    with op.batch_alter_table("md_item") as batch:
        batch.drop_constraint(op.f("ck_md_item_min_usable_positive"), type_="check")
        batch.drop_column("min_usable")
        batch.drop_column("measure")
