"""The reports page on the demo plant: each chart's table agrees with the records behind it."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from isom import demo
from isom.db import Database
from isom.ledger import queries as ledger_queries
from isom.production import queries as production_queries
from isom.production import reports
from isom.types import utcnow
from tests.web.seed import sign_in, user


def test_reports_agree_with_the_jobs_machines_people_and_containers(
    db: Database, client: TestClient
) -> None:
    demo.load_if_empty(db)
    user(db, "carl", "accountant")
    report = db.read(lambda s: reports.shop_report(s, days=14, now=utcnow()))

    shipped_job = db.read(lambda s: production_queries.work_order(s, "WO-000001"))
    finished = sum((t.quantity for t in report.throughput if t.item == "HARN-JST-300"), Decimal(0))
    assert finished == shipped_job.steps[-1].quantity_good  # the only harness job that finished
    assert {c.work_order for c in report.cycles} >= {"WO-000001", "WO-000002", "WO-000003"}
    assert all(c.hours > 0 for c in report.cycles)
    cutter = next(u for u in report.utilisation if u.workstation == "CUT-1")
    assert cutter.hours["run"] > 0
    assert sum(cutter.hours.values()) == Decimal(14 * 24)  # every hour of the window accounted for
    anna = next(p for p in report.labour if p.name == "Anna Berg")
    assert anna.worked_minutes > 0 and anna.earned_minutes > 0

    sign_in(client, "carl", "/reports")
    page = client.get("/reports?days=14&item=WIRE-0.5-RD")
    assert page.status_code == 200
    for chart in ("throughput", "cycles", "queues", "utilisation", "labour", "inventory"):
        assert f'id="chart-{chart}"' in page.text
    on_hand = db.read(lambda s: ledger_queries.inventory(s, item="WIRE-0.5-RD"))
    total = sum((r.quantity for r in on_hand.rows), Decimal(0))
    history = page.text[page.text.index('id="inventory-history"') :]
    last_row = history[: history.index("</tbody>")].rsplit("<tr>", 1)[1]
    assert f'<td class="num">{total.normalize():f}</td>' in last_row  # today's balance = on hand
    assert client.get("/charts/plotly.min.js").status_code == 200
    assert client.get("/reports?days=0").status_code == 422
