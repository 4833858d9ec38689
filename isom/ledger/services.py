"""The ledger's operations: the one write path for material.

Each operation takes the session first, then who acts, the idempotency key and a validated
command. It checks everything before it writes, builds a balanced `Posting`, and applies it
with `posting.post`, all in the caller's transaction and the one command frame. It never
commits. The operations live in `isom.ledger.operations`, one module per sub-concept; this
module is the ledger's service surface that other domains import.
"""

from isom.ledger.operations.counting import adjust, count
from isom.ledger.operations.frame import Actor, next_container_code
from isom.ledger.operations.holds import hold, release
from isom.ledger.operations.movement import merge, move, nest, ship, split, unnest
from isom.ledger.operations.production import consume, produce, return_to_stock, scrap, step_place
from isom.ledger.operations.receiving import create_container, receive
from isom.ledger.operations.reversal import reverse

__all__ = [
    "Actor",
    "adjust",
    "consume",
    "count",
    "create_container",
    "hold",
    "merge",
    "move",
    "nest",
    "next_container_code",
    "produce",
    "receive",
    "release",
    "return_to_stock",
    "reverse",
    "scrap",
    "ship",
    "split",
    "step_place",
    "unnest",
]
