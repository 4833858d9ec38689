"""Seed data for the page tests: a signed-in-able user and one received container."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient

from isom.auth import services as auth_service
from isom.db import Database
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveCommand, ReceiveLine
from tests.builders import key, plant

PASSWORD = "correct horse battery"


def user(db: Database, username: str = "clara", *roles: str) -> None:
    """A user who signs in with PASSWORD (a clerk unless roles are given)."""
    db.write(
        lambda s: auth_service.create_user(
            s, username=username, password=PASSWORD, roles=list(roles or ("clerk",))
        )
    )


def received_box(db: Database, code: str = "BOX-1") -> dict[str, str]:
    """A small plant with one box of 150.5 m of wire, lot L-42, received into BIN-1."""
    codes = plant(db)
    command = ReceiveCommand(
        container=code,
        location=codes["bin1"],
        supplier="SUP",
        reference="PO-7",
        lines=[
            ReceiveLine(
                item=codes["wire"],
                lot=LotIn(code="L-42", supplier_lot="S-9"),
                quantity=Decimal("150.5"),
                unit_cost=Decimal("0.11"),
            )
        ],
    )
    db.write(lambda s: ledger.receive(s, ledger.Actor(name="receiver"), key(), command))
    return codes


def sign_in(client: TestClient, username: str = "clara", next_url: str = "/inventory") -> str:
    """Sign in through the log-in form as a browser does; answers the session's csrf token,
    which later page forms carry."""
    form = client.get(f"/login?next={next_url}")
    assert form.status_code == 200
    login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert login_csrf is not None
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "next": next_url,
            "csrf_token": login_csrf.group(1),
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == next_url
    token: str = client.get("/api/v1/auth/me").json()["csrf_token"]
    return token
