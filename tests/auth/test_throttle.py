"""Guessing passwords: after a few wrong ones a user name or an address gets 429 for a while.

The counts live in the store, so two app instances (two server processes) share them.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import throttle
from isom.auth.models import LoginFailure
from isom.db import Database
from isom.web.app import create_app
from tests.auth.test_api import PASSWORD, add_user

LOGIN = "/api/v1/auth/login"


def login(client: TestClient, username: str, password: str) -> int:
    return client.post(LOGIN, json={"username": username, "password": password}).status_code


def browser(db: Database, address: str = "203.0.113.7") -> TestClient:
    """A client calling from `address`, through its own app instance (as another process)."""
    return TestClient(create_app(db), client=(address, 50000))


def locked_out(db: Database, username: str) -> TestClient:
    """A client that has guessed `username`'s password wrong as often as the throttle allows."""
    add_user(db, username, "clerk")
    client = browser(db)
    assert [login(client, username, f"guess {n}") for n in range(throttle.PER_USER)] == [
        401
    ] * throttle.PER_USER
    return client


def test_the_right_password_is_refused_after_too_many_wrong_ones(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    add_user(db, "alice", "clerk")
    client = browser(db)

    with caplog.at_level(logging.WARNING, logger="isom.auth"):
        wrong = [login(client, "alice", f"guess {n}") for n in range(throttle.PER_USER)]
        r = client.post(LOGIN, json={"username": "alice", "password": PASSWORD})

    assert wrong == [401] * throttle.PER_USER
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= throttle.WINDOW.total_seconds()
    assert "set-cookie" not in r.headers
    failures = [m for m in caplog.messages if m.startswith("sign-in failed for 'alice'")]
    assert len(failures) == throttle.PER_USER and "203.0.113.7" in failures[0]
    assert any(m.startswith("sign-in refused for 'alice'") for m in caplog.messages)


def test_the_user_count_is_shared_by_every_process_and_address(db: Database) -> None:
    add_user(db, "alice", "clerk")
    first, second = browser(db, "203.0.113.7"), browser(db, "198.51.100.9")
    for n in range(throttle.PER_USER):
        assert login(first if n % 2 else second, "alice", f"guess {n}") == 401

    assert login(browser(db, "192.0.2.1"), "alice", PASSWORD) == 429


def test_the_lock_ends_with_the_window(db: Database) -> None:
    client = locked_out(db, "alice")
    assert login(client, "alice", PASSWORD) == 429

    def fifteen_minutes_pass(s: Session) -> None:
        for failure in s.scalars(select(LoginFailure)):
            failure.at -= throttle.WINDOW

    db.write(fifteen_minutes_pass)

    assert login(client, "alice", PASSWORD) == 200


def test_a_right_password_forgets_the_users_failures(db: Database) -> None:
    add_user(db, "alice", "clerk")
    client = browser(db)
    for n in range(throttle.PER_USER - 1):
        login(client, "alice", f"guess {n}")
    assert login(client, "alice", PASSWORD) == 200

    assert login(client, "alice", "one more guess") == 401
    assert login(client, "alice", PASSWORD) == 200


def test_one_address_guessing_many_users_is_refused(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "PER_ADDRESS", 4)  # fewer argon2 hashes than the real 30
    add_user(db, "bob", "clerk")
    guesser = browser(db, "203.0.113.66")
    assert [login(guesser, f"user{n}", "password") for n in range(4)] == [401] * 4

    r = guesser.post(LOGIN, json={"username": "bob", "password": PASSWORD})

    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert login(browser(db, "198.51.100.1"), "bob", PASSWORD) == 200


def test_the_sign_in_page_is_throttled_too(db: Database) -> None:
    client = locked_out(db, "alice")
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    r = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )

    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in r.text
    assert "isom_session" not in r.headers.get("set-cookie", "")
