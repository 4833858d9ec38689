"""Fixtures for the device tests: the demo plant's master data with its devices and printers."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from isom.db import Database
from isom.devices.seed import seed_demo
from tests.production.support import demo_masterdata

if TYPE_CHECKING:
    from tests.devices.mqtt_support import Device

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
STANDARDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards"
BROKER = ("127.0.0.1", 1883)
#: Topics of this test run: runs (and benchmarks) sharing the broker never see each other.
ROOT = f"isomtest-{uuid.uuid4().hex[:8]}"
os.environ["ISOM_MQTT_ROOT"] = ROOT


def standards_file(*parts: str) -> Path:
    """A file of ../shared/standards; skip (fail under CI=true) when it is missing."""
    path = STANDARDS.joinpath(*parts).resolve()
    if not path.is_file():
        message = f"the reference file {path} is missing (../shared/standards beside the repo)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def broker_or_skip() -> None:
    """Skip when no MQTT broker listens at 127.0.0.1:1883; under CI=true that is a failure."""
    try:
        socket.create_connection(BROKER, timeout=2).close()
    except OSError as exc:
        message = f"the MQTT broker is not reachable at {BROKER[0]}:{BROKER[1]}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)", pytrace=False)
        pytest.skip(f"{message}; start Mosquitto to run the MQTT tests")


@pytest.fixture
def plant(db: Database) -> dict[str, str]:
    """The demo master data, GS1 settings of KW1, its devices (tokens by code) and printers."""
    demo_masterdata(db)
    return db.write(seed_demo)


@pytest.fixture
def worker_id() -> Iterator[str]:
    """A fresh ingest client id; its persistent session is dropped after the test."""
    from tests.devices.mqtt_support import forget_session

    broker_or_skip()
    client_id = f"isom-ingest-test-{uuid.uuid4().hex[:8]}"
    yield client_id
    forget_session(client_id)


@pytest.fixture
def device() -> Iterator[Device]:
    """A test device on the shared broker, listening to its site's answers."""
    from tests.devices.mqtt_support import Device

    broker_or_skip()
    d = Device()
    yield d
    d.close()
