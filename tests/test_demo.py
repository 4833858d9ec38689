"""The demo plant loads through the real services and tells a traceable story.

A newcomer finds a harness job that went from wire reels to a pallet shipped to Acme Robotics,
a second harness job being assembled right now, and released jobs waiting at the machines.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from isom import demo
from isom.auth import services as auth_service
from isom.costing import services as costing
from isom.db import Database
from isom.ledger import queries
from isom.ledger.verify import verify
from isom.production import queries as production
from isom.production.models import WorkOrder


def _job(db: Database, customer_line: str) -> production.WorkOrderView:
    """The demo's top-level job for a customer-order line (its lead jobs share the line)."""
    number = db.read(
        lambda s: s.scalar(
            select(WorkOrder.number).where(
                WorkOrder.customer_line == customer_line, WorkOrder.parent_id.is_(None)
            )
        )
    )
    assert number, customer_line
    return db.read(lambda s: production.work_order(s, str(number)))


def test_demo_plant_loads_once_and_verifies(db: Database) -> None:
    assert demo.load_if_empty(db) is True
    assert demo.load_if_empty(db) is False  # a second start leaves the data alone
    lines = demo.login_lines(db)
    assert lines[1].split() == [
        "admin",
        "/",
        "admin-demo",
        "role:",
        "admin",
        "site:",
        "all",
        "sites",
    ]
    dc_clerk = next(line for line in lines if line.split()[0] == "dcclerk")
    assert dc_clerk.split()[-2:] == ["site:", "DC1"]
    report = db.read(verify)
    assert report.ok, report.differences
    assert report.events > 20


def test_demo_wire_reel_is_traced_to_the_customer_through_the_jobs(db: Database) -> None:
    demo.load_if_empty(db)
    shipped = _job(db, "SO-9001/1")
    assert shipped.item == "HARN-JST-300"
    assert shipped.status == "closed"
    assert [s.status for s in shipped.steps] == ["done"] * 4
    red, black = shipped.children
    assert _job_item(db, red) == "LEAD-RD-300"
    assert _job_item(db, black) == "LEAD-BK-300"

    recall = db.read(lambda s: queries.recall(s, "WIRE-0.5-RD", "WR-2611-01"))
    assert recall.customers == ["ACME-ROBOTICS"]
    assert {red, shipped.number} <= set(recall.jobs)
    assert f"{red}/10" in recall.steps and f"{shipped.number}/40" in recall.steps
    assert {(s.container, s.quantity, s.reference) for s in recall.shipments} == {
        ("K-4001", Decimal(20), "SO-9001"),
        ("K-4002", Decimal(19), "SO-9001"),
    }

    backward = db.read(lambda s: queries.genealogy(s, "HARN-JST-300", shipped.number, "backward"))
    assert {(n.item, n.lot) for n in backward.nodes} >= {
        ("LEAD-RD-300", red),
        ("LEAD-BK-300", black),
        ("WIRE-0.5-RD", "WR-2611-01"),
        ("WIRE-0.5-BK", "WB-2611-01"),
    }


def _job_item(db: Database, number: str) -> str:
    return db.read(lambda s: production.work_order(s, number)).item


def test_demo_wip_board_shows_the_job_in_progress_and_the_queues(db: Database) -> None:
    demo.load_if_empty(db)
    running = _job(db, "SO-9002/1").number
    late = _job(db, "SO-9003/1").number
    waiting = _job(db, "SO-9004/1").number
    board = db.read(lambda s: production.wip(s))
    jobs = {j.work_order: j for j in board.jobs}
    assert _job(db, "SO-9001/1").number not in jobs  # shipped and closed

    job = jobs[running]
    assert (job.item, job.quantity, job.status, job.current_step) == (
        "HARN-JST-300",
        Decimal(60),
        "in_progress",
        20,
    )
    crimp, assemble = job.steps[0], job.steps[1]
    assert (crimp.status, crimp.workstation, crimp.good) == ("done", "CRIMP-1", Decimal(60))
    assert [(c.container, c.quantity) for c in crimp.after_step] == [("T-3008", Decimal(30))]
    assert (assemble.status, assemble.workstation) == ("running", "ASSY-1")
    assert assemble.people == ["Lena Koch", "Omar Haddad"]
    assert assemble.at_step == Decimal(30)
    assert assemble.elapsed_minutes > 0
    assert [s.status for s in job.steps[2:]] == ["waiting", "waiting"]

    assert jobs[late].item == "CORD-M8-2M" and jobs[late].late
    assert board.late == [late]
    assert f"{late}/10" in board.queues["CUT-1"]
    assert f"{waiting}/10" in board.queues["CRIMP-1"]
    for child in _job(db, "SO-9004/1").children:
        assert f"{child}/10" in board.queues["CUT-1"]


def test_demo_shipped_job_has_material_labour_and_machine_cost(db: Database) -> None:
    demo.load_if_empty(db)
    number = _job(db, "SO-9001/1").number
    cost = db.read(lambda s: costing.job_cost(s, number))
    assert cost.good_quantity == 39  # one harness scrapped at the continuity test
    assert cost.actual.material > 0
    assert cost.actual.labour > 0
    assert cost.actual.machine > 0
    assert cost.actual.overhead > 0
    assert cost.labour_minutes > 0 and cost.machine_minutes > 0
    parts = cost.actual
    assert abs(parts.total - (parts.material + parts.labour + parts.machine + parts.overhead)) <= (
        Decimal("0.02")
    )


def test_demo_reels_stay_separate_containers_and_the_hold_shows(db: Database) -> None:
    demo.load_if_empty(db)
    page = db.read(lambda s: queries.inventory(s, item="WIRE-0.5-RD"))
    by_lot = {row.lot: row.quantity for row in page.rows}
    # The 50 m reel gave 12.2 m to the shipped job's leads and 18.3 m to the running job's.
    assert by_lot == {"WR-2611-01": Decimal("19.5"), "WR-2611-02": Decimal("30")}
    for code, lot, quantity in (("R-1001", "WR-2611-01", "19.5"), ("R-1002", "WR-2611-02", "30")):
        reel = db.read(lambda s: queries.container(s, code))  # noqa: B023 - read at once
        assert (reel.kind, reel.location) == ("reel", "A-01")
        assert [(c.lot, c.quantity) for c in reel.contents] == [(lot, Decimal(quantity))]
    held = db.read(lambda s: queries.inventory(s, location="QUAR"))
    assert [(r.item, r.lot, r.status.value) for r in held.rows] == [
        ("ADHESIVE-UV", "UV-1126", "hold")
    ]


def test_only_demo_log_ins_that_still_work_are_printed(db: Database) -> None:
    demo.load_if_empty(db)
    db.write(lambda s: auth_service.update_user(s, "admin", password="a password of its own"))

    users = [line.split()[0] for line in demo.login_lines(db)[1:]]

    assert "admin" not in users and "clerk" in users
    assert "admin-demo" not in "\n".join(demo.login_lines(db))
