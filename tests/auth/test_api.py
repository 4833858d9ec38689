"""The auth API: sign in and out, roles, users and API tokens, and what is stored."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import cache
from isom.auth import services as auth_service
from isom.auth.models import ApiToken, User, WebSession
from isom.db import Database
from isom.web.app import create_app
from tests.builders import key, token

PASSWORD = "correct horse battery"


def add_user(db: Database, username: str, *roles: str, password: str = PASSWORD) -> None:
    db.write(
        lambda s: auth_service.create_user(
            s, username=username, password=password, roles=list(roles)
        )
    )


@pytest.fixture
def client(db: Database) -> TestClient:
    return TestClient(create_app(db))


def test_login_sets_an_httponly_cookie_and_me_answers(db: Database, client: TestClient) -> None:
    add_user(db, "alice", "clerk")

    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})

    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("isom_session=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    csrf = r.json()["csrf_token"]
    me = client.get("/api/v1/auth/me").json()
    assert me["name"] == "alice" and me["roles"] == ["clerk"] and me["csrf_token"] == csrf


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong password"), ("nobody", PASSWORD)]
)
def test_a_wrong_login_is_401_without_saying_which_part(
    db: Database, client: TestClient, username: str, password: str
) -> None:
    add_user(db, "alice", "clerk")

    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})

    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "wrong user name or password"
    assert "set-cookie" not in r.headers
    assert client.get("/api/v1/auth/me").status_code == 401


def test_logout_needs_the_csrf_header_and_ends_the_session(
    db: Database, client: TestClient
) -> None:
    add_user(db, "alice", "clerk")
    csrf = client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    ).json()["csrf_token"]

    assert client.post("/api/v1/auth/logout").status_code == 403
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204

    assert client.get("/api/v1/auth/me").status_code == 401
    assert db.read(lambda s: s.scalars(select(WebSession)).all()) == []


def test_a_cookie_write_without_the_csrf_header_is_refused(
    db: Database, client: TestClient
) -> None:
    add_user(db, "root", "admin")
    client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})

    r = client.post("/api/v1/users", json={"username": "bob", "roles": ["clerk"]})

    assert r.status_code == 403
    assert r.json()["field"] == "X-CSRF-Token"


def test_a_revoked_token_gets_401(db: Database, client: TestClient) -> None:
    admin = token(db, "admin")
    created = client.post(
        "/api/v1/tokens", json={"name": "scanner-7", "roles": ["device"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    device = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/auth/me", headers=device).json()["roles"] == ["device"]

    revoked = client.delete(f"/api/v1/tokens/{body['id']}", headers=admin)

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    r = client.get("/api/v1/auth/me", headers=device)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert [t for t in listed if t["name"] == "scanner-7"][0]["revoked_at"] is not None
    assert all("token" not in t and "token_hash" not in t for t in listed)


def test_revoking_an_unknown_token_is_404(db: Database, client: TestClient) -> None:
    r = client.delete("/api/v1/tokens/999999", headers=token(db, "admin"))
    assert r.status_code == 404


def test_an_operator_may_not_adjust(db: Database, client: TestClient) -> None:
    r = client.post(
        "/api/v1/ledger/adjust",
        json={"container": "C-1", "item": "WIRE", "quantity_delta": "1", "reason_code": "found"},
        headers={**token(db, "operator"), "Idempotency-Key": key()},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_a_device_may_not_list_users(db: Database, client: TestClient) -> None:
    assert client.get("/api/v1/users", headers=token(db, "device")).status_code == 403
    assert client.get("/api/v1/tokens", headers=token(db, "device")).status_code == 403


def test_the_admin_manages_users(db: Database, client: TestClient) -> None:
    admin = token(db, "admin")
    r = client.post(
        "/api/v1/users",
        json={"username": "bob", "password": PASSWORD, "roles": ["clerk"], "full_name": "Bob"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json() == {**r.json(), "username": "bob", "roles": ["clerk"], "active": True}
    assert "password" not in r.text and "hash" not in r.text

    again = client.post(
        "/api/v1/users", json={"username": "bob", "roles": ["clerk"]}, headers=admin
    )
    assert again.status_code == 409
    bad_role = client.post(
        "/api/v1/users", json={"username": "eve", "roles": ["king"]}, headers=admin
    )
    assert bad_role.status_code == 422 and bad_role.json()["field"].startswith("roles")

    changed = client.patch(
        "/api/v1/users/bob", json={"roles": ["clerk", "supervisor"]}, headers=admin
    )
    assert changed.json()["roles"] == ["clerk", "supervisor"]
    assert [u["username"] for u in client.get("/api/v1/users", headers=admin).json()] == ["bob"]
    assert (
        client.patch("/api/v1/users/nobody", json={"active": False}, headers=admin).status_code
        == 404
    )


def test_deactivating_a_user_signs_them_out_and_stops_sign_in(
    db: Database, client: TestClient
) -> None:
    add_user(db, "bob", "clerk")
    browser = TestClient(create_app(db))
    browser.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    assert browser.get("/api/v1/auth/me").status_code == 200

    r = client.patch("/api/v1/users/bob", json={"active": False}, headers=token(db, "admin"))

    assert r.status_code == 200 and r.json()["active"] is False
    assert browser.get("/api/v1/auth/me").status_code == 401
    login = client.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    assert login.status_code == 401


def test_a_new_password_replaces_the_old_one(db: Database, client: TestClient) -> None:
    add_user(db, "bob", "clerk")
    client.patch(
        "/api/v1/users/bob", json={"password": "a new long one"}, headers=token(db, "admin")
    )

    def login(password: str) -> int:
        return client.post(
            "/api/v1/auth/login", json={"username": "bob", "password": password}
        ).status_code

    assert login(PASSWORD) == 401
    assert login("a new long one") == 200


def test_the_last_active_admin_cannot_be_removed(db: Database, client: TestClient) -> None:
    add_user(db, "root", "admin")
    admin = token(db, "admin")

    r = client.patch("/api/v1/users/root", json={"active": False}, headers=admin)

    assert r.status_code == 409
    assert db.read(lambda s: auth_service.get_user(s, "root").active) is True
    add_user(db, "root2", "admin")
    assert (
        client.patch("/api/v1/users/root", json={"roles": ["clerk"]}, headers=admin).status_code
        == 200
    )


def test_passwords_are_stored_as_argon2_hashes(db: Database, client: TestClient) -> None:
    client.post(
        "/api/v1/users",
        json={"username": "bob", "password": PASSWORD, "roles": ["clerk"]},
        headers=token(db, "admin"),
    )

    stored = db.read(lambda s: s.scalar(select(User.password_hash).where(User.username == "bob")))

    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_tokens_and_sessions_are_stored_hashed(db: Database, client: TestClient) -> None:
    secret = client.post(
        "/api/v1/tokens", json={"name": "erp", "roles": ["integrator"]}, headers=token(db, "admin")
    ).json()["token"]
    add_user(db, "alice", "clerk")
    client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    cookie = client.cookies["isom_session"]

    token_hash, prefix = db.read(
        lambda s: s.execute(
            select(ApiToken.token_hash, ApiToken.prefix).where(ApiToken.name == "erp")
        ).one()
    )
    session_hashes = db.read(lambda s: list(s.scalars(select(WebSession.token_hash))))

    assert token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token_hash, prefix) and secret.startswith(prefix)
    assert session_hashes == [hashlib.sha256(cookie.encode()).hexdigest()]


def test_a_tokens_last_use_is_recorded_at_most_once_a_minute(
    db: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]  # this process's clock, which says when its last write was a minute ago
    monkeypatch.setattr(cache, "touches", cache.TouchThrottle(timer=lambda: clock[0]))
    clerk = token(db, "clerk")

    def last_use() -> dt.datetime | None:
        return db.read(lambda s: s.scalars(select(ApiToken.last_used_at)).one())

    assert last_use() is None
    client.get("/api/v1/auth/me", headers=clerk)
    first = last_use()
    client.get("/api/v1/auth/me", headers=clerk)

    assert first is not None and last_use() == first

    def a_minute_passes(s: Session) -> None:
        for row in s.scalars(select(ApiToken)):
            row.last_used_at = first - auth_service.TOKEN_TOUCH_EVERY

    db.write(a_minute_passes)
    clock[0] += 60
    client.get("/api/v1/auth/me", headers=clerk)

    later = last_use()
    assert later is not None and later > first
    assert client.get("/api/v1/tokens", headers=token(db, "admin")).json()[-1]["last_used_at"]
