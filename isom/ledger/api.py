"""Ledger endpoints: every material change, and the inventory, container and trace queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from isom.auth.models import Role
from isom.auth.services import Principal, validate_roles
from isom.ledger import batch, counts, cutting, queries
from isom.ledger import services as ledger
from isom.ledger.models import ContentStatus, CountProposalStatus
from isom.ledger.schemas import (
    MAX_ID,
    AdjustCommand,
    ConsumeCommand,
    CountCommand,
    CountProposalView,
    CountRuleIn,
    CountRuleView,
    CreateContainerCommand,
    EventResult,
    HoldCommand,
    MergeCommand,
    MoveCommand,
    NestCommand,
    ProduceCommand,
    ReceiveCommand,
    RejectCount,
    ReleaseCommand,
    ReturnCommand,
    ReverseCommand,
    ScrapCommand,
    ShipCommand,
    SplitCommand,
    UnnestCommand,
)
from isom.toolkit import deps
from isom.toolkit.commands import (
    PROBLEMS,
    actor_of,
    answer_replay,
    apply_command,
    command_routes,
)
from isom.toolkit.deps import READERS, Db, Key, Reader, require_roles

router = APIRouter(tags=["ledger"])

R = Role
WAREHOUSE = (R.clerk, R.supervisor, R.device)
FLOOR = (R.clerk, R.operator, R.supervisor, R.device)
PRODUCTION = (R.operator, R.supervisor, R.device)


#: A count proposal named in a path, and the supervisor who decides it.
ProposalId = Annotated[int, Path(gt=0, le=MAX_ID)]
Supervisor = Annotated[Principal, Depends(require_roles(R.supervisor))]

_mount = command_routes(router, EventResult, prefix="/ledger", name="ledger")

#: What the batch door takes: every single command endpoint below, by its path.
BATCH_OPERATIONS: dict[str, batch.BatchOperation] = {}


#: A ledger operation as a door calls it: session, actor, idempotency key, command.
Operation = Callable[[Session, ledger.Actor, str, Any], EventResult]


def _endpoint(
    path: str,
    operation: Operation,
    command_type: type[BaseModel],
    roles: tuple[Role, ...],
    summary: str,
    **more: Any,
) -> None:
    BATCH_OPERATIONS[path] = batch.BatchOperation(
        operation, command_type, frozenset(r.value for r in roles), more.get("accepted")
    )
    _mount(path, operation, command_type, roles, summary, grouped=True, **more)


#: The command endpoints in the order the API lists them: path, operation, command, roles, summary.
_COMMANDS: tuple[tuple[str, Operation, type[BaseModel], tuple[Role, ...], str], ...] = (
    ("receive", ledger.receive, ReceiveCommand, WAREHOUSE, "Receive a new container"),
    (
        "create-container",
        ledger.create_container,
        CreateContainerCommand,
        FLOOR,
        "Register an empty container",
    ),
    ("move", ledger.move, MoveCommand, FLOOR, "Put away or move a container"),
    ("nest", ledger.nest, NestCommand, FLOOR, "Nest a container in another"),
    ("unnest", ledger.unnest, UnnestCommand, FLOOR, "Un-nest a container"),
    ("split", ledger.split, SplitCommand, FLOOR, "Split part of a container off"),
    ("merge", ledger.merge, MergeCommand, FLOOR, "Merge a container into another"),
    ("adjust", ledger.adjust, AdjustCommand, (R.supervisor,), "Adjust a quantity"),
    (
        "count",
        ledger.count,
        CountCommand,
        WAREHOUSE,
        "Record a physical count (beyond the site's tolerance: 202, awaiting approval)",
    ),
    ("hold", ledger.hold, HoldCommand, (R.clerk, R.operator, R.supervisor), "Put on hold"),
    ("release", ledger.release, ReleaseCommand, (R.supervisor,), "Release a hold"),
    ("consume", ledger.consume, ConsumeCommand, PRODUCTION, "Consume into a step"),
    ("produce", ledger.produce, ProduceCommand, PRODUCTION, "Produce out of a step"),
    (
        "return",
        ledger.return_to_stock,
        ReturnCommand,
        PRODUCTION,
        "Return unused material or WIP of a step to stock",
    ),
    ("cut", cutting.cut, cutting.CutCommand, PRODUCTION, "Cut a piece from a reel into a step"),
    (
        "remnant",
        cutting.dispose_remnant,
        cutting.RemnantCommand,
        PRODUCTION,
        "Keep a reel's remnant as an offcut, or scrap it",
    ),
    ("scrap", ledger.scrap, ScrapCommand, (R.operator, R.supervisor), "Scrap material"),
    ("ship", ledger.ship, ShipCommand, (R.clerk, R.supervisor), "Ship a container"),
    ("reverse", ledger.reverse, ReverseCommand, (R.supervisor,), "Reverse an event"),
)
#: What only the count endpoint says: a count beyond the site's tolerance waits for approval.
_MORE: dict[str, dict[str, Any]] = {
    "count": {
        "accepted": lambda result: bool(result.detail.get("pending")),
        "responses": {
            202: {"description": "Beyond the site's tolerance: recorded, awaiting approval"}
        },
    }
}
for _path, _operation, _command, _roles, _summary in _COMMANDS:
    _endpoint(_path, _operation, _command, _roles, _summary, **_MORE.get(_path, {}))


@router.post(
    "/ledger/batch",
    responses={**PROBLEMS, 413: {"description": "More than the batch door takes"}},
    summary="Apply many ledger commands in one transaction, each answered on its own",
)
async def apply_batch(
    body: batch.BatchIn, db: Db, principal: Principal = Depends(require_roles(*FLOOR))
) -> batch.BatchOut:
    """Each command carries its own key and gets the answer its own request would get (201,
    200 for a replay, 202, or its problem), in order; a refused one changes nothing. The
    batch is committed with the commands other callers send meanwhile (group commit)."""

    def work(session: Session) -> batch.BatchOut:
        return batch.apply(session, actor_of(principal), body.commands, BATCH_OPERATIONS)

    return await apply_command(db, work, grouped=True, one_command=False)


@router.get("/ledger/count-proposals", responses=PROBLEMS, summary="Counts awaiting approval")
def count_proposals(
    db: Db,
    status: CountProposalStatus | None = Query(default=CountProposalStatus.pending),
    _: Principal = Depends(require_roles(*WAREHOUSE)),
) -> list[CountProposalView]:
    """Counts beyond tolerance, oldest first: pending by default, or of one status."""
    return db.read(lambda s: counts.proposals(s, status=status))


@router.post(
    "/ledger/count-proposals/{proposal_id}/approve",
    status_code=201,
    responses={200: {"description": "Approved before: the same answer"}, **PROBLEMS},
    summary="Approve a count beyond tolerance",
)
def approve_count(
    response: Response, db: Db, _key: Key, proposal_id: ProposalId, principal: Supervisor
) -> EventResult:
    """Apply the count's difference through the ledger, once: the ledger event's key is the
    proposal's, so any second approval (whatever its Idempotency-Key) replays the first."""
    result = db.write(lambda s: counts.approve(s, actor_of(principal), proposal_id))
    answer_replay(response, result.replayed)
    return result


