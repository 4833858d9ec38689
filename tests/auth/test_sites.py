"""Sites of users and API tokens: `isom auth grant/revoke/span/sites`, what a caller then
holds, and that a grant is in force from the next request."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from isom.auth import cli as auth_cli
from isom.auth import grants
from isom.auth import services as auth_service
from isom.db import Database
from isom.masterdata.models import LocationKind
from isom.masterdata.schemas import LocationIn
from isom.masterdata.services import upsert_location


@pytest.fixture
def runner(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(auth_cli, "_open_db", lambda: db)
    return CliRunner()


@pytest.fixture
def two_sites(db: Database) -> dict[str, int]:
    def make(s: Session) -> dict[str, int]:
        ids = {}
        for code in ("KW1", "DC1"):
            loc, _ = upsert_location(s, LocationIn(code=code, name=code, kind=LocationKind.site))
            ids[code] = loc.id
        auth_service.create_user(s, username="lina", password="long enough", roles=["clerk"])
        auth_service.create_api_token(s, name="erp", roles=["integrator"])
        return ids

    return db.write(make)


def test_grant_revoke_span_and_list_from_the_command_line(
    db: Database, runner: CliRunner, two_sites: dict[str, int]
) -> None:
    assert db.read(lambda s: grants.sites_of_user(s, auth_service.get_user(s, "lina").id)) == []

    r = runner.invoke(auth_cli.auth_app, ["grant", "DC1", "--user", "lina"])
    assert r.exit_code == 0, r.output
    assert "user lina now acts at: DC1" in r.output
    r = runner.invoke(auth_cli.auth_app, ["grant", "KW1", "--user", "lina"])
    assert "DC1, KW1" in r.output

    r = runner.invoke(auth_cli.auth_app, ["revoke", "KW1", "--user", "lina"])
    assert r.exit_code == 0 and "now acts at: DC1" in r.output
    last = runner.invoke(auth_cli.auth_app, ["revoke", "DC1", "--user", "lina"])
    assert last.exit_code == 1
    assert "would hold no site" in last.output
    assert db.read(lambda s: grants.sites_of_user(s, auth_service.get_user(s, "lina").id)) == [
        "DC1"
    ]

    r = runner.invoke(auth_cli.auth_app, ["grant", "KW1", "--token", "erp"])
    assert "token erp now acts at: KW1" in r.output
    listed = runner.invoke(auth_cli.auth_app, ["sites"])
    assert "lina" in listed.output and "erp" in listed.output
    line = next(x for x in listed.output.splitlines() if "erp" in x)
    assert line.split()[-1] == "KW1"

    r = runner.invoke(auth_cli.auth_app, ["span", "--user", "lina"])
    assert "all sites" in r.output
    assert db.read(lambda s: grants.sites_of_user(s, auth_service.get_user(s, "lina").id)) == []

    unknown = runner.invoke(auth_cli.auth_app, ["grant", "XX9", "--user", "lina"])
    assert unknown.exit_code == 1 and "no site 'XX9'" in unknown.output
    neither = runner.invoke(auth_cli.auth_app, ["grant", "KW1"])
    assert neither.exit_code == 2


def test_a_token_acts_in_its_own_sites_else_its_users_else_every_site(
    db: Database, two_sites: dict[str, int]
) -> None:
    def issue(s: Session) -> tuple[str, str, str]:
        lina = auth_service.get_user(s, "lina").id
        grants.grant_user_site(s, "lina", "DC1")
        own, _ = auth_service.create_api_token(s, name="own", roles=["clerk"], user_id=lina)
        grants.grant_token_site(s, "own", "KW1")
        users, _ = auth_service.create_api_token(s, name="users", roles=["clerk"], user_id=lina)
        free, _ = auth_service.create_api_token(s, name="free", roles=["clerk"])
        return own, users, free

    own, users, free = db.write(issue)
    held = {
        name: db.read(lambda s, secret=secret: auth_service.principal_from_token(s, secret))
        for name, secret in (("own", own), ("users", users), ("free", free))
    }
    assert held["own"] is not None and held["own"].sites == {two_sites["KW1"]}
    assert held["users"] is not None and held["users"].sites == {two_sites["DC1"]}
    assert held["free"] is not None and held["free"].sites == frozenset()  # every site


def test_a_grant_is_in_force_from_the_next_request(db: Database, two_sites: dict[str, int]) -> None:
    secret, _ = db.write(lambda s: auth_service.create_api_token(s, name="scan", roles=["clerk"]))
    before = auth_service.principal_for_token(db, secret)  # remembered for a second
    assert before is not None and before.sites == frozenset()

    db.write(lambda s: grants.grant_token_site(s, "scan", "DC1"))

    after = auth_service.principal_for_token(db, secret)
    assert after is not None and after.sites == {two_sites["DC1"]}
