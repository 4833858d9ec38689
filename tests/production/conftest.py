"""Production's fixtures: the live app on uvicorn, for the WIP stream only a real client ends."""

from tests.web.conftest import server  # noqa: F401 - a fixture, registered by importing it
