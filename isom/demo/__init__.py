"""The demo plant: Kabelwerk Nord, a make-to-order cable-assembly maker with a warehouse.

Master data is loaded from `plant.json` through the same import services an ERP feed uses;
stock and history are made through the ledger's and production's services, one event per unit
of work with the idempotency keys `demo-1`, `demo-2`, ..., so the demo obeys every rule.

The story (days before the load, times in UTC; job numbers as on an empty database):
- day -9 to -4: reels, connectors, packaging and adhesive arrive and are put away (a 50 m and a
  30 m reel of the same wire stay two containers; the grey cable is measured by length, on a
  100 m reel R-1004 and the 12.5 m rest of an older reel R-1005, cut to 2.05 m pieces for the M8
  cords, so planning counts 54 cords' worth, not 55); the newest adhesive lot is held in
  quarantine;
  terminals are split off to the crimp press and heat-shrink put at the assembly bench as floor
  stock.
- WO-000001, 40 JST harnesses for Acme Robotics (SO-9001), due yesterday: released with child
  jobs WO-000002/3 for the red and black leads, which Anna cuts on CUT-1 (day -3); crimped by
  Anna with Omar joining, assembled by Omar (with a break), tested by Jonas (one harness
  scrapped), packed by Mira into cartons K-4001 (20) and K-4002 (19) on day -2; the cartons go
  on pallet P-5001, which ships on day -1; the three jobs are then closed.
- WO-000004, 25 M8 cords for SensorPro, released on day -3 and due yesterday: late, waiting at
  the cutter.
- WO-000005, 60 harnesses for Nordic Agri, due tomorrow: leads (WO-000006/7) cut on day -1,
  crimped a few hours before the load; assembly runs now with Omar and Lena on it and 30
  crimped harnesses still WIP in tote T-3008.
- WO-000008, 50 harnesses for Acme Robotics, due in four days: released with its lead jobs
  WO-000009/10, all waiting.
- Customer orders SO-9001 to SO-9005 stand behind the jobs: SO-9001 shipped through a ship
  order (its pick list took the two cartons whole; the customer accepted 39 of 40), SO-9002 is
  a rush, SO-9005 (spare M8 connectors) has its stock reserved in B-2001.
- Purchase orders: PO-000001 to ConnTec for 100 M8 connectors, sent on day -3, half received
  on day -1 into B-2007; PO-000002 to WireCo for red wire is proposed, waiting for the buyer.
Machine states (setup, run, cleanup, idle) are recorded for CUT-1, CRIMP-1 and TEST-1, and
plant.json sets an overhead rate per workstation, so job cost shows machine time and overhead.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom.auth import grants
from isom.auth import services as auth_service
from isom.auth.models import Role, User
from isom.costing import services as costing
from isom.db import Database
from isom.demo import dc as demo_dc
from isom.devices import seed as devices_seed
from isom.ledger import services as ledger
from isom.ledger.schemas import (
    CreateContainerCommand,
    HoldCommand,
    LotIn,
    MoveCommand,
    QuantityLine,
    ReceiveCommand,
    ReceiveLine,
    SplitCommand,
)
from isom.masterdata import imports as md_import
from isom.orders import services as orders
from isom.orders.enums import Priority
from isom.orders.schemas import (
    ChangeCustomerLine,
    CreateCustomerOrder,
    CreatePurchaseOrder,
    CreateShipOrder,
    CustomerLineIn,
    PackCommand,
    PickScan,
    PurchaseLineIn,
    PurchaseOrderAction,
    ReceivePurchaseLine,
    ReserveCommand,
    ShipShipOrder,
)
from isom.production import services as production
from isom.production.enums import MachineState
from isom.production.schemas import (
    ChangeWorkOrder,
    ConsumeScan,
    CreateWorkOrder,
    MachineStateCommand,
    StepScan,
    StopScan,
)

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

#: Every demo log-in: the plant's and the distribution centre's.
ALL_USERS = [*DEMO_USERS, *demo_dc.DC_USERS]

ACTOR = ledger.Actor(name="demo-loader")

#: Badges of the demo people (plant.json).
ANNA, OMAR, LENA, JONAS, MIRA = "B1001", "B1002", "B1003", "B1004", "B1005"


def load_if_empty(db: Database) -> bool:
    """Load the demo plant into a database that has no users yet; False if it already has some."""
    if db.read(lambda s: s.scalar(select(func.count()).select_from(User))):
        return False
    data = json.loads(DATA.read_text())
    db.write(lambda s: _load_masterdata(s, data))
    db.write(devices_seed.seed_demo)  # GS1 prefix and GLN of KW1, its scanners and printers
    db.write(_load_users)
    story = _Story(db)
    story.tell()
    demo_dc.load(db, story.now)  # the distribution centre beside the plant (isom/demo/dc.py)
    return True


def _apply(db: Database, operation: Any, key: str, command: Any) -> Any:
    return db.write(lambda s: operation(s, ACTOR, key, command))


def _load_masterdata(session: Session, data: dict[str, list[dict[str, Any]]]) -> None:
    for kind in md_import.KINDS:
        rows = data.get(kind)
        if rows:
            md_import.import_rows(session, kind, rows)
    for row in data.get("overhead_rates", []):
        costing.set_overhead_rate(session, row["workstation"], Decimal(row["hourly_rate"]))


def _load_users(session: Session) -> None:
    for username, password, roles, full_name in DEMO_USERS:
        auth_service.create_user(
            session,
            username=username,
            password=password,
            roles=[str(r) for r in roles],
            full_name=full_name,
        )


class _Story:
    """The demo's events, oldest first: what a week and a half in the plant leaves behind.

    Each call applies one event in its own unit of work with the next key `demo-<n>`.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.n = 0
        self.now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)

    # -- time ---------------------------------------------------------------------------------

    def day(self, days_ago: int, hh: int, mm: int = 0) -> dt.datetime:
        """A clock time (UTC) on a day before today."""
        d = self.now.date() - dt.timedelta(days=days_ago)
        return dt.datetime(d.year, d.month, d.day, hh, mm, tzinfo=dt.UTC)

    def ago(self, minutes: int) -> dt.datetime:
        """Minutes before the load: what is happening on the floor right now."""
        return self.now - dt.timedelta(minutes=minutes)

    def date(self, days_from_today: int) -> dt.date:
        return self.now.date() + dt.timedelta(days=days_from_today)

    # -- one event each -----------------------------------------------------------------------

    def do(self, operation: Any, command: Any) -> Any:
        self.n += 1
        return _apply(self.db, operation, f"demo-{self.n}", command)

    def receive(
        self,
        container: str,
        supplier: str,
        ref: str,
        at: dt.datetime,
        *lines: tuple[str, str | None, str, str, dt.date | None],
    ) -> None:
        self.do(
            ledger.receive,
            ReceiveCommand(
                container=container,
                container_kind="reel" if container.startswith("R") else "box",
                location="DOCK-IN",
                supplier=supplier,
                reference=ref,
                occurred_at=at,
                lines=[
                    ReceiveLine(
                        item=item,
                        lot=LotIn(code=lot, supplier_lot=f"S-{lot}", expiry_date=exp)
                        if lot
                        else None,
                        quantity=Decimal(qty),
                        unit_cost=Decimal(cost),
                    )
                    for item, lot, qty, cost, exp in lines
                ],
            ),
        )

    def move(self, container: str, to: str, at: dt.datetime) -> None:
        self.do(ledger.move, MoveCommand(container=container, to_location=to, occurred_at=at))

    def container(self, code: str, kind: str, location: str, at: dt.datetime) -> None:
        self.do(
            ledger.create_container,
            CreateContainerCommand(
                container=code, container_kind=kind, location=location, occurred_at=at
            ),
        )

    def job(
        self, item: str, qty: int, due: dt.date, line: str, at: dt.datetime
    ) -> tuple[str, list[str]]:
        """Create and release a job; its number and its child jobs' numbers."""
        result = self.do(
            production.create_work_order,
            CreateWorkOrder(
                item=item,
                quantity=Decimal(qty),
                due_date=due,
                customer_line=line,
                release=True,
                occurred_at=at,
            ),
        )
        return str(result.work_order), [str(c) for c in result.detail.get("children", [])]

    def machine(self, ws: str, state: MachineState, at: dt.datetime) -> None:
        self.do(
            production.machine_state,
            MachineStateCommand(workstation=ws, state=state, occurred_at=at),
        )

    def start(self, badge: str, wo: str, step: int, ws: str, at: dt.datetime) -> None:
        self.do(
            production.start_step,
            StepScan(badge=badge, work_order=wo, step=step, workstation=ws, occurred_at=at),
        )

    def scan(self, operation: Any, badge: str, wo: str, step: int, at: dt.datetime) -> None:
        self.do(operation, StepScan(badge=badge, work_order=wo, step=step, occurred_at=at))

    def consume(
        self, wo: str, step: int, container: str, item: str, qty: str, at: dt.datetime
    ) -> None:
        self.do(
            production.consume_scan,
            ConsumeScan(
                work_order=wo,
                step=step,
                container=container,
                item=item,
                quantity=Decimal(qty),
                occurred_at=at,
            ),
        )

    def stop(
        self, badge: str, wo: str, step: int, good: int, into: str, at: dt.datetime, **kw: Any
    ) -> None:
        self.do(
            production.stop_step,
            StopScan(
                badge=badge,
                work_order=wo,
                step=step,
                good_quantity=Decimal(good),
                container=into,
                occurred_at=at,
                **kw,
            ),
        )

    def close(self, wo: str, at: dt.datetime) -> None:
        self.do(
            production.close_work_order,
            ChangeWorkOrder(work_order=wo, reason="shipped and costed", occurred_at=at),
        )

    def customer_order(
        self,
        number: str,
        customer: str,
        item: str,
        qty: int,
        due: dt.date,
        priority: Priority = Priority.normal,
    ) -> None:
        self.do(
            orders.create_customer_order,
            CreateCustomerOrder(
                number=number,
                customer=customer,
                priority=priority,
                lines=[CustomerLineIn(item=item, quantity=Decimal(qty), due_date=due)],
            ),
        )

    # -- the story ----------------------------------------------------------------------------

    def tell(self) -> None:
        self.stock()
        self.customer_orders()
        # Job 1 (with its two lead jobs): 40 harnesses for Acme Robotics, due yesterday.
        first, (red1, black1) = self.job(
            "HARN-JST-300", 40, self.date(-1), "SO-9001/1", self.day(4, 8)
        )
        self.cut_leads(red1, black1, 40, ("T-3001", "T-3002"), 3)
        # Job 4: 25 M8 cords for SensorPro, due yesterday and not started: late.
        self.job("CORD-M8-2M", 25, self.date(-1), "SO-9003/1", self.day(3, 9))
        self.make_and_pack(first)
        # Job 5 (with two lead jobs): 60 harnesses for Nordic Agri, due tomorrow.
        second, (red2, black2) = self.job(
            "HARN-JST-300", 60, self.date(1), "SO-9002/1", self.day(2, 12)
        )
        self.cut_leads(red2, black2, 60, ("T-3006", "T-3007"), 1)
        self.ship_and_close(first, red1, black1)
        # Job 8 (with two lead jobs): 50 harnesses for Acme Robotics, due in four days.
        self.job("HARN-JST-300", 50, self.date(4), "SO-9004/1", self.day(1, 15))
        self.crimp_and_assemble_now(second)
        self.purchasing()

    def customer_orders(self) -> None:
        """The orders behind the jobs, and spare connectors for SensorPro from stock."""
        self.customer_order("SO-9001", "ACME-ROBOTICS", "HARN-JST-300", 40, self.date(-1))
        self.customer_order(
            "SO-9002", "NORDIC-AGRI", "HARN-JST-300", 60, self.date(1), Priority.rush
        )
        self.customer_order("SO-9003", "SENSORPRO", "CORD-M8-2M", 25, self.date(-1))
        self.customer_order("SO-9004", "ACME-ROBOTICS", "HARN-JST-300", 50, self.date(4))
        self.customer_order("SO-9005", "SENSORPRO", "CONN-M8-4F", 30, self.date(10), Priority.low)
        self.do(orders.reserve, ReserveCommand(order="SO-9005", line_no=1, container="B-2001"))

    def purchasing(self) -> None:
        """A sent purchase order half received, and a proposal waiting for the buyer."""
        po = self.do(
            orders.create_purchase_order,
            CreatePurchaseOrder(
                supplier="CONNTEC",
                approve=True,
                lines=[
                    PurchaseLineIn(item="CONN-M8-4F", quantity=Decimal(100), due_date=self.date(2))
                ],
            ),
        ).number
        self.do(orders.send_purchase_order, PurchaseOrderAction(order=po))
        self.do(
            orders.receive_purchase_line,
            ReceivePurchaseLine(
                order=po,
                line_no=1,
                quantity=Decimal(50),
                location="DOCK-IN",
                container="B-2007",
                lot="M8-26-121",
                supplier_lot="CT-88121",
                occurred_at=self.day(1, 9),
            ),
        )
        self.do(
            orders.create_purchase_order,
            CreatePurchaseOrder(
                supplier="WIRECO",
                note="red wire for SO-9002 and SO-9004",
                lines=[PurchaseLineIn(item="WIRE-0.5-RD", quantity=Decimal(500))],
            ),
        )

    def stock(self) -> None:
        """Receipts, put-away, floor stock and a quarantine hold."""
        self.receipts()
        self.put_away()

    def receipts(self) -> None:
        """What the suppliers delivered over the last nine days (reels, boxes, adhesive lots)."""
        soon = self.date(20)
        later = self.date(150)
        # Reels of wire: a 50 m and a 30 m reel are two containers, never one 80 m reel.
        at = self.day(9, 7, 30)
        for reel, item, lot, metres, cost in (
            ("R-1001", "WIRE-0.5-RD", "WR-2611-01", "50", "0.118"),
            ("R-1002", "WIRE-0.5-RD", "WR-2611-02", "30", "0.118"),
            ("R-1003", "WIRE-0.5-BK", "WB-2611-01", "305", "0.114"),
        ):
            self.receive(reel, "WIRECO", "PO-4711", at, (item, lot, metres, cost, None))
        at = self.day(8, 8)
        for reel, po, lot, metres, cost in (
            ("R-1004", "PO-4712", "CG-2611-07", "100", "0.83"),
            # The rest of an older cable reel: 12.5 m gives six 2.05 m cords, not 6.1.
            ("R-1005", "PO-4690", "CG-2609-03", "12.5", "0.84"),
        ):
            self.receive(reel, "WIRECO", po, at, ("CABLE-4C-GY", lot, metres, cost, None))
        at = self.day(7, 9)
        self.receive(
            "B-2001", "CONNTEC", "PO-4720", at, ("CONN-M8-4F", "M8-26-113", "200", "2.35", None)
        )
        self.receive(
            "B-2002",
            "CONNTEC",
            "PO-4720",
            at,
            ("CONN-JST-2", None, "2000", "0.075", None),
            ("TERM-JST", None, "5000", "0.018", None),
        )
        self.receive(
            "B-2003",
            "PACKRITE",
            "PO-4731",
            self.day(6, 10),
            ("BOX-S", None, "100", "0.55", None),
            ("BAG-ESD-S", None, "500", "0.05", None),
        )
        at = self.day(5, 8)
        self.receive(
            "B-2004", "CONNTEC", "PO-4733", at, ("ADHESIVE-UV", "UV-0926", "2.5", "47.20", soon)
        )
        self.receive(
            "B-2005", "CONNTEC", "PO-4733", at, ("ADHESIVE-UV", "UV-1126", "5", "48.10", later)
        )
        self.receive("B-2006", "WIRECO", "PO-4740", at, ("HSHRINK-6", None, "50", "0.29", None))

    def put_away(self) -> None:
        """Receipts go to their bins, one adhesive lot to quarantine, some stock to the floor."""
        for code, bin_ in (
            ("R-1001", "A-01"),
            ("R-1002", "A-01"),
            ("R-1003", "A-02"),
            ("R-1004", "A-03"),
            ("R-1005", "A-03"),
        ):
            self.move(code, bin_, self.day(8, 14))
        for code, bin_ in (("B-2001", "B-01"), ("B-2002", "B-02"), ("B-2003", "B-03")):
            self.move(code, bin_, self.day(6, 14))
        self.move("B-2004", "B-03", self.day(4, 7))
        # The newest adhesive lot waits in quarantine for its incoming inspection.
        self.move("B-2005", "QUAR", self.day(4, 7))
        self.do(
            ledger.hold,
            HoldCommand(
                container="B-2005",
                reason="incoming inspection: viscosity check",
                occurred_at=self.day(4, 7, 5),
            ),
        )
        # Floor stock: terminals at the crimp press, heat-shrink at the assembly bench.
        self.do(
            ledger.split,
            SplitCommand(
                container="B-2002",
                new_container="F-2101",
                lines=[QuantityLine(item="TERM-JST", quantity=Decimal(1000))],
                occurred_at=self.day(4, 7, 10),
            ),
        )
        self.move("F-2101", "WS-CRIMP-1", self.day(4, 7, 15))
        self.move("B-2006", "WS-ASSY-1", self.day(4, 7, 20))

    def cut_leads(
        self, red: str, black: str, qty: int, totes: tuple[str, str], days_ago: int
    ) -> None:
        """Anna cuts a job's red and black leads on CUT-1, one job after the other."""
        metres = str(Decimal("0.305") * qty)
        self.container(totes[0], "tote", "WIP-RACK", self.day(days_ago, 6, 50))
        self.container(totes[1], "tote", "WIP-RACK", self.day(days_ago, 6, 50))
        self.machine("CUT-1", MachineState.setup, self.day(days_ago, 7))
        self.start(ANNA, red, 10, "CUT-1", self.day(days_ago, 7))
        self.consume(red, 10, "R-1001", "WIRE-0.5-RD", metres, self.day(days_ago, 7, 2))
        self.machine("CUT-1", MachineState.run, self.day(days_ago, 7, 8))
        self.stop(ANNA, red, 10, qty, totes[0], self.day(days_ago, 7, 18))
        self.start(ANNA, black, 10, "CUT-1", self.day(days_ago, 7, 20))
        self.consume(black, 10, "R-1003", "WIRE-0.5-BK", metres, self.day(days_ago, 7, 21))
        self.stop(ANNA, black, 10, qty, totes[1], self.day(days_ago, 7, 38))
        self.machine("CUT-1", MachineState.cleanup, self.day(days_ago, 7, 38))
        self.machine("CUT-1", MachineState.idle, self.day(days_ago, 7, 45))

    def make_and_pack(self, wo: str) -> None:
        """Day -2: crimp (Anna, Omar joins), assemble (Omar, a break), test (Jonas), pack (Mira)."""
        d = 2
        for tote in ("T-3003", "T-3004", "T-3005"):
            self.container(tote, "tote", "WIP-RACK", self.day(d, 6, 50))
        self.machine("CRIMP-1", MachineState.setup, self.day(d, 7))
        self.start(ANNA, wo, 10, "CRIMP-1", self.day(d, 7))
        self.consume(wo, 10, "T-3001", "LEAD-RD-300", "40", self.day(d, 7, 2))
        self.consume(wo, 10, "T-3002", "LEAD-BK-300", "40", self.day(d, 7, 3))
        self.machine("CRIMP-1", MachineState.run, self.day(d, 7, 10))
        self.start(OMAR, wo, 10, "CRIMP-1", self.day(d, 7, 20))
        self.stop(ANNA, wo, 10, 40, "T-3003", self.day(d, 7, 32))
        self.machine("CRIMP-1", MachineState.idle, self.day(d, 7, 32))
        self.start(OMAR, wo, 20, "ASSY-1", self.day(d, 8))
        self.consume(wo, 20, "T-3003", "HARN-JST-300", "40", self.day(d, 8, 1))
        self.consume(wo, 20, "B-2002", "CONN-JST-2", "80", self.day(d, 8, 2))
        self.scan(production.pause_step, OMAR, wo, 20, self.day(d, 8, 20))
        self.scan(production.resume_step, OMAR, wo, 20, self.day(d, 8, 30))
        self.stop(OMAR, wo, 20, 40, "T-3004", self.day(d, 8, 42))
        self.machine("TEST-1", MachineState.run, self.day(d, 10))
        self.start(JONAS, wo, 30, "TEST-1", self.day(d, 10))
        self.consume(wo, 30, "T-3004", "HARN-JST-300", "40", self.day(d, 10, 1))
        self.stop(
            JONAS,
            wo,
            30,
            39,
            "T-3005",
            self.day(d, 10, 14),
            scrap_quantity=Decimal(1),
            scrap_reason="open circuit on pin 2",
        )
        self.machine("TEST-1", MachineState.idle, self.day(d, 10, 14))
        # Packing: two cartons of 20 and 19, a partial stop after the first.
        self.container("K-4001", "carton", "FG-01", self.day(d, 10, 25))
        self.container("K-4002", "carton", "FG-01", self.day(d, 10, 25))
        self.start(MIRA, wo, 40, "PACK-1", self.day(d, 10, 30))
        self.consume(wo, 40, "T-3005", "HARN-JST-300", "39", self.day(d, 10, 31))
        self.consume(wo, 40, "B-2003", "BAG-ESD-S", "4", self.day(d, 10, 32))
        self.consume(wo, 40, "B-2003", "BOX-S", "2", self.day(d, 10, 33))
        self.stop(MIRA, wo, 40, 20, "K-4001", self.day(d, 10, 36), complete=False)
        self.scan(production.resume_step, MIRA, wo, 40, self.day(d, 10, 37))
        self.stop(MIRA, wo, 40, 19, "K-4002", self.day(d, 10, 41))

    def ship_and_close(self, wo: str, *children: str) -> None:
        """Day -1: the cartons go on a pallet, which ships; the job and its lead jobs are closed."""
        d = 1
        self.container("P-5001", "pallet", "FG-01", self.day(d, 13))
        # The ship order's pick list takes both cartons whole; they are packed onto the pallet.
        ship = self.do(orders.create_ship_order, CreateShipOrder(order="SO-9001")).number
        for minute, carton in ((2, "K-4001"), (3, "K-4002")):
            at = self.day(d, 13, minute)
            self.do(orders.pick, PickScan(ship_order=ship, container=carton, occurred_at=at))
        for minute, carton in ((5, "K-4001"), (6, "K-4002")):
            at = self.day(d, 13, minute)
            self.do(
                orders.pack,
                PackCommand(ship_order=ship, container=carton, package="P-5001", occurred_at=at),
            )
        self.move("P-5001", "DOCK-OUT", self.day(d, 13, 30))
        self.do(
            orders.ship,
            ShipShipOrder(ship_order=ship, reference="SO-9001", occurred_at=self.day(d, 14)),
        )
        # One harness was scrapped at the test; the customer takes 39.
        self.do(
            orders.change_customer_line,
            ChangeCustomerLine(order="SO-9001", line_no=1, quantity=Decimal(39)),
        )
        for number in (*children, wo):
            self.close(number, self.day(d, 16))

    def crimp_and_assemble_now(self, wo: str) -> None:
        """Crimped hours ago; assembly runs now with two people, half the harnesses in a tote."""
        self.container("T-3008", "tote", "WIP-RACK", self.ago(190))
        self.machine("CRIMP-1", MachineState.setup, self.ago(180))
        self.start(ANNA, wo, 10, "CRIMP-1", self.ago(180))
        self.consume(wo, 10, "T-3006", "LEAD-RD-300", "60", self.ago(178))
        self.consume(wo, 10, "T-3007", "LEAD-BK-300", "60", self.ago(177))
        self.machine("CRIMP-1", MachineState.run, self.ago(170))
        self.stop(ANNA, wo, 10, 60, "T-3008", self.ago(142))
        self.machine("CRIMP-1", MachineState.idle, self.ago(142))
        # Assembly runs now: half the crimped harnesses taken in, half still WIP in T-3008.
        self.start(OMAR, wo, 20, "ASSY-1", self.ago(30))
        self.consume(wo, 20, "T-3008", "HARN-JST-300", "30", self.ago(29))
        self.consume(wo, 20, "B-2002", "CONN-JST-2", "60", self.ago(28))
        self.start(LENA, wo, 20, "ASSY-1", self.ago(15))


def login_lines(db: Database) -> list[str]:
    """The demo log-ins that still work, one line each, for the console; none when every demo
    user is gone or has a password of its own (so nothing printed is a log-in that is not)."""

    def working(s: Session) -> list[tuple[str, str, list[str], str]]:
        return [
            (username, password, roles, grants.sites_shown(s, username))
            for username, password, roles, _ in ALL_USERS
            if auth_service.has_password(s, username, password)
        ]

    users = db.read(working)
    if not users:
        return []
    lines = ["Demo log-ins (user / password):"]
    for username, password, roles, where in users:
        role = ", ".join(map(str, roles))
        lines.append(f"  {username:<11} / {password:<17} role: {role:<11} site: {where}")
    return lines
