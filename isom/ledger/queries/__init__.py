"""Read models of the ledger: inventory, containers with history, genealogy and recall.

Inventory reads the `ledger_balance` projection through its indexes, so its time does not
grow with the length of the history."""

from __future__ import annotations

from isom.ledger.queries.containers import (
    ContainerView,
    ContentView,
    EventView,
    LineView,
    container,
    event,
    subtree_codes,
)
from isom.ledger.queries.inventory import (
    DayBalance,
    InventoryPage,
    InventoryRow,
    PlaceLot,
    inventory,
    on_hand_history,
    place_lots,
    place_quantities,
)
from isom.ledger.queries.lookups import (
    StockLine,
    container_id,
    find_lot,
    floor_stock,
    lot_codes_in_use,
    wip_lines,
    wip_tags,
)
from isom.ledger.queries.lots import (
    Direction,
    GenealogyView,
    LotNode,
    RecallView,
    Shipment,
    genealogy,
    recall,
)

__all__ = [
    "StockLine",
    "floor_stock",
    "wip_lines",
    "wip_tags",
    "container_id",
    "find_lot",
    "lot_codes_in_use",
    "ContainerView",
    "ContentView",
    "DayBalance",
    "Direction",
    "EventView",
    "GenealogyView",
    "InventoryPage",
    "InventoryRow",
    "LineView",
    "LotNode",
    "PlaceLot",
    "RecallView",
    "Shipment",
    "container",
    "event",
    "genealogy",
    "inventory",
    "on_hand_history",
    "place_lots",
    "place_quantities",
    "recall",
    "subtree_codes",
]