@router.post(
    "/ledger/count-proposals/{proposal_id}/reject",
    responses=PROBLEMS,
    summary="Reject a count beyond tolerance",
)
def reject_count(
    body: RejectCount, db: Db, _key: Key, proposal_id: ProposalId, principal: Supervisor
) -> CountProposalView:
    """Turn the count down with a reason; nothing in the container changes."""
    return db.write(lambda s: counts.reject(s, actor_of(principal), proposal_id, body.reason))


@router.get("/ledger/count-rules/{site}", responses=PROBLEMS, summary="A site's count tolerance")
def count_rule(site: str, _: Reader, db: Db) -> CountRuleView:
    """The tolerance in force at a site and who may count beyond it."""
    return db.read(lambda s: counts.rule(s, site))


@router.put("/ledger/count-rules/{site}", responses=PROBLEMS, summary="Set a site's tolerance")
def set_count_rule(
    site: str, body: CountRuleIn, db: Db, principal: Principal = Depends(require_roles(R.admin))
) -> CountRuleView:
    """Set how far a count may move the book on its own, and who may exceed that."""
    validate_roles(list(body.exceed_roles), field="exceed_roles")
    return db.write(lambda s: counts.set_rule(s, actor_of(principal), site, body))


@router.get("/inventory", responses=PROBLEMS, summary="Inventory by item, location, lot, status")
async def inventory(
    _: Reader,
    db: Db,
    item: str | None = Query(default=None, max_length=64, description="Item code"),
    location: str | None = Query(
        default=None, max_length=64, description="Location code; includes everything below it"
    ),
    lot: str | None = Query(default=None, max_length=64, description="Lot code"),
    status: ContentStatus | None = Query(default=None),
    limit: int = Query(default=500, ge=1, le=5000),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> queries.InventoryPage:
    """The derived quantity of each item per location, lot and status."""
    return await deps.read(
        db,
        lambda s: queries.inventory(
            s, item=item, location=location, lot=lot, status=status, limit=limit, offset=offset
        ),
    )


@router.get("/containers/{code}", responses=PROBLEMS, summary="A container")
async def container(
    code: str, db: Db, _: Principal = Depends(require_roles(*READERS, R.device))
) -> queries.ContainerView:
    """A container with its contents, what is nested in it, and its full history."""
    return await deps.read(db, lambda s: queries.container(s, code))


@router.get("/events/{event_id}", responses=PROBLEMS, summary="One ledger event")
def event(
    _: Reader, db: Db, event_id: int = Path(gt=0, le=MAX_ID, description="The event's sequence id")
) -> queries.EventView:
    """An event with its lines, exactly as it was applied."""
    return db.read(lambda s: queries.event(s, event_id))


@router.get("/lots/{item}/{lot}/genealogy", responses=PROBLEMS, summary="Lot genealogy")
def genealogy(
    item: str, lot: str, _: Reader, db: Db, direction: queries.Direction = Query(default="backward")
) -> queries.GenealogyView:
    """Where a lot came from (backward) or what it went into (forward), at every depth."""
    return db.read(lambda s: queries.genealogy(s, item, lot, direction))


@router.get("/lots/{item}/{lot}/recall", responses=PROBLEMS, summary="Recall report")
def recall(item: str, lot: str, _: Reader, db: Db) -> queries.RecallView:
    """Every container, job, shipment and customer a lot (and what was made from it) reached."""
    return db.read(lambda s: queries.recall(s, item, lot))
