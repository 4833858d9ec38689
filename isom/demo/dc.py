"""The demo distribution centre: Nordlager DC (site DC1), beside the demo plant.

Master data comes from `dc.json` through the import services an ERP feed uses, plus the
customers' shipping terms, the DC's GS1 settings (SSCC extension digit 1, so its SSCCs never
meet the plant's), its scanners and printer, and two people who log in: the DC clerk and the
kitting operator. The story (`DcStory`) then makes what a morning at the DC leaves behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import services as auth_service
from isom.auth.models import Role, User
from isom.dc import terms
from isom.devices import services as devices
from isom.devices.models import Device, DeviceKind, PrinterKind
from isom.devices.schemas import DeviceIn, Gs1SiteIn, PrinterIn
from isom.masterdata import imports as md_import

DATA = Path(__file__).with_name("dc.json")
SITE = "DC1"

#: The DC's log-ins: user name, password, roles, full name.
DC_USERS: list[tuple[str, str, list[str], str]] = [
    ("dcclerk", "dcclerk-demo", [Role.clerk], "Lina Sorensen"),
    ("kitter", "kitter-demo", [Role.operator], "Tom Ilves"),
]

#: code, kind, location
DC_DEVICES: list[tuple[str, DeviceKind, str]] = [
    ("SCN-DC-DOCK", DeviceKind.scanner, "DC-DOCK-IN"),
    ("SCN-DC-PICK", DeviceKind.scanner, "DC-STORE"),
]


def load_masterdata(session: Session, data: dict[str, Any] | None = None) -> None:
    """The DC's site, locations, items, routes, people, partners, terms and GS1 settings."""
    data = data if data is not None else json.loads(DATA.read_text())
    for kind in md_import.KINDS:
        rows = data.get(kind)
        if rows:
            md_import.import_rows(session, kind, rows)
    for row in data.get("customer_terms", []):
        terms.set_terms(session, terms.TermsIn.model_validate(row))
    devices.set_gs1_site(
        session,
        Gs1SiteIn(site=SITE, company_prefix="4012345", extension_digit=1, gln="4012345000016"),
    )


def load_devices_and_users(session: Session) -> None:
    """The DC's scanners and label printer, and the clerk's and operator's log-ins."""
    for code, kind, location in DC_DEVICES:
        if session.scalar(select(Device.id).where(Device.code == code)) is None:
            devices.register_device(
                session, DeviceIn(code=code, kind=kind, site=SITE, location=location)
            )
    devices.set_printer(session, PrinterIn(code="PDF-DC", kind=PrinterKind.pdf, site=SITE))
    for username, password, roles, full_name in DC_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            auth_service.create_user(
                session,
                username=username,
                password=password,
                roles=[str(r) for r in roles],
                full_name=full_name,
            )
