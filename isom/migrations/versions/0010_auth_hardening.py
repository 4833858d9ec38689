"""auth hardening: failed sign-ins kept for the login throttle

Revision ID: 0010
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_login_failure")),
    )
    with op.batch_alter_table("auth_login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_login_failure_username"), ["username"])
        batch_op.create_index(batch_op.f("ix_auth_login_failure_address"), ["address"])
        batch_op.create_index(batch_op.f("ix_auth_login_failure_at"), ["at"])


def downgrade() -> None:
    op.drop_table("auth_login_failure")
