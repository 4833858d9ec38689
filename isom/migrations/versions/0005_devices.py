"""Devices: GS1 site settings and SSCC serials, devices, printers, ingested messages."""

from isom.migrations.columns import create_tables, drop_tables

revision: str = "0005"
down_revision: str | None = "0004"

TABLES = (
    """
    dev_dead_letter
    id           serial
    topic        string 200
    device       string 64 null
    event_id     string 100 null
    payload      text
    error        document
    received_at  moment
    """,
    """
    dev_gs1_site
    id               integer
    site_id          integer
    company_prefix   string 10
    extension_digit  integer
    gln              string 13 null
    last_serial      big
    CHECK extension_digit: extension_digit >= 0 AND extension_digit <= 9
    CHECK last_serial: last_serial >= 0
    REF site_id md_location
    UNIQUE site_id
    """,
    """
    dev_printer
    id          integer
    code        string 64
    kind        enum printerkind pdf zpl
    host        string 200 null
    port        integer
    label_size  string 20
    dpi         integer
    site_id     integer null
    active      flag
    CHECK port_range: port > 0 AND port < 65536
    REF site_id md_location
    UNIQUE code
    """,
    """
    dev_sscc
    id         serial
    sscc       string 18
    site_id    integer
    issued_at  moment
    issued_by  string 100
    key        string 200 null
    REF site_id md_location
    UNIQUE key
    UNIQUE sscc
    """,
    """
    dev_device
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
    REF location_id md_location
    REF site_id md_location
    REF token_id auth_api_token ON DELETE SET NULL
    REF workstation_id md_workstation
    UNIQUE code
    """,
    """
    dev_message
    id            serial
    device_id     integer
    event_id      string 100
    kind          string 20
    request_hash  string 64
    result        document
    occurred_at   moment
    received_at   moment
    REF device_id dev_device
    UNIQUE device_id event_id
    """,
    """
    dev_machine_count
    id              serial
    message_id      serial
    workstation_id  integer
    step            string 100 null
    pieces          exact
    counted_at      moment
    CHECK pieces_non_negative: pieces >= 0
    REF message_id dev_message
    REF workstation_id md_workstation
    INDEX step workstation_id
    """,
)


def upgrade() -> None:
    create_tables(TABLES)


def downgrade() -> None:
    drop_tables(TABLES)
