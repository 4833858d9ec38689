"""Profile the at-scale reads (EPCIS query of 1,000 events, the /reports data) on a bulk history.

    .venv/bin/python bench/scale_probe.py [--events 200000] [--store sqlite|postgresql]
      [--keep PATH] [--profile]

Writes the ledger bench's bulk history (`bench/ledger.py`, `History.extend`) into a fresh
store, then times, 5 times each: `epcis.query` with `perPage=1000` (the first page and a page
in the middle of the history), the shop report of `/reports` (14 days) and one item's
inventory history over 14 days; with `--profile`, prints the top of a cProfile of each.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import History, console, postgres_store, seed, sqlite_store  # noqa: E402
from isom import schema  # noqa: E402
from isom.db import Database  # noqa: E402
from isom.integration import epcis  # noqa: E402
from isom.ledger import queries as ledger_queries  # noqa: E402
from isom.production import reports  # noqa: E402
from isom.types import utcnow  # noqa: E402


def timed(db: Database, name: str, work: Callable[[Any], Any], profile: bool) -> float:
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        db.read(work)
        runs.append(time.perf_counter() - t)
    median = statistics.median(runs) * 1000
    console.print(f"  {name}: median {median:.0f} ms, max {max(runs) * 1000:.0f} ms")
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        db.read(work)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(18)
    return median


def probe(db: Database, events: int, profile: bool) -> dict[str, float]:
    schema.upgrade(db)
    plant = seed(db)
    History(db, plant).extend(events, f"bulk history to {events:,} events")
    top = db.read(ledger_queries.last_event_id) or 0
    middle = epcis._token(top // 2)
    item = plant.items[0][1]
    now = utcnow()
    return {
        "epcis_first_1000": timed(
            db,
            "EPCIS 1,000 events (first page)",
            lambda s: epcis.query(s, epcis.EpcisQuery(per_page=1000)),
            profile,
        ),
        "epcis_middle_1000": timed(
            db,
            "EPCIS 1,000 events (middle page)",
            lambda s: epcis.query(s, epcis.EpcisQuery(per_page=1000, page_token=middle)),
            profile,
        ),
        "shop_report": timed(
            db, "shop report, 14 days", lambda s: reports.shop_report(s, days=14, now=now), profile
        ),
        "on_hand_history": timed(
            db,
            f"{item} on hand, 14 days",
            lambda s: ledger_queries.on_hand_history(s, item, now - dt.timedelta(days=14), now),
            profile,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    store = sqlite_store if args.store == "sqlite" else postgres_store
    with store() as db:
        console.print(probe(db, args.events, args.profile))


if __name__ == "__main__":
    main()
