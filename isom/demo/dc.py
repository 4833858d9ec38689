"""The demo distribution centre: Nordlager DC (site DC1), beside the demo plant.

Master data comes from `dc.json` through the import services an ERP feed uses, plus the
customers' shipping terms, the DC's GS1 settings (SSCC extension digit 1, so its SSCCs never
meet the plant's), its scanners and printer, and two people who log in: the DC clerk and the
kitting operator. The story (`DcStory`) then makes what a morning at the DC leaves behind.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import grants, sites
from isom.auth import services as auth_service
from isom.auth.models import Role, User
from isom.db import Database
from isom.dc import inbound, kits, terms, waves
from isom.dc.schemas import AdviceIn, AdvisedCaseIn, AdvisedPalletIn, CountedCase, ReceiveSscc
from isom.devices import gs1
from isom.devices import services as devices
from isom.devices.models import Device, DeviceKind, PrinterKind
from isom.devices.schemas import DeviceIn, Gs1SiteIn, PrinterIn
from isom.ledger import services as ledger
from isom.ledger.schemas import UnnestCommand
from isom.masterdata import imports as md_import
from isom.orders import services as orders
from isom.orders.schemas import CreateCustomerOrder, CreateShipOrder, CustomerLineIn
from isom.production import services as production
from isom.production.schemas import CreateWorkOrder

DATA = Path(__file__).with_name("dc.json")
SITE = "DC1"
PLANT = "KW1"
#: Who spans both sites: the administrator and the ERP integrator.
SPANNING = frozenset({"admin", "integrator"})
ACTOR = ledger.Actor(name="demo-loader")

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
            grants.grant_user_site(session, username, SITE)
    for user in auth_service.list_users(session):  # the plant's people work at the plant
        if user.username not in SPANNING and not grants.sites_of_user(session, user.id):
            grants.grant_user_site(session, user.username, PLANT)


def supplier_sscc(serial: int) -> str:
    """An SSCC of a supplier's pallet or case (their prefix 7612345, extension 0)."""
    body = "07612345" + str(serial).zfill(9)
    return body + str(gs1.check_digit(body))


#: The announced pallets: advice, supplier, pallet serial, [(case serial, item, lot, qty, cost)].
ADVICES: list[tuple[str, str, list[tuple[int, list[tuple[int, str, str | None, str, str]]]]]] = [
    (
        "SC-DESADV-881",
        "SENSORCO",
        [
            (
                1001,
                [
                    (2001, "SENSOR-PROX-M12", "SP-2611", "40", "14.20"),
                    (2002, "CABLE-M12-5M", None, "60", "4.10"),
                ],
            ),
            (
                1002,
                [
                    (2003, "SENSOR-PROX-M12", "SP-2612", "30", "14.20"),
                    (2004, "CABLE-M12-5M", None, "30", "4.10"),
                ],
            ),
        ],
    ),
    (
        "FX-ASN-12",
        "FIXPRO",
        [
            (
                1003,
                [
                    (2005, "CABLE-TIE-200", "FX-7701", "1000", "0.018"),
                    (2006, "CABLE-TIE-200", "FX-7701", "1000", "0.018"),
                    (2007, "BRACKET-M12", None, "200", "0.85"),
                ],
            )
        ],
    ),
    (
        "PK-DESADV-5",
        "PACKDC",
        [
            (
                1004,
                [(2008, "BOX-KIT", None, "50", "0.70"), (2009, "BAG-POLY-S", None, "500", "0.04")],
            )
        ],
    ),
]

#: Where each received case is put away.
PUT_AWAY = {
    2001: "DC-A01",
    2002: "DC-A02",
    2005: "DC-B02",
    2006: "DC-B02",
    2007: "DC-B01",
    2008: "DC-C01",
    2009: "DC-C01",
}


