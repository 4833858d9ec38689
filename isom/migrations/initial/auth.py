"""Users, API tokens and web sessions (master data's people point at users)."""

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import foreign_key, json_type

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    "auth_user",
    "auth_api_token",
    "auth_web_session",
)


def upgrade() -> None:
    _auth_user()
    _auth_api_token()
    _auth_web_session()


def _auth_user() -> None:
    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("roles", json_type(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_user_username")),
    )


def _auth_api_token() -> None:
    op.create_table(
        "auth_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("roles", json_type(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        foreign_key("auth_api_token", "user_id", "auth_user", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_api_token")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_api_token_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_api_token_token_hash")),
    )
    with op.batch_alter_table("auth_api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_api_token_prefix"), ["prefix"], unique=False)


def _auth_web_session() -> None:
    op.create_table(
        "auth_web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("auth_web_session", "user_id", "auth_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_web_session_token_hash")),
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
