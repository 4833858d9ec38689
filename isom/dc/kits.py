"""Value-added service jobs: kitting and repacking on production's work orders.

A kit or a customer pack is an item whose route has one step; the intake agent makes its job
from the customer line like any other made item. The DC adds what the floor needs around it:
the step's BOM is picked from the shelves into a kit tote (`KT-<job>`, a ledger split per scan),
the operator scans badge and tote to start (the tote's lines are consumed into the step), and
stops with the good quantity into a new labelled container: an SSCC when the customer wants GS1
labels. The output lot is the job's number; its actual cost (material at the cost of the lots
consumed, labour from the scanned time) comes from costing; genealogy links the kit's lot to
every supplier lot that went in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.costing import services as costing
from isom.dc.terms import terms_of
from isom.devices import services as devices
from isom.errors import Conflict, NotFound
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import (
    Code,
    Command,
    CreateContainerCommand,
    Positive,
    QuantityLine,
    SplitCommand,
)
from isom.masterdata import services as md
from isom.masterdata.models import Item, Location, Workstation
from isom.orders import customer as orders_customer
from isom.orders.events import run_order_event
from isom.orders.reservations import stock_of
from isom.orders.schemas import OrderResult
from isom.production import queries as production_queries
from isom.production import services as production
from isom.production.schemas import ConsumeScan, StepScan, StopScan, WorkOrderView

Actor = ledger.Actor
ZERO = Decimal(0)
STEP = 10


class KitPick(Command):
    """A container scanned for a kit job: part of it goes into the job's kit tote."""

    work_order: Code
    container: Code
    quantity: Positive | None = Field(default=None, description="Defaults to what is still due.")


class KitStart(Command):
    """The operator scans badge and kit tote: the step starts and takes in the tote."""

    work_order: Code
    badge: Code
    workstation: Code


class KitFinish(Command):
    """The operator stops with the good quantity: the kits go into a new labelled container."""

    work_order: Code
    badge: Code
    good_quantity: Positive
    location: Code | None = None


class Source(BaseModel):
    container: str
    location: str | None
    lot: str | None
    free: Decimal


class KitLine(BaseModel):
    item: str
    need: Decimal
    in_tote: Decimal
    to_pick: Decimal
    sources: list[Source]


class JobHead(BaseModel):
    """What the floor sees of a one-step job: the heading of a kit sheet and of the VAS list."""

    work_order: str
    item: str
    quantity: Decimal
    status: str
    step_status: str
    customer_line: str | None

    @classmethod
    def fields_of(cls, job: WorkOrderView) -> dict[str, Any]:
        """The heading's fields from production's view of the job (its one step)."""
        return {
            "work_order": job.number,
            "item": job.item,
            "quantity": job.quantity,
            "status": job.status,
            "step_status": job.steps[0].status,
            "customer_line": job.customer_line,
        }


class KitSheet(JobHead):
    tote: str
    gs1_labels: bool
    lines: list[KitLine]
    output: list[str]
    cost_per_unit: Decimal | None


def tote_code(work_order: str) -> str:
    """The kit tote of a job: one per job, so the BOM picked for it stays together."""
    return f"KT-{work_order}"


def _in_tote(session: Session, tote: str) -> dict[str, Decimal]:
    found = ledger_queries.container_by_code(session, tote)
    rows = ledger_queries.lines_of(session, found.id, active_only=True) if found else []
    held: dict[str, Decimal] = {}
    for item_id, _, qty in rows:
        code = _item_code(session, item_id)
        held[code] = held.get(code, ZERO) + qty
    return held


def _item_code(session: Session, item_id: int) -> str:
    """An item's code from its id."""
    item = session.get(Item, item_id)
    return item.code if item else str(item_id)


def _gs1_wanted(session: Session, customer_line: str | None) -> bool:
    if not customer_line or "/" not in customer_line:
        return False
    order_no = customer_line.rsplit("/", 1)[0]
    try:
        order = orders_customer.get_customer_order(session, order_no)
    except NotFound:
        return False
    terms = terms_of(session, order.customer_id)
    return bool(terms and terms.gs1_labels)


