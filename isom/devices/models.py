"""Device tables: GS1 settings and SSCC serials per site, devices, printers, ingested messages.

`dev_message` is the ingest's idempotency record: one row per (device, event id) applied, with
the request hash and the answer, so a redelivered MQTT message or a retried HTTP call answers
the stored result. What cannot be applied lands in `dev_dead_letter`.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from isom.db import Base
from isom.types import Exact, JsonType, UtcDateTime, enum_column, utcnow


class DeviceKind(enum.StrEnum):
    scanner = "scanner"
    rfid = "rfid"
    scale = "scale"
    controller = "controller"


class PrinterKind(enum.StrEnum):
    pdf = "pdf"
    zpl = "zpl"


class Gs1Site(Base):
    """A site's GS1 identity: company prefix, SSCC extension digit, GLN, last serial issued."""

    __tablename__ = "dev_gs1_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("md_location.id"), unique=True)
    company_prefix: Mapped[str] = mapped_column(String(10))
    extension_digit: Mapped[int] = mapped_column(Integer, default=0)
    gln: Mapped[str | None] = mapped_column(String(13))
    last_serial: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint("extension_digit >= 0 AND extension_digit <= 9", name="extension_digit"),
        CheckConstraint("last_serial >= 0", name="last_serial"),
    )


class Sscc(Base):
    """An SSCC issued by the project: never issued twice (unique), with what it labels."""

    __tablename__ = "dev_sscc"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("md_location.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200), unique=True)


class Device(Base):
    """A scanner, RFID portal, scale or machine controller, and the API token it signs with."""

    __tablename__ = "dev_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(enum_column(DeviceKind))
    site_id: Mapped[int] = mapped_column(ForeignKey("md_location.id"))
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("auth_api_token.id", ondelete="SET NULL")
    )
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("md_workstation.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    silent_after_minutes: Mapped[int] = mapped_column(Integer, default=10)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DeviceMessage(Base):
    """An applied device event, as the device's log (its key and answer are the command frame's)."""

    __tablename__ = "dev_message"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("dev_device.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("device_id", "event_id"),)


class DeadLetter(Base):
    """A device message that could not be applied, with the error it was answered with.

    `raw` is the payload as received (bytes, so NUL bytes and invalid UTF-8 are kept), with the
    device token blanked, cut at 1 MiB (`size` is the size received); `payload` is a readable
    text preview of it.
    """

    __tablename__ = "dev_dead_letter"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    device: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[dict[str, Any]] = mapped_column(JsonType)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class MachineCount(Base):
    """Pieces a controller counted, against the job step running on its workstation then."""

    __tablename__ = "dev_machine_count"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("dev_message.id"))
    workstation_id: Mapped[int] = mapped_column(ForeignKey("md_workstation.id"), index=True)
    step: Mapped[str | None] = mapped_column(String(100), index=True)
    pieces: Mapped[Decimal] = mapped_column(Exact)
    counted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (CheckConstraint("pieces >= 0", name="pieces_non_negative"),)


class Printer(Base):
    """A label printer: a PDF download, or raw ZPL sent to a Zebra's TCP port (9100)."""

    __tablename__ = "dev_printer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[PrinterKind] = mapped_column(enum_column(PrinterKind))
    host: Mapped[str | None] = mapped_column(String(200))
    port: Mapped[int] = mapped_column(Integer, default=9100)
    label_size: Mapped[str] = mapped_column(String(20), default="100x150")
    dpi: Mapped[int] = mapped_column(Integer, default=203)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("md_location.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("port > 0 AND port < 65536", name="port_range"),)
