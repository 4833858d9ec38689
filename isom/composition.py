"""The composition root: which domain reacts to which other domain's events.

Called once at start-up by the app, the command line and the tests, so domains subscribe
to each other here instead of importing each other (`isom.reactions`).
"""

from __future__ import annotations

from isom import reactions


def wire() -> None:
    """Subscribe every domain's in-transaction reactions (idempotent)."""
    from isom.integration import production_feed

    # The feed's production messages commit or roll back with the scan.
    reactions.registry.in_transaction("production.*", production_feed.react)
