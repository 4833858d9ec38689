"""Master data services: look-ups the other domains call, and upserts by code."""

from __future__ import annotations

from isom.masterdata.services.lookups import (
    active_workstations,
    badge_holders,
    check_precision,
    find_by_code,
    get_customer,
    get_item,
    get_location,
    get_supplier,
    get_unit,
    location_subtree_prefix,
    to_base_quantity,
    unit_decimals,
)
from isom.masterdata.services.upserts import (
    upsert_calendar,
    upsert_customer,
    upsert_global_conversion,
    upsert_item,
    upsert_location,
    upsert_person,
    upsert_route,
    upsert_supplier,
    upsert_supplier_item,
    upsert_unit,
    upsert_workstation,
)

__all__ = [
    "active_workstations",
    "badge_holders",
    "check_precision",
    "find_by_code",
    "get_customer",
    "get_item",
    "get_location",
    "get_supplier",
    "get_unit",
    "location_subtree_prefix",
    "to_base_quantity",
    "unit_decimals",
    "upsert_calendar",
    "upsert_customer",
    "upsert_global_conversion",
    "upsert_item",
    "upsert_location",
    "upsert_person",
    "upsert_route",
    "upsert_supplier",
    "upsert_supplier_item",
    "upsert_unit",
    "upsert_workstation",
]