class DcStory:
    """A morning at the DC, oldest first, each event with the key `demo-dc-<n>`."""

    def __init__(self, db: Database, now: dt.datetime) -> None:
        self.db, self.n, self.now = db, 0, now
        self.site = db.read(lambda s: grants.site_id(s, SITE))

    def ago(self, hours: float) -> dt.datetime:
        return self.now - dt.timedelta(hours=hours)

    def do(self, operation: Any, command: Any) -> Any:
        self.n += 1
        key = f"demo-dc-{self.n}"
        with sites.acting_in({self.site}):  # what the DC's people do, at the DC
            return self.db.write(lambda s: operation(s, ACTOR, key, command))

    def tell(self) -> None:
        self.inbound()
        self.orders()
        self.kits()
        self.wave()

    def inbound(self) -> None:
        """Four pallets announced; three received (one with a short case) and put away."""
        for number, supplier, pallets in ADVICES:
            self.do(
                inbound.register_advice,
                AdviceIn(
                    number=number,
                    supplier=supplier,
                    occurred_at=self.ago(30),
                    pallets=[
                        AdvisedPalletIn(
                            sscc=supplier_sscc(p),
                            cases=[
                                AdvisedCaseIn(
                                    case=supplier_sscc(c),
                                    item=item,
                                    lot=lot,
                                    quantity=Decimal(q),
                                    unit_cost=Decimal(cost),
                                )
                                for c, item, lot, q, cost in cases
                            ],
                        )
                        for p, cases in pallets
                    ],
                ),
            )
        for pallet, hours, counted in ((1001, 26, []), (1003, 25, [(2006, "950")]), (1004, 24, [])):
            self.do(
                inbound.receive_by_sscc,
                ReceiveSscc(
                    scan=f"(00){supplier_sscc(pallet)}",
                    location="DC-DOCK-IN",
                    counted=[
                        CountedCase(case=supplier_sscc(c), quantity=Decimal(q)) for c, q in counted
                    ],
                    occurred_at=self.ago(hours),
                ),
            )
        for case, bin_ in PUT_AWAY.items():
            self.do(
                ledger.unnest,
                UnnestCommand(
                    container=supplier_sscc(case), to_location=bin_, occurred_at=self.ago(22)
                ),
            )

    def orders(self) -> None:
        """Customer orders: a kit, a repack, and stock lines for two carriers."""
        due = self.now.date() + dt.timedelta(days=1)
        for number, customer, lines in (
            ("SO-DC-101", "ELEKTRO-MAX", [("KIT-SENSOR-INSTALL", "3")]),
            ("SO-DC-102", "BAU-TEC", [("TIE-BAG-50", "10")]),
            ("SO-DC-103", "ELEKTRO-MAX", [("SENSOR-PROX-M12", "6"), ("BRACKET-M12", "6")]),
            ("SO-DC-104", "BAU-TEC", [("CABLE-M12-5M", "10"), ("BAG-POLY-S", "20")]),
            ("SO-DC-105", "SOLAR-NORD", [("SENSOR-PROX-M12", "4")]),
        ):
            self.do(
                orders.create_customer_order,
                CreateCustomerOrder(
                    number=number,
                    customer=customer,
                    lines=[
                        CustomerLineIn(item=i, quantity=Decimal(q), due_date=due) for i, q in lines
                    ],
                ),
            )

    def kits(self) -> None:
        """The kit job and the repack job; the kit's sensors and cables are in its tote."""
        due = self.now.date() + dt.timedelta(days=1)
        jobs = [
            self.do(
                production.create_work_order,
                CreateWorkOrder(
                    item=item,
                    quantity=Decimal(q),
                    due_date=due,
                    customer_line=line,
                    release=True,
                    occurred_at=self.ago(3),
                ),
            ).work_order
            for item, q, line in (
                ("KIT-SENSOR-INSTALL", 3, "SO-DC-101/1"),
                ("TIE-BAG-50", 10, "SO-DC-102/1"),
            )
        ]
        for case in (2001, 2002):
            self.do(
                kits.pick_for_kit,
                kits.KitPick(
                    work_order=str(jobs[0]), container=supplier_sscc(case), occurred_at=self.ago(2)
                ),
            )

    def wave(self) -> None:
        """Three orders released; a DHL and a DSV wave; the DHL wave's first pick is done."""
        for number in ("SO-DC-103", "SO-DC-104", "SO-DC-105"):
            self.do(
                orders.create_ship_order, CreateShipOrder(order=number, occurred_at=self.ago(1.5))
            )
        made = self.do(waves.make_waves, waves.MakeWaves(occurred_at=self.ago(1)))
        dhl = made.detail["waves"][0]["wave"]
        self.do(
            waves.wave_pick,
            waves.WavePick(wave=dhl, container=supplier_sscc(2001), occurred_at=self.ago(0.5)),
        )


def load(db: Database, now: dt.datetime) -> None:
    """Load the DC beside the plant: master data, devices and users, then its story."""
    db.write(load_masterdata)
    db.write(load_devices_and_users)
    DcStory(db, now).tell()
