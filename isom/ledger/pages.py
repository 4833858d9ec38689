"""The ledger's pages: inventory, containers and lot trace for every reader, and the supervisor's
page of counts beyond tolerance: approve (applied once, through the ledger) or reject with a
reason. Clerks see what waits; only supervisors decide."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from isom.errors import Forbidden, InvalidInput, IsomError
from isom.ledger import counts, queries
from isom.ledger.models import ContentStatus, CountProposalStatus
from isom.ledger.schemas import CountProposalView
from isom.masterdata import services as md
from isom.masterdata.models import Unit
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import PAGE_SIZE, check_csrf, error_page, fmt_qty, fmt_utc, guarded, render

router = APIRouter(include_in_schema=False)
DECIDERS = frozenset({"supervisor"})


@router.get("/counts")
def counts_page(request: Request, principal: Caller, db: Db) -> Response:
    """Counts awaiting approval, and the last ones decided."""

    def build() -> Response:
        def read(s: Session) -> tuple[list[CountProposalView], ...]:
            pending = counts.proposals(s, status=CountProposalStatus.pending)
            decided = [p for p in counts.proposals(s) if p.status != "pending"][-20:]
            return pending, decided[::-1]

        pending, decided = db.read(read)
        return render(
            request,
            "counts.html",
            principal,
            pending=pending,
            decided=decided,
            may_decide=principal.has_any(DECIDERS),
        )

    return guarded(request, principal, build)


@router.post("/counts/{proposal_id}")
def decide_count(
    request: Request,
    proposal_id: int,
    principal: Caller,
    db: Db,
    action: str = Form(default=""),
    reason: str = Form(default="", max_length=500),
    csrf_token: str = Form(default=""),
) -> Response:
    """Approve or reject a count from the page; back to the list."""
    try:
        check_csrf(principal, csrf_token)
        if not principal.has_any(DECIDERS):
            raise Forbidden(f"{principal.name} may not approve counts (supervisors)")
        if action == "approve":
            db.write(lambda s: counts.approve(s, actor_of(principal), proposal_id))
        elif action == "reject" and reason.strip():
            db.write(lambda s: counts.reject(s, actor_of(principal), proposal_id, reason.strip()))
        else:
            raise InvalidInput("say why the count is rejected", field="reason", expected="a reason")
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse("/counts", status_code=303)


# --- inventory, containers, lot trace -----------------------------------------------------------


def _units(session: Session, item_codes: Iterable[str]) -> dict[str, str]:
    """The base unit of each item, so every quantity on a page shows its unit."""
    out: dict[str, str] = {}
    for code in set(item_codes):
        try:
            item = md.get_item(session, code)
        except IsomError:
            continue  # an inactive item: show the bare quantity rather than fail the page
        unit = session.get(Unit, item.base_unit_id)
        if unit is not None:
            out[code] = unit.code
    return out


#: A code typed into a page's filter: optional, as long as a code may be.
CodeFilter = Annotated[str | None, Query(max_length=64)]


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@router.get("/inventory")
def inventory_page(
    request: Request,
    principal: Caller,
    db: Db,
    item: CodeFilter = None,
    location: CodeFilter = None,
    lot: CodeFilter = None,
    status: str | None = Query(default=None, max_length=20),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> Response:
    """Inventory by item, location, lot and status, filtered from the query string."""
    filters = {
        "item": _blank(item),
        "location": _blank(location),
        "lot": _blank(lot),
        "status": _blank(status),
    }

    def build() -> Response:
        error: IsomError | None = None
        page: queries.InventoryPage | None = None
        units: dict[str, str] = {}
        try:
            wanted = ContentStatus(filters["status"]) if filters["status"] else None
        except ValueError:
            error = InvalidInput(
                f"unknown status {filters['status']!r}",
                field="status",
                expected=", ".join(s.value for s in ContentStatus),
            )
        if error is None:
            try:
                page = db.read(
                    lambda s: queries.inventory(
                        s,
                        item=filters["item"],
                        location=filters["location"],
                        lot=filters["lot"],
                        status=wanted,
                        limit=PAGE_SIZE,
                        offset=offset,
                    )
                )
                units = {r.item: r.unit for r in page.rows}
            except IsomError as exc:
                error = exc
        return render(
            request,
            "inventory.html",
            principal,
            status_code=error.status_code if error else 200,
            page=page,
            units=units,
            filters=filters,
            error=error,
            offset=offset,
            page_size=PAGE_SIZE,
            statuses=[s.value for s in ContentStatus],
        )

    return guarded(request, principal, build)


@router.get("/containers")
def container_search(_: Caller, code: str = Query(default="", max_length=64)) -> Response:
    """The nav's search box: go to the container with this code."""
    code = code.strip()
    if not code:
        return RedirectResponse("/inventory", status_code=303)
    return RedirectResponse(f"/containers/{quote(code, safe='/')}", status_code=303)