def kit_sheet(session: Session, number: str) -> KitSheet:
    """What a kit job still needs in its tote, where to pick it (walking order), and its cost."""
    job = production_queries.work_order(session, number)
    if len(job.steps) != 1:
        raise Conflict(
            f"job {number} has {len(job.steps)} steps; a kit or repack job has one",
            field="work_order",
            expected="a job made by a one-step route",
        )
    step = job.steps[0]
    tote = tote_code(job.number)
    held = _in_tote(session, tote)
    consumed = step.status not in ("planned", "ready", "waiting")
    lines = []
    for inp in step.inputs:
        need = Decimal(inp["quantity"])
        have = held.get(inp["item"], ZERO)
        to_pick = ZERO if consumed else max(need - have, ZERO)
        lines.append(
            KitLine(
                item=inp["item"],
                need=need,
                in_tote=have,
                to_pick=to_pick,
                sources=_sources(session, inp["item"], tote) if to_pick > 0 else [],
            )
        )
    cost = costing.job_cost(session, job.number)
    per_unit = (
        (cost.actual.total / cost.good_quantity).quantize(Decimal("0.01"))
        if cost.good_quantity > 0
        else None
    )
    return KitSheet(
        **JobHead.fields_of(job),
        tote=tote,
        gs1_labels=_gs1_wanted(session, job.customer_line),
        lines=lines,
        output=_output(session, job.number),
        cost_per_unit=per_unit,
    )


def _sources(session: Session, item_code: str, tote: str) -> list[Source]:
    """Free stock of an item in walking order (by location code), never the tote itself."""
    item = md.get_item(session, item_code)
    out = []
    for s in stock_of(session, item):
        if s.container == tote or s.free <= 0:
            continue
        loc = ledger_queries.location_code_of(session, s.container_id)
        out.append(Source(container=s.container, location=loc, lot=s.lot, free=s.free))
    return sorted(out, key=lambda s: (s.location or "", s.container))


def _output(session: Session, number: str) -> list[str]:
    """The containers holding the job's output lot (its number)."""
    return ledger_queries.containers_with_lot_code(session, number)


def pick_for_kit(session: Session, actor: Actor, key: str, cmd: KitPick) -> OrderResult:
    """Take what the kit still needs from a scanned container into the job's kit tote."""

    def build(session: Session, actor: Actor, key: str, cmd: KitPick) -> OrderResult:
        sheet = kit_sheet(session, cmd.work_order)
        source = ledger_queries.container_by_code(session, cmd.container)
        if source is None or not sites.allows(source.site_id):
            raise NotFound(
                f"no container with code {cmd.container!r}",
                field="container",
                expected="the code on a label",
            )
        held = {
            _item_code(session, r.item_id): r for r in ledger_queries.lines_of(session, source.id)
        }
        due = [ln for ln in sheet.lines if ln.to_pick > 0 and ln.item in held]
        if not due:
            wanted = ", ".join(f"{ln.item} ({ln.to_pick})" for ln in sheet.lines if ln.to_pick > 0)
            raise Conflict(
                f"{source.code} holds nothing kit {sheet.work_order} still needs",
                field="container",
                expected=f"a container of: {wanted or 'nothing, the tote is complete'}",
            )
        line = due[0]
        row = held[line.item]
        qty = cmd.quantity if cmd.quantity is not None else min(line.to_pick, row.quantity)
        if qty > line.to_pick:
            raise Conflict(
                f"kit {sheet.work_order} needs only {line.to_pick} more {line.item}",
                field="quantity",
                expected=f"at most {line.to_pick}",
            )
        if ledger_queries.container_by_code(session, sheet.tote) is None:
            ledger.create_container(
                session,
                actor,
                f"{key}/tote",
                CreateContainerCommand(
                    occurred_at=cmd.occurred_at,
                    container=sheet.tote,
                    container_kind="tote",
                    location=_bench(session, cmd.work_order),
                ),
            )
        lot = (
            ledger_queries.lots_by_id(session, [row.lot_id]).get(row.lot_id) if row.lot_id else None
        )
        ledger.split(
            session,
            actor,
            f"{key}/split",
            SplitCommand(
                occurred_at=cmd.occurred_at,
                container=source.code,
                into=sheet.tote,
                lines=[QuantityLine(item=line.item, lot=lot.code if lot else None, quantity=qty)],
            ),
        )
        return OrderResult(
            number=sheet.work_order,
            status="picking",
            detail={"item": line.item, "quantity": str(qty), "tote": sheet.tote},
        )

    return run_order_event(session, actor, key, "dc.kit.pick", cmd, build)


