"""A story of cable on reels: 30 m looms cut from reels, planned in pieces, not in metres.

Reels of 100 m and 50 m hold 150 m, enough for five 30 m pieces by length, but they give only
four (3 + 1): planning says one piece short and netting buys for it; the 35 m reel that comes
in makes five; the terminal proposes the reel for each piece; the 5 m end of the 35 m reel is
scrapped as a remnant and the loom job bears its cost, to the cent.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from isom.costing import services as costing
from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from isom.masterdata import imports as md_import
from isom.planning import views
from isom.production import services as production
from isom.production.schemas import StepScan, StopScan
from isom.types import utcnow
from isom.web.app import create_app
from tests.agents.support import customer_order, day, decisions, jobs_of, run_agents
from tests.builders import key, token
from tests.production.support import ACTOR, DAY, at, create, demo_masterdata, scan

D = Decimal
API = "/api/v1"
TODAY = utcnow().date()

MASTERDATA = {
    "items": [
        {
            "code": "CABLE-7",
            "name": "Sheathed cable 7 x 0.5 mm2",
            "type": "raw",
            "base_unit": "m",
            "tracking": "lot",
            "standard_cost": "0.85",
            "measure": "length",
            "min_usable": "6",
        },
        {"code": "LOOM-30", "name": "Cable loom, 30 m", "type": "finished", "base_unit": "ea"},
    ],
    "supplier_items": [
        {"supplier": "WIRECO", "item": "CABLE-7", "lead_time_days": 5, "price": "0.85"}
    ],
    "routes": [
        {
            "code": "R-LOOM-30",
            "item": "LOOM-30",
            "steps": [
                {
                    "sequence": 10,
                    "operation": "cut",
                    "workstation_kind": "cutter",
                    "skill": "cut",
                    "run_minutes": "1",
                    "inputs": [{"item": "CABLE-7", "quantity_per": "30", "cut_length": "30"}],
                    "outputs": [{"item": "LOOM-30", "kind": "main", "quantity_per": "1"}],
                }
            ],
        }
    ],
}


def reel(db: Database, code: str, metres: str, cost: str) -> None:
    cmd = ReceiveCommand(
        container=code,
        container_kind="reel",
        location="A-03",
        supplier="WIRECO",
        lines=[
            ReceiveLine(
                item="CABLE-7",
                lot=LotIn(code=f"L-{code}"),
                quantity=D(metres),
                unit_cost=D(cost),
            )
        ],
        occurred_at=at(6),
    )
    k = key()
    db.write(lambda s: ledger.receive(s, ACTOR, k, cmd))


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)

    def load(s: Session) -> None:
        for kind, rows in MASTERDATA.items():
            md_import.import_rows(s, kind, rows)

    db.write(load)
    reel(db, "R-100", "100", "0.83")
    reel(db, "R-50", "50", "0.85")
    return db


@pytest.fixture
def client(plant: Database) -> Iterator[TestClient]:
    with TestClient(create_app(plant)) as c:
        yield c


def test_reels_that_hold_the_length_but_not_the_pieces_are_a_shortage_in_pieces(
    plant: Database, client: TestClient
) -> None:
    job = str(create(plant, "LOOM-30", "5", DAY).work_order)
    planner = token(plant, "planner")

    # 150 m on hand, but 3 + 1 pieces of 30 m: one piece (30 m) short
    view = client.get(f"{API}/planning/items/CABLE-7/projection", headers=planner).json()
    assert (view["on_hand"], view["piece_length"]) == ("120", "30")
    assert (view["shortage_quantity"], view["shortage_pieces"]) == ("30", 1)
    page = client.get("/planning/items/CABLE-7", headers=planner)
    assert page.status_code == 200
    assert '<span id="shortage-pieces">1 piece of 30 m</span>' in page.text
    net = plant.read(lambda s: views.net_view(s, TODAY))
    assert [(p.item, p.action, p.quantity) for p in net.planned if p.item == "CABLE-7"] == [
        ("CABLE-7", "buy", D(30))
    ]

    # a 35 m reel arrives: five pieces now, no shortage
    reel(plant, "R-35", "35", "0.87")
    view = client.get(f"{API}/planning/items/CABLE-7/projection", headers=planner).json()
    assert (view["on_hand"], view["shortage_quantity"], view["shortage_pieces"]) == ("150", "0", 0)

    # the terminal proposes a reel for each piece; the 35 m reel's 5 m end is unavoidable
    operator = token(plant, "operator")
    plan = client.get(
        f"{API}/production/work-orders/{job}/steps/10/cut-plan", headers=operator
    ).json()
    (cable,) = plan["proposals"]
    assert (cable["item"], cable["pieces_needed"], cable["unplaced"]) == ("CABLE-7", 5, 0)
    assert sorted(p["reel"] for p in cable["pieces"]) == ["R-100"] * 3 + ["R-35", "R-50"]
    assert cable["waste"] == "5"
    assert {r["reel"]: (r["left"], r["remnant"]) for r in cable["reels"]} == {
        "R-100": ("10", False),
        "R-35": ("5", True),
        "R-50": ("20", False),
    }

    # Anna cuts the pieces as proposed, scraps the remnant, and stops the step
    scan(
        plant,
        production.start_step,
        StepScan(badge="B1001", work_order=job, step=10, workstation="CUT-1", occurred_at=at(8)),
    )
    answers = []
    for p in cable["pieces"]:
        body = {"container": p["reel"], "item": "CABLE-7", "length": "30", "step": f"{job}/10"}
        r = client.post(
            f"{API}/ledger/cut", json=body, headers={**operator, "Idempotency-Key": key()}
        )
        assert r.status_code == 201, r.text
        answers.append(r.json()["detail"])
    assert [a["remnant"] for a in answers if a["container"] == "R-35"] == [True]
    r = client.post(
        f"{API}/ledger/remnant",
        json={"container": "R-35", "item": "CABLE-7", "disposition": "scrap", "reason": "5 m end"},
        headers={**operator, "Idempotency-Key": key()},
    )
    assert r.status_code == 201 and r.json()["detail"]["step"] == f"{job}/10", r.text
    scan(
        plant,
        production.stop_step,
        StopScan(
            badge="B1001",
            work_order=job,
            step=10,
            good_quantity=D(5),
            location="FG-01",
            occurred_at=at(9),
        ),
    )

    # the job bears the remnant: 90 x 0.83 + 30 x 0.85 + 30 x 0.87 + 5 x 0.87 = 130.65
    cost = plant.read(lambda s: costing.job_cost(s, job))
    assert cost.actual.material == D("130.65")
    (row,) = [m for m in cost.materials if m["item"] == "CABLE-7"]
    assert (row["actual_quantity"], row["remnant_quantity"], row["remnant_value"]) == (
        "155",
        "5",
        "4.35",
    )
    # what is left is planned in pieces again: 10 m and 20 m give no 30 m piece
    view = client.get(f"{API}/planning/items/CABLE-7/projection", headers=planner).json()
    assert view["on_hand"] == "0"


def test_the_agents_buy_the_missing_piece_not_nothing(plant: Database) -> None:
    # By length the 150 m cover five 30 m looms and nothing would be bought; by pieces one
    # piece is missing, and the purchasing agent proposes 30 m of cable
    customer_order(plant, "SO-L", "ACME-ROBOTICS", [("LOOM-30", "5", day(20))])
    run_agents(plant)
    assert jobs_of(plant, "SO-L/1")["LOOM-30"][1] == D(5)
    buys = [
        (line["item"], line["quantity"])
        for d in decisions(plant, agent="purchasing")
        for line in d["command"]["lines"]
    ]
    assert buys == [("CABLE-7", "30")]
