"""Devices: GS1 site settings and SSCC serials, devices, printers, ingested messages.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, indexes, json_type

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _dev_dead_letter()
    _dev_gs1_site()
    _dev_printer()
    _dev_sscc()
    _dev_device()
    _dev_message()
    _dev_machine_count()


def _dev_dead_letter() -> None:
    op.create_table(
        "dev_dead_letter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("error", json_type(), nullable=False),
        sa.Column("received_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_dead_letter")),
    )


def _dev_gs1_site() -> None:
    op.create_table(
        "dev_gs1_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("company_prefix", sa.String(length=10), nullable=False),
        sa.Column("extension_digit", sa.Integer(), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "extension_digit >= 0 AND extension_digit <= 9",
            name=op.f("ck_dev_gs1_site_extension_digit"),
        ),
        sa.CheckConstraint("last_serial >= 0", name=op.f("ck_dev_gs1_site_last_serial")),
        foreign_key("dev_gs1_site", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_gs1_site")),
        sa.UniqueConstraint("site_id", name=op.f("uq_dev_gs1_site_site_id")),
    )


def _dev_printer() -> None:
    op.create_table(
        "dev_printer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", enum_type("printerkind", "pdf", "zpl"), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=True),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("label_size", sa.String(length=20), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("port > 0 AND port < 65536", name=op.f("ck_dev_printer_port_range")),
        foreign_key("dev_printer", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_printer")),
        sa.UniqueConstraint("code", name=op.f("uq_dev_printer_code")),
    )


def _dev_sscc() -> None:
    op.create_table(
        "dev_sscc",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        foreign_key("dev_sscc", "site_id", "md_location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_sscc")),
        sa.UniqueConstraint("key", name=op.f("uq_dev_sscc_key")),
        sa.UniqueConstraint("sscc", name=op.f("uq_dev_sscc_sscc")),
    )


def _dev_device() -> None:
    op.create_table(
        "dev_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            enum_type("devicekind", "scanner", "rfid", "scale", "controller"),
            nullable=False,
        ),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("workstation_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("silent_after_minutes", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", isom.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        foreign_key("dev_device", "location_id", "md_location"),
        foreign_key("dev_device", "site_id", "md_location"),
        foreign_key("dev_device", "token_id", "auth_api_token", ondelete="SET NULL"),
        foreign_key("dev_device", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_device")),
        sa.UniqueConstraint("code", name=op.f("uq_dev_device_code")),
    )


def _dev_message() -> None:
    op.create_table(
        "dev_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", json_type(), nullable=False),
        sa.Column("occurred_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        foreign_key("dev_message", "device_id", "dev_device"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_message")),
        sa.UniqueConstraint(
            "device_id", "event_id", name=op.f("uq_dev_message_device_id_event_id")
        ),
    )


def _dev_machine_count() -> None:
    op.create_table(
        "dev_machine_count",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("workstation_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("pieces", isom.types.Exact(), nullable=False),
        sa.Column("counted_at", isom.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("pieces >= 0", name=op.f("ck_dev_machine_count_pieces_non_negative")),
        foreign_key("dev_machine_count", "message_id", "dev_message"),
        foreign_key("dev_machine_count", "workstation_id", "md_workstation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_machine_count")),
    )
    indexes("dev_machine_count", "step", "workstation_id")


def downgrade() -> None:
    op.drop_index(op.f("ix_dev_machine_count_workstation_id"), table_name="dev_machine_count")
    op.drop_index(op.f("ix_dev_machine_count_step"), table_name="dev_machine_count")
    op.drop_table("dev_machine_count")
    op.drop_table("dev_message")
    op.drop_table("dev_device")
    op.drop_table("dev_sscc")
    op.drop_table("dev_printer")
    op.drop_table("dev_gs1_site")
    op.drop_table("dev_dead_letter")