def _bench(session: Session, number: str) -> str:
    """Where a job's kit tote waits: at a bench of the step's kind, so what is in it is floor
    stock there and no ship order or other kit takes it."""
    kind = production_queries.work_order(session, number).steps[0].workstation_kind
    where = session.scalar(
        select(Location.code)
        .join(Workstation, Workstation.location_id == Location.id)
        .where(Workstation.kind == kind, Workstation.active.is_(True))
        .order_by(Workstation.code)
        .limit(1)
    )
    if where is None:
        raise Conflict(
            f"no {kind} bench has a location for the kit tote of {number}",
            field="work_order",
            expected=f"an active workstation of kind {kind} with a location",
        )
    return where


def _scan(cmd: KitStart | KitFinish, sheet: KitSheet) -> dict[str, Any]:
    """What every production scan of a kit names: when, who, the job and its one step."""
    return {
        "occurred_at": cmd.occurred_at,
        "badge": cmd.badge,
        "work_order": sheet.work_order,
        "step": STEP,
    }


def start_kit(session: Session, actor: Actor, key: str, cmd: KitStart) -> OrderResult:
    """Start the kit step by badge (labour runs from here) and take in the whole kit tote."""

    def build(session: Session, actor: Actor, key: str, cmd: KitStart) -> OrderResult:
        sheet = kit_sheet(session, cmd.work_order)
        short = [f"{ln.item} ({ln.to_pick})" for ln in sheet.lines if ln.to_pick > 0]
        if short:
            raise Conflict(
                f"kit tote {sheet.tote} still lacks {', '.join(short)}",
                field="work_order",
                expected="a kit tote holding the whole BOM",
            )
        production.start_step(
            session,
            actor,
            f"{key}/start",
            StepScan(**_scan(cmd, sheet), workstation=cmd.workstation),
        )
        for i, ln in enumerate(sheet.lines):
            production.consume_scan(
                session,
                actor,
                f"{key}/consume/{i}",
                ConsumeScan(
                    **_scan(cmd, sheet), container=sheet.tote, item=ln.item, quantity=ln.need
                ),
            )
        return OrderResult(number=sheet.work_order, status="running", detail={"tote": sheet.tote})

    return run_order_event(session, actor, key, "dc.kit.start", cmd, build)


def finish_kit(session: Session, actor: Actor, key: str, cmd: KitFinish) -> OrderResult:
    """Stop the step: the kits go into a new container, an SSCC when the customer wants GS1."""

    def build(session: Session, actor: Actor, key: str, cmd: KitFinish) -> OrderResult:
        sheet = kit_sheet(session, cmd.work_order)
        code = None
        if sheet.gs1_labels:
            site = _site_of_job(session, sheet)
            code = devices.allocate_sscc(session, actor, f"{key}/sscc", site).sscc
        result = production.stop_step(
            session,
            actor,
            f"{key}/stop",
            StopScan(
                **_scan(cmd, sheet),
                good_quantity=cmd.good_quantity,
                new_container=code,
                location=cmd.location,
            ),
        )
        made = str(result.detail.get("container"))
        return OrderResult(
            number=sheet.work_order,
            status=result.work_order_status or "",
            detail={"container": made, "lot": sheet.work_order, "gs1": sheet.gs1_labels},
        )

    return run_order_event(session, actor, key, "dc.kit.finish", cmd, build)


def _site_of_job(session: Session, sheet: KitSheet) -> str:
    """The site whose SSCC range labels the kits: the site of the kit tote."""
    tote = ledger_queries.container_by_code(session, sheet.tote)
    site = session.get(Location, tote.site_id) if tote and tote.site_id else None
    if site is None:
        raise Conflict(
            f"kit tote {sheet.tote} is not at a site", field="work_order", expected="a kit tote"
        )
    return site.code


VAS_KINDS = frozenset({"kitting", "repack"})


class VasJob(JobHead):
    due_date: str
    operation: str


def open_vas_jobs(session: Session) -> list[VasJob]:
    """Open kitting and repack jobs (one step at a kitting bench or repack table), due first."""
    out = []
    for j in production_queries.open_jobs(session):
        view = production_queries.work_order(session, j.number)
        if len(view.steps) == 1 and view.steps[0].workstation_kind in VAS_KINDS:
            out.append(
                VasJob(
                    **JobHead.fields_of(view),
                    due_date=view.due_date.isoformat(),
                    operation=view.steps[0].operation,
                )
            )
    return sorted(out, key=lambda v: (v.due_date, v.work_order))
