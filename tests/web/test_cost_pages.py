"""The cost accountant's pages on the demo plant: the figures are the costing service's, to the
cent, and only those who may read costs see them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from isom import demo
from isom.costing import services as costing
from isom.db import Database
from isom.web.pages import fmt_qty
from tests.web.seed import sign_in, user


def test_the_accountant_sees_actual_against_standard_with_the_variances(
    db: Database, client: TestClient
) -> None:
    demo.load_if_empty(db)
    user(db, "carl", "accountant")
    user(db, "clara", "clerk")
    cost = db.read(lambda s: costing.job_cost(s, "WO-000001"))
    batches = db.read(lambda s: costing.batch_costs(s, "WO-000001"))

    sign_in(client, "carl", "/costing")
    listing = client.get("/costing")
    assert listing.status_code == 200
    row = listing.text[listing.text.index(">WO-000001</a>") :].split("</tr>", 1)[0]
    assert f'<td class="num">{fmt_qty(cost.actual.total)}</td>' in row

    page = client.get("/costing/jobs/WO-000001")
    assert page.status_code == 200 and 'id="chart-waterfall"' in page.text
    variances = page.text[page.text.index('id="variances"') :].split("</table>", 1)[0]
    for value in (
        cost.variances.material_usage,
        cost.variances.labour_efficiency,
        cost.variances.total,
    ):
        assert f">{fmt_qty(value)}</td>" in variances
    table = page.text[page.text.index('id="batches"') :].split("</table>", 1)[0]
    assert table.count("<tr>") == len(batches) + 1 and batches
    assert client.get("/costing/jobs/WO-999999").status_code == 404

    client.cookies.clear()
    sign_in(client, "clara", "/costing")
    assert client.get("/costing").status_code == 403
