"""The outbound feed: subscribers, messages read from the ledger's outbox, dead letters."""

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import foreign_key, json_type

# In the order they are made (a table after those it points at); downgrade drops them backwards.
TABLES = (
    "feed_state",
    "feed_subscriber",
    "feed_dead_letter",
    "feed_message",
)


def upgrade() -> None:
    _feed_state()
    _feed_subscriber()
    _feed_dead_letter()
    _feed_message()


def _feed_state() -> None:
    op.create_table(
        "feed_state",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_feed_state")),
    )


def _feed_subscriber() -> None:
    op.create_table(
        "feed_subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("topics", json_type(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_subscriber")),
        sa.UniqueConstraint("name", name=op.f("uq_feed_subscriber_name")),
    )


def _feed_dead_letter() -> None:
    op.create_table(
        "feed_dead_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", json_type(), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        foreign_key("feed_dead_letter", "subscriber_id", "feed_subscriber"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_dead_letter")),
    )
    with op.batch_alter_table("feed_dead_letter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_dead_letter_subscriber_id"), ["subscriber_id"], unique=False
        )


def _feed_message() -> None:
    op.create_table(
        "feed_message",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sequenced_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("feed_message", "outbox_id", "ledger_outbox"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_feed_message")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_feed_message_outbox_id")),
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
