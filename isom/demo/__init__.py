"""The demo plant: Kabelwerk Nord, a make-to-order cable-assembly maker with a warehouse.

Master data is loaded from `plant.json` through the same import services an ERP feed uses;
stock and history are made through the ledger's services (receipts, put-away, a pallet, a
quarantine hold, a cut step with its genealogy and a shipment), so the demo obeys every rule.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.auth import services as auth_service
from isom.auth.models import Role, User
from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import (
    ConsumeCommand,
    CreateContainerCommand,
    HoldCommand,
    LotIn,
    MoveCommand,
    NestCommand,
    ProduceCommand,
    ReceiveCommand,
    ReceiveLine,
    ShipCommand,
)
from isom.masterdata import imports as md_import

DATA = Path(__file__).with_name("plant.json")

#: One demo user per role: user name, password, roles, full name.
DEMO_USERS: list[tuple[str, str, list[str], str]] = [
    ("admin", "admin-demo", [Role.admin], "Ada Admin"),
    ("supervisor", "supervisor-demo", [Role.supervisor], "Sam Supervisor"),
    ("planner", "planner-demo", [Role.planner], "Pia Planner"),
    ("buyer", "buyer-demo", [Role.buyer], "Ben Buyer"),
    ("clerk", "clerk-demo", [Role.clerk], "Mira Novak"),
    ("operator", "operator-demo", [Role.operator], "Anna Berg"),
    ("accountant", "accountant-demo", [Role.accountant], "Carl Cost"),
    ("integrator", "integrator-demo", [Role.integrator], "Ivy Integrator"),
]

ACTOR = ledger.Actor(name="demo-loader")


def is_loaded(db: Database) -> bool:
    """True when the demo's admin user exists."""
    return bool(db.read(lambda s: s.scalar(select(User.id).where(User.username == "admin"))))


def load_if_empty(db: Database) -> bool:
    """Load the demo plant into a database that has no users yet; False if it already has some."""
    if db.read(lambda s: s.scalar(select(func.count()).select_from(User))):
        return False
    data = json.loads(DATA.read_text())
    db.write(lambda s: _load_masterdata(s, data))
    db.write(_load_users)
    for n, (name, command) in enumerate(_history(), start=1):
        _apply(db, getattr(ledger, name), f"demo-{n}", command)
    return True


def _apply(db: Database, operation: Any, key: str, command: Any) -> None:
    db.write(lambda s: operation(s, ACTOR, key, command))


def _load_masterdata(session: Session, data: dict[str, list[dict[str, Any]]]) -> None:
    for kind in md_import.KINDS:
        rows = data.get(kind)
        if rows:
            md_import.import_rows(session, kind, rows)


def _load_users(session: Session) -> None:
    for username, password, roles, full_name in DEMO_USERS:
        auth_service.create_user(
            session,
            username=username,
            password=password,
            roles=[str(r) for r in roles],
            full_name=full_name,
        )


def _days_ago(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=days)


def _receive(
    container: str,
    location: str,
    supplier: str,
    ref: str,
    days: int,
    *lines: tuple[str, str | None, str, str, dt.date | None],
) -> ReceiveCommand:
    return ReceiveCommand(
        container=container,
        container_kind="reel" if container.startswith("R") else "box",
        location=location,
        supplier=supplier,
        reference=ref,
        occurred_at=_days_ago(days),
        lines=[
            ReceiveLine(
                item=item,
                lot=LotIn(code=lot, supplier_lot=f"S-{lot}", expiry_date=exp) if lot else None,
                quantity=Decimal(qty),
                unit_cost=Decimal(cost),
            )
            for item, lot, qty, cost, exp in lines
        ],
    )


