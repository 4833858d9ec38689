"""The cost accountant's pages on the demo plant: the figures are the costing service's, to the
cent, and only those who may read costs see them."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient

from isom import demo
from isom.costing import services as costing
from isom.db import Database
from isom.toolkit.render import fmt_money
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
    assert f'<td class="num">{fmt_money(cost.actual.total)}</td>' in row

    page = client.get("/costing/jobs/WO-000001")
    assert page.status_code == 200 and 'id="chart-waterfall"' in page.text
    variances = page.text[page.text.index('id="variances"') :].split("</table>", 1)[0]
    for value in (
        cost.variances.material_usage,
        cost.variances.labour_efficiency,
        cost.variances.total,
    ):
        assert f">{fmt_money(value)}</td>" in variances
    # Money always has two places, and what is shown adds up to the cent: the variances to
    # their total, the total to actual - standard, the elements to their totals.
    shown = [Decimal(v) for v in re.findall(r'class="num[^"]*">(-?[\d.]+)</td>', variances)]
    assert shown and all(re.fullmatch(r"-?\d+\.\d\d", str(v)) for v in shown)
    assert sum(shown[:-1]) == shown[-1] == cost.actual.total - cost.standard.total
    elements = page.text[page.text.index('id="elements"') :].split("</table>", 1)[0]
    cells = re.findall(r'<td class="num[^"]*">(-?[\d.]+)</td>', elements)
    assert cells and all(re.fullmatch(r"-?\d+\.\d\d", c) for c in cells)
    rows = [[Decimal(c) for c in cells[i : i + 3]] for i in range(0, len(cells), 3)]
    assert [sum(col) for col in zip(*rows[:-1], strict=True)] == rows[-1]
    assert all(a - s == d for s, a, d in rows)
    table = page.text[page.text.index('id="batches"') :].split("</table>", 1)[0]
    assert table.count("<tr>") == len(batches) + 1 and batches
    assert client.get("/costing/jobs/WO-999999").status_code == 404

    client.cookies.clear()
    sign_in(client, "clara", "/costing")
    assert client.get("/costing").status_code == 403
