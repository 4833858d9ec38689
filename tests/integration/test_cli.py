"""`isom feed ...` and `isom export ...` against the test store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isom.cli import app
from isom.db import Database
from tests.integration.conftest import story
from tests.integration.test_epcis import assert_valid


@pytest.fixture
def runner(pdb: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ISOM_DATABASE_URL", pdb.url)
    return CliRunner()


def test_exports_and_feed_commands(pdb: Database, runner: CliRunner, tmp_path: Path) -> None:
    story(pdb)
    for args in (
        ["export", "inventory", str(tmp_path / "inv.csv")],
        ["export", "feed", str(tmp_path / "feed.csv")],
        ["export", "epcis", str(tmp_path / "events.jsonld")],
        ["export", "b2mml-lots", str(tmp_path / "lots.xml")],
        ["feed", "show", "--limit", "3"],
        ["feed", "subscribers"],
        ["feed", "deliver", "--once"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "inv.csv").read_text().startswith("item,")
    assert (tmp_path / "feed.csv").read_text().startswith("seq,")
    assert_valid(json.loads((tmp_path / "events.jsonld").read_text()))
    assert "SyncMaterialLot" in (tmp_path / "lots.xml").read_text()
