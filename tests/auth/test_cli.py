"""`isom users` and `isom tokens` against the test store."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from isom.auth import cli as auth_cli
from isom.auth import services as auth_service
from isom.db import Database


@pytest.fixture
def runner(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(auth_cli, "_open_db", lambda: db)
    return CliRunner()


def test_users_add_and_list(db: Database, runner: CliRunner) -> None:
    r = runner.invoke(
        auth_cli.users_app,
        ["add", "alice", "--role", "admin", "--role", "clerk", "--password", "long enough"],
    )
    assert r.exit_code == 0, r.output
    assert db.read(lambda s: auth_service.authenticate(s, "alice", "long enough").roles) == [
        "admin",
        "clerk",
    ]
    listed = runner.invoke(auth_cli.users_app, ["list"])
    assert "alice" in listed.output and "admin,clerk" in listed.output


def test_users_add_prompts_for_the_password(db: Database, runner: CliRunner) -> None:
    r = runner.invoke(
        auth_cli.users_app, ["add", "bob", "--role", "clerk"], input="long enough\nlong enough\n"
    )
    assert r.exit_code == 0, r.output
    assert db.read(lambda s: auth_service.authenticate(s, "bob", "long enough").username) == "bob"


def test_a_bad_role_exits_1_with_a_clear_error(runner: CliRunner) -> None:
    r = runner.invoke(auth_cli.users_app, ["add", "bob", "--role", "king", "--password", "x" * 8])
    assert r.exit_code == 1
    assert "unknown role(s): king" in r.output


def test_tokens_create_list_revoke(db: Database, runner: CliRunner) -> None:
    created = runner.invoke(auth_cli.tokens_app, ["create", "scanner-1", "--role", "device"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("isom_")
    assert db.read(lambda s: auth_service.principal_from_token(s, secret)) is not None
    token_id = db.read(lambda s: auth_service.list_api_tokens(s)[0].id)

    assert "scanner-1" in runner.invoke(auth_cli.tokens_app, ["list"]).output
    revoked = runner.invoke(auth_cli.tokens_app, ["revoke", str(token_id)])

    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert db.read(lambda s: auth_service.principal_from_token(s, secret)) is None
