"""The purchasing agent: per supplier and week, minimum, multiple, price breaks, lead time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi.testclient import TestClient

from isom.db import Database
from isom.web.app import create_app
from tests.agents.support import TODAY, customer_order, day, decisions, demo_masterdata, run_agents
from tests.builders import token

D = Decimal
API = "/api/v1/planning"


def test_requirements_are_consolidated_per_supplier_and_week(db: Database) -> None:
    demo_masterdata(db)
    # PackRite sells cartons with a lead time of 5 days, minimum 100, multiple 100, at 0.55.
    with TestClient(create_app(db)) as client:
        body = {
            "supplier": "PACKRITE",
            "item": "BOX-S",
            "breaks": [{"min_quantity": "300", "price": "0.45"}],
        }
        r = client.put(f"{API}/price-breaks", json=body, headers=token(db, "buyer"))
        assert r.status_code == 200, r.text
        assert r.json()["list_price"] == "0.55" and r.json()["breaks"] == body["breaks"]
        body = {"supplier": "PACKRITE", "item": "WIRE-0.5-RD", "breaks": []}
        r = client.put(f"{API}/price-breaks", json=body, headers=token(db, "buyer"))
        assert r.status_code == 404 and r.json()["field"] == "item"
        bad = {
            "supplier": "PACKRITE",
            "item": "BOX-S",
            "breaks": [{"min_quantity": "0", "price": "1"}],
        }
        r = client.put(f"{API}/price-breaks", json=bad, headers=token(db, "buyer"))
        assert r.status_code == 422 and r.json()["field"] == "breaks[0].min_quantity"
    monday = TODAY + dt.timedelta(days=14 - TODAY.weekday())
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("BOX-S", "250", monday)])
    customer_order(db, "SO-2", "ACME-ROBOTICS", [("BOX-S", "120", monday + dt.timedelta(2))])
    customer_order(db, "SO-3", "ACME-ROBOTICS", [("BOX-S", "20", monday + dt.timedelta(7))])
    customer_order(db, "SO-4", "ACME-ROBOTICS", [("BOX-S", "60", monday + dt.timedelta(14))])
    customer_order(db, "SO-5", "SENSORPRO", [("BOX-S", "10", day(1))], priority="rush")
    customer_order(db, "SO-6", "ACME-ROBOTICS", [("CONN-JST-2", "10", monday)])
    assert run_agents(db)["purchasing"] == 4
    # One order per supplier and week: the rush need, made late, falls in the week it can come.
    orders = {
        (d["command"]["supplier"], d["date"]): [
            (ln["item"], ln["quantity"], ln["unit_price"]) for ln in d["command"]["lines"]
        ]
        for d in decisions(db, agent="purchasing")
    }
    assert orders == {
        # due before the lead time allows: ordered now, due in 5 days, said to be late
        ("PACKRITE", day(5)): [("BOX-S", "100", "0.55")],
        # 250 + 120 in one week, less the 90 the minimum above leaves over: 280, so 300 in
        # multiples of 100, at the break from 300; its surplus of 20 covers the week after
        ("PACKRITE", monday): [("BOX-S", "300", "0.45")],
        ("PACKRITE", monday + dt.timedelta(14)): [("BOX-S", "100", "0.55")],
        ("CONNTEC", monday): [("CONN-JST-2", "1000", "0.075")],
    }
    texts = {d["date"]: d["explanation"] for d in decisions(db, agent="purchasing")}
    assert "arrives after the need of SO-5/1" in texts[day(5)]
    assert "the surplus also covers 20 for SO-3/1" in texts[monday]
    assert run_agents(db)["purchasing"] == 0
