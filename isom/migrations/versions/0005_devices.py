"""Devices: GS1 site settings and SSCC serials, devices, printers, ingested messages."""

from alembic import op

from isom.migrations.columns import check, ref, table, unique

revision: str = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    _dev_dead_letter()
    _dev_gs1_site()
    _dev_printer()
    _dev_sscc()
    _dev_device()
    _dev_message()
    _dev_machine_count()


def _dev_dead_letter() -> None:
    table(
        "dev_dead_letter",
        """
        id           serial
        topic        string 200
        device       string 64 null
        event_id     string 100 null
        payload      text
        error        document
        received_at  moment
        """,
    )


def _dev_gs1_site() -> None:
    table(
        "dev_gs1_site",
        """
        id               integer
        site_id          integer
        company_prefix   string 10
        extension_digit  integer
        gln              string 13 null
        last_serial      big
        """,
        check("extension_digit >= 0 AND extension_digit <= 9", "extension_digit"),
        check("last_serial >= 0", "last_serial"),
        ref("site_id", "md_location"),
        unique("site_id"),
    )


def _dev_printer() -> None:
    table(
        "dev_printer",
        """
        id          integer
        code        string 64
        kind        enum printerkind pdf zpl
        host        string 200 null
        port        integer
        label_size  string 20
        dpi         integer
        site_id     integer null
        active      flag
        """,
        check("port > 0 AND port < 65536", "port_range"),
        ref("site_id", "md_location"),
        unique("code"),
    )


def _dev_sscc() -> None:
    table(
        "dev_sscc",
        """
        id         serial
        sscc       string 18
        site_id    integer
        issued_at  moment
        issued_by  string 100
        key        string 200 null
        """,
        ref("site_id", "md_location"),
        unique("key"),
        unique("sscc"),
    )


def _dev_device() -> None:
    table(
        "dev_device",
        """
        id                    integer
        code                  string 64
        kind                  enum devicekind scanner rfid scale controller
        site_id               integer
        token_id              integer null
        workstation_id        integer null
        location_id           integer null
        silent_after_minutes  integer
        last_seen_at          moment null
        active                flag
        """,
        ref("location_id", "md_location"),
        ref("site_id", "md_location"),
        ref("token_id", "auth_api_token", ondelete="SET NULL"),
        ref("workstation_id", "md_workstation"),
        unique("code"),
    )


def _dev_message() -> None:
    table(
        "dev_message",
        """
        id            serial
        device_id     integer
        event_id      string 100
        kind          string 20
        request_hash  string 64
        result        document
        occurred_at   moment
        received_at   moment
        """,
        ref("device_id", "dev_device"),
        unique("device_id", "event_id"),
    )


def _dev_machine_count() -> None:
    table(
        "dev_machine_count",
        """
        id              serial
        message_id      serial
        workstation_id  integer
        step            string 100 null
        pieces          exact
        counted_at      moment
        """,
        check("pieces >= 0", "pieces_non_negative"),
        ref("message_id", "dev_message"),
        ref("workstation_id", "md_workstation"),
        index=("step", "workstation_id"),
    )


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