def _history() -> list[tuple[str, Any]]:
    """The demo's events, oldest first: what a week in the plant leaves behind."""
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).date()
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=150)).date()
    steps: list[tuple[str, Any]] = [
        # Reels of wire: a 50 m and a 30 m reel are two containers, never one 80 m reel.
        (
            "receive",
            _receive(
                "R-1001",
                "DOCK-IN",
                "WIRECO",
                "PO-4711",
                9,
                ("WIRE-0.5-RD", "WR-2611-01", "50", "0.118", None),
            ),
        ),
        (
            "receive",
            _receive(
                "R-1002",
                "DOCK-IN",
                "WIRECO",
                "PO-4711",
                9,
                ("WIRE-0.5-RD", "WR-2611-02", "30", "0.118", None),
            ),
        ),
        (
            "receive",
            _receive(
                "R-1003",
                "DOCK-IN",
                "WIRECO",
                "PO-4711",
                9,
                ("WIRE-0.5-BK", "WB-2611-01", "305", "0.114", None),
            ),
        ),
        (
            "receive",
            _receive(
                "R-1004",
                "DOCK-IN",
                "WIRECO",
                "PO-4712",
                8,
                ("CABLE-4C-GY", "CG-2611-07", "100", "0.83", None),
            ),
        ),
        (
            "receive",
            _receive(
                "B-2001",
                "DOCK-IN",
                "CONNTEC",
                "PO-4720",
                7,
                ("CONN-M8-4F", "M8-26-113", "200", "2.35", None),
            ),
        ),
        (
            "receive",
            _receive(
                "B-2002",
                "DOCK-IN",
                "CONNTEC",
                "PO-4720",
                7,
                ("CONN-JST-2", None, "2000", "0.075", None),
                ("TERM-JST", None, "5000", "0.018", None),
            ),
        ),
        (
            "receive",
            _receive(
                "B-2003",
                "DOCK-IN",
                "PACKRITE",
                "PO-4731",
                6,
                ("BOX-S", None, "100", "0.55", None),
                ("BAG-ESD-S", None, "500", "0.05", None),
            ),
        ),
        (
            "receive",
            _receive(
                "B-2004",
                "DOCK-IN",
                "CONNTEC",
                "PO-4733",
                5,
                ("ADHESIVE-UV", "UV-0926", "2.5", "47.20", soon),
            ),
        ),
        (
            "receive",
            _receive(
                "B-2005",
                "DOCK-IN",
                "CONNTEC",
                "PO-4733",
                5,
                ("ADHESIVE-UV", "UV-1126", "5", "48.10", later),
            ),
        ),
        (
            "receive",
            _receive(
                "B-2006", "DOCK-IN", "WIRECO", "PO-4740", 2, ("HSHRINK-6", None, "50", "0.29", None)
            ),
        ),
        ("move", MoveCommand(container="R-1001", to_location="A-01", occurred_at=_days_ago(8))),
        ("move", MoveCommand(container="R-1002", to_location="A-01", occurred_at=_days_ago(8))),
        ("move", MoveCommand(container="R-1003", to_location="A-02", occurred_at=_days_ago(8))),
        ("move", MoveCommand(container="R-1004", to_location="A-03", occurred_at=_days_ago(8))),
        ("move", MoveCommand(container="B-2001", to_location="B-01", occurred_at=_days_ago(6))),
        ("move", MoveCommand(container="B-2002", to_location="B-02", occurred_at=_days_ago(6))),
        ("move", MoveCommand(container="B-2003", to_location="B-03", occurred_at=_days_ago(6))),
        ("move", MoveCommand(container="B-2004", to_location="B-03", occurred_at=_days_ago(4))),
        # The newest adhesive lot waits in quarantine for its incoming inspection.
        ("move", MoveCommand(container="B-2005", to_location="QUAR", occurred_at=_days_ago(4))),
        (
            "hold",
            HoldCommand(
                container="B-2005",
                reason="incoming inspection: viscosity check",
                occurred_at=_days_ago(4),
            ),
        ),
        # Job WO-1001, step 10 (cut red leads): 30.5 m of wire become 100 leads, WIP for WO-1003.
        (
            "consume",
            ConsumeCommand(
                container="R-1001",
                item="WIRE-0.5-RD",
                quantity=Decimal("30.5"),
                step="WO-1001/10",
                occurred_at=_days_ago(3),
            ),
        ),
        (
            "produce",
            ProduceCommand(
                step="WO-1001/10",
                item="LEAD-RD-300",
                lot=LotIn(code="WO-1001"),
                quantity=Decimal(100),
                unit_cost=Decimal("0.0612"),
                new_container="T-3001",
                container_kind="tote",
                location="WIP-RACK",
                occurred_at=_days_ago(3),
            ),
        ),
        (
            "consume",
            ConsumeCommand(
                container="R-1003",
                item="WIRE-0.5-BK",
                quantity=Decimal("30.5"),
                step="WO-1002/10",
                occurred_at=_days_ago(3),
            ),
        ),
        (
            "produce",
            ProduceCommand(
                step="WO-1002/10",
                item="LEAD-BK-300",
                lot=LotIn(code="WO-1002"),
                quantity=Decimal(100),
                unit_cost=Decimal("0.0591"),
                new_container="T-3002",
                container_kind="tote",
                location="WIP-RACK",
                occurred_at=_days_ago(3),
            ),
        ),
        # Job WO-1003 made 40 harnesses from 40 red + 40 black leads; two cartons on a pallet.
        (
            "consume",
            ConsumeCommand(
                container="T-3001",
                item="LEAD-RD-300",
                quantity=Decimal(40),
                step="WO-1003/10",
                occurred_at=_days_ago(2),
            ),
        ),
        (
            "consume",
            ConsumeCommand(
                container="T-3002",
                item="LEAD-BK-300",
                quantity=Decimal(40),
                step="WO-1003/10",
                occurred_at=_days_ago(2),
            ),
        ),
        (
            "consume",
            ConsumeCommand(
                container="B-2002",
                item="TERM-JST",
                quantity=Decimal(160),
                step="WO-1003/10",
                occurred_at=_days_ago(2),
            ),
        ),
        (
            "produce",
            ProduceCommand(
                step="WO-1003/10",
                item="HARN-JST-300",
                lot=LotIn(code="WO-1003"),
                quantity=Decimal(20),
                unit_cost=Decimal("0.57"),
                new_container="K-4001",
                container_kind="carton",
                location="FG-01",
                occurred_at=_days_ago(1),
            ),
        ),
        (
            "produce",
            ProduceCommand(
                step="WO-1003/10",
                item="HARN-JST-300",
                lot=LotIn(code="WO-1003"),
                quantity=Decimal(20),
                unit_cost=Decimal("0.57"),
                new_container="K-4002",
                container_kind="carton",
                location="FG-01",
                occurred_at=_days_ago(1),
            ),
        ),
        (
            "create_container",
            CreateContainerCommand(
                container="P-5001",
                container_kind="pallet",
                location="FG-01",
                occurred_at=_days_ago(1),
            ),
        ),
        ("nest", NestCommand(container="K-4001", parent="P-5001", occurred_at=_days_ago(1))),
        ("nest", NestCommand(container="K-4002", parent="P-5001", occurred_at=_days_ago(1))),
        ("move", MoveCommand(container="P-5001", to_location="DOCK-OUT", occurred_at=_days_ago(1))),
        (
            "ship",
            ShipCommand(
                container="P-5001",
                customer="ACME-ROBOTICS",
                reference="SO-9001",
                occurred_at=_days_ago(0),
            ),
        ),
    ]
    return steps


def login_lines() -> list[str]:
    """The demo users and their passwords, one line each, for the console."""
    lines = ["Demo log-ins (user / password):"]
    for username, password, roles, _ in DEMO_USERS:
        lines.append(f"  {username:<11} / {password:<17} role: {', '.join(map(str, roles))}")
    return lines
