"""What devices send and what the devices domain answers, validated at every edge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from isom.devices.models import DeviceKind, PrinterKind
from isom.ledger.schemas import Code, NonNegative, OccurredAt, Positive, ReceiveCommand
from isom.production.enums import MachineState

EventId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$",
        description="Assigned by the device at the moment of the event (a UUID); its retry key.",
    ),
]
Barcode = Annotated[str, Field(min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Settings: GS1 identity per site, devices, printers.


class Gs1SiteIn(_Strict):
    """A site's GS1 company prefix and SSCC extension digit (and its GLN for location labels)."""

    site: Code
    company_prefix: str = Field(pattern=r"^\d{7,10}$", description="7 to 10 digits")
    extension_digit: int = Field(default=0, ge=0, le=9)
    gln: str | None = Field(default=None, pattern=r"^\d{13}$", description="13 digits")


class Gs1SiteOut(BaseModel):
    site: str
    company_prefix: str
    extension_digit: int
    gln: str | None
    last_serial: int
    serials_left: int


class SsccRequest(_Strict):
    """Allocate one SSCC for a site (idempotent by the request's key)."""

    site: Code


class SsccOut(BaseModel):
    sscc: str
    site: str
    hri: str
    digital_link: str
    epc_uri: str
    replayed: bool = False


class DeviceIn(_Strict):
    """Register a device; an API token with the device role is issued for it once."""

    code: Code
    kind: DeviceKind
    site: Code
    workstation: Code | None = Field(default=None, description="A controller's machine.")
    location: Code | None = Field(default=None, description="A portal's dock, a scanner's place.")
    silent_after_minutes: int = Field(default=10, ge=1, le=10_000)


class DeviceOut(BaseModel):
    code: str
    kind: str
    site: str
    workstation: str | None
    location: str | None
    silent_after_minutes: int
    last_seen_at: dt.datetime | None
    silent: bool
    active: bool
    token: str | None = Field(default=None, description="Shown once, when the device is made.")


class PrinterIn(_Strict):
    """A label printer: `pdf` (download) or `zpl` (raw ZPL to host:port)."""

    code: Code
    kind: PrinterKind
    host: str | None = Field(default=None, max_length=200)
    port: int = Field(default=9100, gt=0, lt=65536)
    label_size: Literal["100x150", "100x50", "50x25"] = "100x150"
    dpi: Literal[203, 300] = 203
    site: Code | None = None


class PrinterOut(BaseModel):
    code: str
    kind: str
    host: str | None
    port: int
    label_size: str
    dpi: int


# ---------------------------------------------------------------------------------------------
# Scans: what a code names.


class ScanIn(_Strict):
    """A scanned barcode as the scanner sent it (symbology prefix and GS kept)."""

    data: Barcode


class ScanView(BaseModel):
    """What one scan names: a container, an item with lot/quantity/expiry, a place, a person, a
    job; with the GS1 element strings it carried."""

    data: str
    form: str
    kind: Literal["container", "item", "location", "person", "job", "workstation", "unknown"]
    code: str | None = None
    gs1: dict[str, str] = {}
    container: dict[str, Any] | None = None
    item: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    person: dict[str, Any] | None = None
    job: dict[str, Any] | None = None
    workstation: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------
# Device events (MQTT payloads and the HTTP body are the same JSON).


class _Event(_Strict):
    eventID: EventId  # noqa: N815 - the field name devices and EPCIS use
    occurred_at: OccurredAt = None
    # Carried by the envelope, not part of the event itself:
    token: str | None = Field(default=None, max_length=200, exclude=True)
    device: Code | None = Field(default=None, exclude=True)
    kind: str | None = Field(default=None, exclude=True)


ScanAction = Literal[
    "identify", "move", "receive", "start", "pause", "resume", "leave", "consume", "stop"
]


class ScanEvent(_Event):
    """One or more codes scanned for one action (badge + job + workstation to start, ...)."""

    codes: list[Barcode] = Field(min_length=1, max_length=20)
    action: ScanAction = "identify"
    quantity: Positive | None = None
    scrap_quantity: NonNegative = Decimal(0)
    scrap_reason: str | None = Field(default=None, max_length=500)
    complete: bool = True
    location: Code | None = None
    workstation: Code | None = None
    printer: Code | None = Field(
        default=None, description="receive / stop: print the container's label here after commit"
    )


class RfidEvent(_Event):
    """Tags read at once by a portal: the containers they name move to its dock."""

    epcs: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=500
    )
    location: Code | None = None


class WeightEvent(_Event):
    """A scale's reading of a container: it sets the quantity of the weighed item."""

    container: Code
    item: Code | None = None
    lot: Code | None = None
    weight: NonNegative
    unit: Literal["kg"] = "kg"


class MachineEvent(_Event):
    """A controller's state (run, idle, down with reason, setup, cleanup) and piece count."""

    state: MachineState | None = None
    reason: str | None = Field(default=None, max_length=200)
    pieces: NonNegative | None = Field(default=None, description="Pieces since the last message")
    workstation: Code | None = None


EVENT_TYPES: dict[str, type[_Event]] = {
    "scan": ScanEvent,
    "rfid": RfidEvent,
    "weight": WeightEvent,
    "machine": MachineEvent,
}


class IngestAnswer(BaseModel):
    """The answer on the reply topic and from `POST /devices/events`."""

    eventID: str | None  # noqa: N815
    device: str | None
    kind: str | None
    status: Literal["accepted", "replayed", "rejected"]
    result: dict[str, Any] = {}
    error: dict[str, Any] | None = None


class DeadLetterView(BaseModel):
    """A device message that could not be applied, for an administrator to read."""

    id: int
    topic: str
    device: str | None
    eventID: str | None  # noqa: N815
    received_at: dt.datetime
    error: dict[str, Any]
    size: int | None = Field(description="Bytes received")
    truncated: bool = Field(description="Only the first MiB of the payload is kept")
    payload: str = Field(description="A text preview of the payload (token blanked)")
    raw_base64: str | None = Field(description="The payload's bytes as kept (token blanked)")


# ---------------------------------------------------------------------------------------------
# Receive into an SSCC-labelled container, and label printing.


class SsccReceive(_Strict):
    """Receive a container; with no code given it is labelled with a new SSCC of its site."""

    receive: ReceiveCommand
    printer: Code | None = Field(default=None, description="Print its label here after commit.")


class PrintRequest(_Strict):
    """Print a label for a container, lot, location or badge."""

    kind: Literal["container", "lot", "location", "badge"]
    code: Code = Field(description="Container, location or badge code; for a lot, item code.")
    lot: Code | None = None
    printer: Code
    copies: int = Field(default=1, ge=1, le=50)
    size: Literal["100x150", "100x50", "50x25"] | None = None


class PrintOut(BaseModel):
    printer: str
    kind: str
    code: str
    copies: int
    bytes: int
    download: str | None = None
