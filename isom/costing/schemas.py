"""What costing answers: a job's actual and standard cost and the variances between them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel


class CostLine(BaseModel):
    material: Decimal
    labour: Decimal
    machine: Decimal
    overhead: Decimal
    total: Decimal


class Variances(BaseModel):
    """Actual minus standard, split; the parts add up to `total` (within rounding to cents)."""

    material_price: Decimal
    material_usage: Decimal
    labour_efficiency: Decimal
    labour_rate: Decimal
    machine: Decimal
    scrap: Decimal
    overhead: Decimal
    total: Decimal


class JobCost(BaseModel):
    work_order: str
    status: str
    good_quantity: Decimal
    actual: CostLine
    standard: CostLine
    variances: Variances
    materials: list[dict[str, Any]]
    labour_minutes: Decimal
    machine_minutes: Decimal


class BatchCost(BaseModel):
    """One lot of a job's finished output: its share of the job's actual and standard cost."""

    work_order: str
    lot: str | None
    quantity: Decimal
    share: Decimal
    carried_value: Decimal
    actual: CostLine
    standard: CostLine
    variances: Variances


class StandardCost(BaseModel):
    item: str
    material: Decimal
    labour: Decimal
    machine: Decimal
    overhead: Decimal
    total: Decimal
    rolled_up: bool
