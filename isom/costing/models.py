"""Costing settings: the overhead rate per workstation hour. Its table (`cost_overhead_rate`) is
declared beside the workstation in master data, so production reads it without importing
costing; costing sets it (`services.set_overhead_rate`)."""

from __future__ import annotations

from isom.masterdata.models import OverheadRate as OverheadRate
