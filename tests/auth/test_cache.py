"""Callers remembered for a second: a revoked token or a disabled user is refused at once in this
process, and within the cache's lifetime when the change comes from another process."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from isom.auth import cache
from isom.auth import services as auth_service
from isom.auth.models import ApiToken, User
from isom.db import Database
from isom.types import utcnow
from isom.web.app import create_app
from tests.builders import token

PASSWORD = "correct horse battery"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, moved on by hand: no test waits for an entry to expire."""
    now = [0.0]
    monkeypatch.setattr(cache, "principals", cache.PrincipalCache(timer=lambda: now[0]))
    return now


@pytest.fixture
def client(db: Database, clock: list[float]) -> TestClient:
    return TestClient(create_app(db))


def me(client: TestClient, headers: dict[str, str] | None = None) -> int:
    return client.get("/api/v1/auth/me", headers=headers).status_code


def user_token(db: Database, username: str) -> dict[str, str]:
    """A token that acts for the user `username` (made as `isom tokens create --user` does)."""

    def make(s: Session) -> str:
        user = auth_service.create_user(s, username=username, password=PASSWORD, roles=["clerk"])
        secret, _ = auth_service.create_api_token(
            s, name=f"{username}-script", roles=["clerk"], user_id=user.id
        )
        return secret

    return {"Authorization": f"Bearer {db.write(make)}"}


def test_a_token_revoked_in_this_process_is_refused_on_the_next_request(
    db: Database, client: TestClient
) -> None:
    admin, clerk = token(db, "admin"), token(db, "clerk")
    assert me(client, clerk) == 200  # remembered now
    token_id = client.get("/api/v1/tokens", headers=admin).json()[0]["id"]

    assert client.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 200

    assert me(client, clerk) == 401
    assert me(client, admin) == 200


def test_a_disabled_users_token_and_session_are_refused_on_the_next_request(
    db: Database, client: TestClient
) -> None:
    admin = token(db, "admin")
    script = user_token(db, "bob")
    browser = TestClient(create_app(db))
    browser.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    assert me(client, script) == 200 and me(browser) == 200

    r = client.patch("/api/v1/users/bob", json={"active": False}, headers=admin)

    assert r.status_code == 200
    assert me(client, script) == 401
    assert me(browser) == 401


def test_a_revocation_by_another_process_holds_within_the_cache_lifetime(
    db: Database, client: TestClient, clock: list[float]
) -> None:
    clerk = token(db, "clerk")
    assert me(client, clerk) == 200
    with db.engine.begin() as conn:  # as `isom tokens revoke` would, from its own process
        conn.execute(update(ApiToken).values(revoked_at=utcnow()))

    clock[0] += cache.TTL_SECONDS

    assert cache.TTL_SECONDS <= 1.0
    assert me(client, clerk) == 401


def test_a_user_disabled_by_another_process_loses_their_token_within_the_lifetime(
    db: Database, client: TestClient, clock: list[float]
) -> None:
    script = user_token(db, "carol")
    assert me(client, script) == 200
    with db.engine.begin() as conn:
        conn.execute(update(User).where(User.username == "carol").values(active=False))

    clock[0] += cache.TTL_SECONDS

    assert me(client, script) == 401


def test_a_new_token_works_from_its_first_request_and_roles_follow_a_change(
    db: Database, client: TestClient
) -> None:
    admin = token(db, "admin")
    client.post(
        "/api/v1/users",
        json={"username": "dora", "password": PASSWORD, "roles": ["clerk"]},
        headers=admin,
    )
    browser = TestClient(create_app(db))
    browser.post("/api/v1/auth/login", json={"username": "dora", "password": PASSWORD})
    assert browser.get("/api/v1/auth/me").json()["roles"] == ["clerk"]

    client.patch("/api/v1/users/dora", json={"roles": ["planner"]}, headers=admin)

    assert browser.get("/api/v1/auth/me").json()["roles"] == ["planner"]
