"""continuous material: an item's measure and minimum usable length, a step input's cut length

Revision ID: 0016
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("md_item") as batch:
        batch.add_column(
            sa.Column("measure", sa.String(length=20), nullable=False, server_default="count")
        )
        batch.add_column(sa.Column("min_usable", isom.types.Exact(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_md_item_min_usable_positive"), "min_usable IS NULL OR min_usable > 0"
        )
    with op.batch_alter_table("md_step_input") as batch:
        batch.add_column(sa.Column("cut_length", isom.types.Exact(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_md_step_input_cut_length_positive"), "cut_length IS NULL OR cut_length > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("md_step_input") as batch:
        batch.drop_constraint(op.f("ck_md_step_input_cut_length_positive"), type_="check")
        batch.drop_column("cut_length")
    with op.batch_alter_table("md_item") as batch:
        batch.drop_constraint(op.f("ck_md_item_min_usable_positive"), type_="check")
        batch.drop_column("min_usable")
        batch.drop_column("measure")
