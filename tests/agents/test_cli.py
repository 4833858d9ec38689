"""`isom agents ...` and `isom planning ...` against the test store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from isom.cli import app
from isom.db import Database
from tests.agents.support import TODAY, customer_order, day, decisions, demo_masterdata


@pytest.fixture
def runner(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ISOM_DATABASE_URL", db.url)
    demo_masterdata(db)
    return CliRunner()


def test_run_shows_each_agent_and_runs_once(db: Database, runner: CliRunner) -> None:
    r = runner.invoke(app, ["agents", "mode", "purchasing", "propose"])
    assert r.exit_code == 0, r.output
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("LEAD-RD-300", "10", day(14))])
    r = runner.invoke(app, ["agents", "run", "--today", TODAY.isoformat()])
    assert r.exit_code == 0, r.output
    assert "intake" in r.output and "purchasing" in r.output and "projections refreshed" in r.output
    assert [(d["kind"], d["status"].value) for d in decisions(db)] == [
        ("work_order", "applied"),
        ("purchase_order", "proposed"),
    ]
    again = runner.invoke(app, ["agents", "run", "--today", TODAY.isoformat()])
    assert again.exit_code == 0 and len(decisions(db)) == 2
    listed = runner.invoke(app, ["agents", "decisions", "--status", "proposed"])
    assert "buy-net-requirements" in listed.output
    buy = decisions(db, kind="purchase_order")[0]["id"]
    r = runner.invoke(app, ["agents", "reject", str(buy), "--reason", "wire on the way"])
    assert (
        r.exit_code == 0 and decisions(db, kind="purchase_order")[0]["status"].value == "rejected"
    )
    # A person's rejection holds while the plan wants the same order: nothing is proposed again.
    runner.invoke(app, ["agents", "run", "--today", TODAY.isoformat()])
    assert len(decisions(db)) == 2


def test_planning_item_prints_the_projection(db: Database, runner: CliRunner) -> None:
    customer_order(db, "SO-1", "ACME-ROBOTICS", [("HARN-JST-300", "5", day(3))])
    r = runner.invoke(app, ["planning", "item", "HARN-JST-300", "--today", TODAY.isoformat()])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert (body["first_shortage_date"], body["shortage_quantity"]) == (day(3).isoformat(), "5")
    r = runner.invoke(app, ["planning", "refresh", "--full"])
    assert r.exit_code == 0 and "1 items projected" in r.output
