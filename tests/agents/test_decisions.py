"""Decisions are applied a group at a time: a refused one still fails alone, with its domain's
error, and the others of its group are applied as if it had not been there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from isom.agents import services as agents
from isom.agents.services import Proposal
from isom.db import Database
from isom.production.models import WorkOrder
from tests.agents.support import ACTOR, day, decisions, demo_masterdata

D = Decimal


@pytest.fixture
def plant(db: Database) -> Database:
    demo_masterdata(db)
    return db


def make(item: str, quantity: str, tag: str) -> Proposal:
    return Proposal(
        agent="intake",
        kind="work_order",
        situation=f"test|{tag}",
        rule="make-netted",
        demand=tag,
        explanation=f"make {quantity} {item} for {tag}",
        command={"item": item, "quantity": quantity, "due_date": day(9).isoformat()},
    )


def test_a_refused_decision_fails_alone_and_the_rest_of_its_group_is_applied(
    plant: Database,
) -> None:
    db = plant
    wanted = [
        make("HARN-JST-300", "4", "first"),
        make("NO-SUCH-ITEM", "5", "refused"),
        make("CORD-M8-2M", "6", "third"),
        make("HARN-JST-300", "4", "first"),  # the same situation twice: decided once
    ]
    made = db.write(lambda s: [d.demand for d in agents.decide_all(s, ACTOR, wanted)])
    assert made == ["first", "refused", "third"]
    stored = {d["demand"]: d for d in decisions(db, agent="intake")}
    assert [stored[t]["status"].value for t in made] == ["applied", "failed", "applied"]
    assert stored["refused"]["result"]["field"] == "item"
    jobs = db.read(
        lambda s: [
            (wo.quantity, wo.status.value)
            for wo in s.scalars(select(WorkOrder).order_by(WorkOrder.id))
        ]
    )
    assert jobs == [(D(4), "planned"), (D(6), "planned")]  # nothing of the refused one
    # Deciding the same proposals again makes nothing: each situation is decided once.
    assert db.write(lambda s: agents.decide_all(s, ACTOR, wanted)) == []
