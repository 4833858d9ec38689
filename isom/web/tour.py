"""The screens of each person in the demo plant: what the screenshot command photographs and the
layout test checks at a tablet's 1024x768 and a phone's 390 pixels."""

from __future__ import annotations

from typing import NamedTuple


class Screen(NamedTuple):
    name: str  # the screenshot's file name, without extension
    user: str  # a demo log-in (isom.demo.DEMO_USERS)
    path: str


SCREENS: tuple[Screen, ...] = (
    Screen("operator-terminal", "operator", "/terminal"),
    Screen("clerk-warehouse", "clerk", "/warehouse"),
    Screen("clerk-inventory", "clerk", "/inventory"),
    Screen("clerk-container", "clerk", "/containers/R-1003"),
    Screen("supervisor-wip", "supervisor", "/wip"),
    Screen("supervisor-reports", "supervisor", "/reports?item=WIRE-0.5-RD"),
    Screen("quality-trace", "clerk", "/trace?item=WIRE-0.5-RD&lot=WR-2611-01"),
    Screen("admin-masterdata", "admin", "/masterdata?kind=items"),
    Screen("admin-item", "admin", "/masterdata/items/WIRE-0.5-RD"),
    Screen("admin-users", "admin", "/admin"),
)