@router.get("/containers/{code:path}")
def container_page(request: Request, code: str, principal: Caller, db: Db) -> Response:
    """A container: contents, what is nested in it, and its full history with lines."""

    def load(s: Session) -> tuple[queries.ContainerView, dict[str, str]]:
        view = queries.container(s, code)
        line_items = {ln.item for ev in view.history for ln in ev.lines}
        return view, _units(s, line_items)

    def build() -> Response:
        view, units = db.read(load)
        return render(request, "container.html", principal, c=view, units=units)

    return guarded(request, principal, build)


@router.get("/trace")
def trace_page(
    request: Request, principal: Caller, db: Db, item: CodeFilter = None, lot: CodeFilter = None
) -> Response:
    """Lot trace: where a lot came from, what it went into, and who received it."""
    item_code, lot_code = _blank(item), _blank(lot)

    def load(s: Session) -> dict[str, Any]:
        assert item_code is not None and lot_code is not None
        backward = queries.genealogy(s, item_code, lot_code, "backward")
        forward = queries.genealogy(s, item_code, lot_code, "forward")
        recall = queries.recall(s, item_code, lot_code)
        codes = {item_code} | {n.item for n in backward.nodes} | {n.item for n in forward.nodes}
        recall_items = {str(x["item"]) for x in recall.lots}
        codes |= {sh.item for sh in recall.shipments} | recall_items
        units = _units(s, codes)
        # A container's quantity sums every lot reached; it has one unit only if one item does.
        recall_unit = units.get(recall_items.pop()) if len(recall_items) == 1 else None
        return {
            "backward": backward,
            "forward": forward,
            "recall": recall,
            "units": units,
            "recall_unit": recall_unit,
        }

    def build() -> Response:
        context: dict[str, Any] = {"item": item_code or "", "lot": lot_code or "", "error": None}
        status_code = 200
        if item_code and lot_code:
            try:
                context.update(db.read(load))
            except IsomError as exc:
                context["error"] = exc
                status_code = exc.status_code
        elif item_code or lot_code:
            context["error"] = InvalidInput(
                "give both the item and the lot", field="lot" if item_code else "item"
            )
            status_code = 422
        return render(request, "trace.html", principal, status_code=status_code, **context)

    return guarded(request, principal, build)


@router.get("/trace.csv")
def trace_csv(
    request: Request,
    principal: Caller,
    db: Db,
    item: str = Query(min_length=1, max_length=64),
    lot: str = Query(min_length=1, max_length=64),
) -> Response:
    """The recall report as a file for the quality team: every container and shipment reached."""

    def build() -> Response:
        recall = db.read(lambda s: queries.recall(s, item, lot))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "kind",
                "container",
                "item",
                "lot",
                "quantity",
                "status",
                "location",
                "customer",
                "date",
                "reference",
            ]
        )
        for row in recall.containers:
            writer.writerow(
                [
                    "container",
                    row["container"],
                    recall.item,
                    "",
                    fmt_qty(row["quantity_now"]),
                    row["status"],
                    row["location"] or "",
                    "",
                    "",
                    "",
                ]
            )
        for sh in recall.shipments:
            writer.writerow(
                [
                    "shipment",
                    sh.container,
                    sh.item,
                    sh.lot or "",
                    fmt_qty(abs(sh.quantity)),
                    "",
                    "",
                    sh.customer,
                    fmt_utc(sh.shipped_at),
                    sh.reference or "",
                ]
            )
        for step in recall.steps:
            writer.writerow(["job step", "", "", "", "", "", "", "", "", step])
        filename = f"recall-{item}-{lot}.csv".replace('"', "")
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return guarded(request, principal, build)
