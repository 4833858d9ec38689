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
    Screen("planner-shortages", "planner", "/planning"),
    Screen("planner-projection", "planner", "/planning/items/HARN-JST-300"),
    Screen("accountant-costs", "accountant", "/costing"),
    Screen("accountant-job-cost", "accountant", "/costing/jobs/WO-000001"),
    Screen("planner-orders", "planner", "/orders"),
    Screen("planner-order", "planner", "/orders/SO-9002"),
    Screen("planner-agents", "planner", "/agents"),
    Screen("planner-schedule", "planner", "/planning/schedule"),
    Screen("planner-learned-times", "planner", "/learned-times"),
    Screen("buyer-purchasing", "buyer", "/purchasing"),
    Screen("quality-trace", "clerk", "/trace?item=WIRE-0.5-RD&lot=WR-2611-01"),
    Screen("integrator-reconciliation", "integrator", "/reconciliations"),
    Screen("admin-masterdata", "admin", "/masterdata?kind=items"),
    Screen("admin-item", "admin", "/masterdata/items/WIRE-0.5-RD"),
    Screen("admin-users", "admin", "/admin"),
    Screen("dc-clerk-dock", "dcclerk", "/dc/dock"),
    Screen("dc-clerk-waves", "dcclerk", "/dc/waves"),
    Screen("dc-kitter-kits", "kitter", "/dc/kits"),
)
