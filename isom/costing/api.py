"""Costing endpoints: a job's actual cost against standard, and standard cost roll-ups."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.costing import services as costing
from isom.costing.schemas import BatchCost, JobCost, StandardCost
from isom.toolkit.commands import PROBLEMS
from isom.toolkit.deps import Db, require_roles
from isom.types import PlainDecimal

router = APIRouter(tags=["costing"])
COST_READERS = (Role.accountant, Role.supervisor, Role.planner)


@router.get("/costing/jobs/{number}", response_model=JobCost, responses=PROBLEMS)
def job_cost(
    db: Db, number: str = Path(max_length=40), _: Principal = Depends(require_roles(*COST_READERS))
) -> JobCost:
    """A job's actual material, labour, machine and overhead cost against standard."""
    return db.read(lambda s: costing.job_cost(s, number))


@router.get("/costing/jobs/{number}/batches", response_model=list[BatchCost], responses=PROBLEMS)
def batch_costs(
    db: Db, number: str = Path(max_length=40), _: Principal = Depends(require_roles(*COST_READERS))
) -> list[BatchCost]:
    """Cost per batch (each lot of the job's finished output) against standard, with variances."""
    return db.read(lambda s: costing.batch_costs(s, number))


@router.get("/costing/standard/{item}", response_model=StandardCost, responses=PROBLEMS)
def standard_cost(
    db: Db, item: str = Path(max_length=64), _: Principal = Depends(require_roles(*COST_READERS))
) -> StandardCost:
    """Standard cost per unit of an item, rolled up through its route and made inputs."""
    return db.read(lambda s: costing.standard_cost(s, item))


class OverheadIn(BaseModel):
    hourly_rate: PlainDecimal = Field(ge=0, max_digits=18, decimal_places=6)


@router.put("/costing/overhead/{workstation}", responses=PROBLEMS)
def set_overhead(
    body: OverheadIn,
    db: Db,
    workstation: str = Path(max_length=64),
    _: Principal = Depends(require_roles(Role.accountant, Role.supervisor)),
) -> dict[str, str]:
    """Set the overhead charged per hour a job spends on a workstation."""
    db.write(lambda s: costing.set_overhead_rate(s, workstation, body.hourly_rate))
    return {"workstation": workstation, "hourly_rate": str(body.hourly_rate)}
