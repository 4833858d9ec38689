"""The scanning screens: the operator's terminal and the warehouse flows.

Each is one scan field, big buttons and a queue that survives the network (static/scanqueue.js).
The browser sends every action to the same endpoints a device uses, each with an idempotency key
made at the moment of the scan; a scan queued while the network is down is sent when it returns,
and the key makes a resend harmless. The terminal page carries what it needs to keep working
offline: the workstations and the badges it may greet.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from isom.auth.models import Role
from isom.errors import Forbidden
from isom.masterdata import services as md
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import error_page, render

router = APIRouter(include_in_schema=False)

TERMINAL_ROLES = frozenset({Role.operator.value, Role.supervisor.value})
WAREHOUSE_ROLES = frozenset({Role.clerk.value, Role.supervisor.value})
JOB_PATTERN = r"^WO-\d+(/\d+)?$"  # a job, or a job step as the ledger names it: WO-000004/10
SCRAP_REASONS = (
    "damaged material",
    "wrong length",
    "bad crimp",
    "failed test",
    "setup piece",
    "other",
)


@router.get("/terminal")
def terminal_page(request: Request, principal: Caller, db: Db) -> Response:
    """The scan terminal for a workstation; which one is remembered by the browser."""
    if not principal.has_any(TERMINAL_ROLES):
        return error_page(
            request,
            principal,
            Forbidden(f"{principal.name} may not use the scan terminal (operators, supervisors)"),
        )

    def directory(session: Session) -> dict[str, object]:
        return {
            "workstations": [
                {"code": w.code, "name": w.name, "operations": list(w.operations)}
                for w in md.active_workstations(session)
            ],
            "people": {
                str(p.badge_code): {"name": p.name, "skills": list(p.skills)}
                for p in md.badge_holders(session)
            },
        }

    floor = db.read(directory)
    return render(
        request,
        "terminal.html",
        principal,
        floor=floor,
        scrap_reasons=list(SCRAP_REASONS),
        job_pattern=JOB_PATTERN,
    )


@router.get("/warehouse")
def warehouse_page(request: Request, principal: Caller) -> Response:
    """Receive against a PO, put away, move, nest, split, merge, count, hold, release, pick,
    pack and ship, each by scanning."""
    if not principal.has_any(WAREHOUSE_ROLES):
        return error_page(
            request,
            principal,
            Forbidden(f"{principal.name} may not use the warehouse flows (clerks, supervisors)"),
        )
    return render(request, "warehouse.html", principal)
