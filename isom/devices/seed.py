"""Devices, printers and GS1 settings of the demo plant (Kabelwerk Nord, site KW1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.devices import services as devices
from isom.devices.models import Device, DeviceKind, PrinterKind
from isom.devices.schemas import DeviceIn, Gs1SiteIn, PrinterIn

SITE = "KW1"
COMPANY_PREFIX = "4012345"
SITE_GLN = "4012345000009"

#: code, kind, workstation, location
DEMO_DEVICES: list[tuple[str, DeviceKind, str | None, str | None]] = [
    ("SCN-RECV", DeviceKind.scanner, None, "DOCK-IN"),
    ("SCN-FLOOR", DeviceKind.scanner, None, "WIP-RACK"),
    ("RFID-DOCK-OUT", DeviceKind.rfid, None, "DOCK-OUT"),
    ("SCALE-STORE", DeviceKind.scale, None, "STORE"),
    ("CTRL-CUT-1", DeviceKind.controller, "CUT-1", None),
    ("CTRL-CRIMP-1", DeviceKind.controller, "CRIMP-1", None),
    ("CTRL-TEST-1", DeviceKind.controller, "TEST-1", None),
]


def seed_demo(session: Session) -> dict[str, str]:
    """GS1 prefix and GLN for KW1, the demo's devices and printers; new device tokens by code.

    Runs after the demo plant's master data is loaded; devices already present are kept.
    """
    devices.set_gs1_site(
        session,
        Gs1SiteIn(site=SITE, company_prefix=COMPANY_PREFIX, extension_digit=0, gln=SITE_GLN),
    )
    tokens: dict[str, str] = {}
    for code, kind, workstation, location in DEMO_DEVICES:
        if session.scalar(select(Device.id).where(Device.code == code)) is not None:
            continue
        out = devices.register_device(
            session,
            DeviceIn(code=code, kind=kind, site=SITE, workstation=workstation, location=location),
        )
        assert out.token is not None
        tokens[code] = out.token
    devices.set_printer(session, PrinterIn(code="PDF", kind=PrinterKind.pdf, site=SITE))
    devices.set_printer(
        session,
        PrinterIn(code="ZEBRA-DOCK", kind=PrinterKind.zpl, host="127.0.0.1", port=9100, site=SITE),
    )
    return tokens
