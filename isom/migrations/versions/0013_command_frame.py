"""one command frame: the `command` table holds every key's request hash and answer

The domains' event tables keep their events but no longer their own request hashes, and the
devices' message log keeps which events arrived but no longer a hash and an answer of its own.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from isom.migrations.columns import create_tables

revision: str = "0013"
down_revision: str | None = "0012"

TABLES = (
    """
    command
    id            serial
    key           string 200
    kind          string 40
    request_hash  string 64
    status        integer
    answer        document
    actor         string 100
    device        string 100 null
    recorded_at   moment
    UNIQUE key
    """,
)

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# Outer commands first: their key wins over the same key of a nested event.
HASHED = ("ord_event", "prod_event", "ledger_event")


def upgrade() -> None:
    create_tables(TABLES)
    # Keys applied before the frame existed keep replaying: their answers move over. (A device
    # event's old hash differs from the frame's: its resend answers 409, it is never re-applied.)
    postgres = op.get_bind().dialect.name == "postgresql"
    build, result = (
        ("jsonb_build_object", "m.result") if postgres else ("json_object", "json(m.result)")
    )
    op.execute(
        "INSERT INTO command (key, kind, request_hash, status, answer, actor, device, recorded_at) "
        "SELECT 'dev:' || d.code || ':' || m.event_id, m.kind, m.request_hash, 200, "
        f"{build}('eventID', m.event_id, 'device', d.code, 'kind', m.kind, "
        f"'status', 'accepted', 'result', {result}), d.code, d.code, m.received_at "
        "FROM dev_message m JOIN dev_device d ON d.id = m.device_id"
    )
    for events in HASHED:
        op.execute(
            "INSERT INTO command (key, kind, request_hash, status, answer, actor, device, "
            "recorded_at) SELECT key, CAST(kind AS VARCHAR(40)), request_hash, 200, result, "
            f"actor, device, recorded_at FROM {events} WHERE key NOT IN (SELECT key FROM command)"
        )
        op.execute(f"ALTER TABLE {events} DROP COLUMN request_hash")
    op.execute("ALTER TABLE dev_message DROP COLUMN request_hash")
    op.execute("ALTER TABLE dev_message DROP COLUMN result")


def downgrade() -> None:
    for events in (*HASHED, "dev_message"):
        op.add_column(
            events,
            sa.Column("request_hash", sa.String(length=64), nullable=False, server_default=""),
        )
    op.add_column("dev_message", sa.Column("result", JSON, nullable=False, server_default="{}"))
    op.drop_table("command")
