"""ISA-95 / B2MML V0700 messages to the ERP: `SyncMaterialLot` (inventory by lot) and
`SyncOperationsPerformance` (production results per job and route step).

A material lot is a lot of an item; each container holding it is a `MaterialSubLot` (its ID is
the container code, an SSCC where it has one) with its status, storage location and quantity.
Element order follows the schema (in a lot: `MaterialSubLot` before `StorageLocation` and
`Quantity`). The BODID is derived from the feed position and the filter, so the same
snapshot sent twice carries the same BODID and the ERP drops the second. A
`SyncOperationsPerformance` BODID is derived from its DataArea: the same results sent twice
carry the same BODID.

The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.costing.services import cents
from isom.errors import InvalidInput, NotFound
from isom.integration import epcis, feed
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.enums import EventKind
from isom.ledger.posting import plain
from isom.masterdata import services as md
from isom.masterdata.models import Item, Person, Unit, Workstation
from isom.production import rows as production_rows
from isom.production import timekeeping
from isom.production.enums import MaterialRole, StepStatus, WorkOrderStatus
from isom.production.rows import JobRow, StepRow
from isom.types import utcnow

NS = "http://www.mesa.org/xml/B2MML"
RELEASE_ID = "0700"
SENDER = "ISOM"
_BOD_NS = uuid.UUID("6f1c1e04-5d0a-4f39-9a59-2b1f0e3c7a11")
ACTIONS = ("Add", "Change", "Delete")

ET.register_namespace("", NS)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def uom(unit: str) -> str:
    """UN/ECE Recommendation 20 code of a unit (counted units are C62, 'one')."""
    return epcis.uom_of(unit) or "C62"


def _quantity(parent: ET.Element, quantity: Decimal, unit: str) -> None:
    q = _el(parent, "Quantity")
    _el(q, "QuantityString", plain(quantity))
    _el(q, "DataType", "decimal")
    _el(q, "UnitOfMeasure", uom(unit))


def application_area(root: ET.Element, bod_id: str, created: dt.datetime) -> None:
    area = _el(root, "ApplicationArea")
    sender = _el(area, "Sender")
    _el(sender, "LogicalID", SENDER)
    _el(area, "CreationDateTime", created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"))
    _el(area, "BODID", bod_id)


def sync_material_lot(
    session: Session,
    *,
    item: str | None = None,
    action: str = "Change",
    created: dt.datetime | None = None,
) -> str:
    """The inventory of every lot (or one item's lots) as a `SyncMaterialLot` BOD."""
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown action {action!r}", field="action", expected="Add, Change, Delete"
        )
    item_id = md.get_item(session, item).id if item is not None else None
    lots: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in ledger_queries.lot_stock(session, item_id):
        lots[(row.item, row.lot)].append(row)
    head = feed.head(session)
    bod_id = str(uuid.uuid5(_BOD_NS, f"SyncMaterialLot|{head}|{item or '*'}|{action}"))
    root = ET.Element(f"{{{NS}}}SyncMaterialLot", {"releaseID": RELEASE_ID})
    application_area(root, bod_id, created or dt.datetime.now(dt.UTC))
    data = _el(root, "DataArea")
    sync = _el(data, "Sync")
    criteria = _el(sync, "ActionCriteria")
    _el(criteria, "ActionExpression", "/MaterialLot", actionCode=action)
    for (item_code, lot_code), rows in lots.items():
        name, unit, expiry, supplier_lot = rows[0][1], rows[0][2], rows[0][4], rows[0][5]
        lot = _el(data, "MaterialLot")
        _el(lot, "ID", lot_code)
        _el(lot, "Description", name)
        _el(lot, "MaterialDefinitionID", item_code)
        if expiry is not None:
            prop = _el(lot, "MaterialLotProperty")
            _el(prop, "ID", "ExpiryDate")
            value = _el(prop, "Value")
            _el(value, "ValueString", expiry.isoformat())
            _el(value, "DataType", "date")
        if supplier_lot:
            prop = _el(lot, "MaterialLotProperty")
            _el(prop, "ID", "SupplierLot")
            value = _el(prop, "Value")
            _el(value, "ValueString", supplier_lot)
            _el(value, "DataType", "string")
        total = Decimal(0)
        for row in rows:
            sub = _el(lot, "MaterialSubLot")
            _el(sub, "ID", row[6], schemeID="SSCC" if epcis.is_sscc(row[6]) else "ISOM")
            _el(sub, "Status", row[8].value)
            if row[7]:
                _el(sub, "StorageLocation", row[7])
            _quantity(sub, row[9], unit)
            total += row[9]
        _quantity(lot, total, unit)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


# --- SyncOperationsPerformance: production results per job and route step -----------------

_WO_STATE = {
    WorkOrderStatus.planned: "Ready",
    WorkOrderStatus.released: "Ready",
    WorkOrderStatus.in_progress: "Running",
    WorkOrderStatus.complete: "Completed",
    WorkOrderStatus.closed: "Completed",
    WorkOrderStatus.cancelled: "Aborted",
}
_STEP_STATE = {
    StepStatus.waiting: "Ready",
    StepStatus.ready: "Ready",
    StepStatus.running: "Running",
    StepStatus.paused: "Paused",
    StepStatus.done: "Completed",
}
_HOURS = Decimal("0.0001")


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _data(parent: ET.Element, name: str, value: Decimal, unit: str | None) -> None:
    node = _el(parent, "SegmentData")
    _el(node, "ID", name)
    v = _el(node, "Value")
    _el(v, "ValueString", plain(value))
    _el(v, "DataType", "decimal")
    if unit:
        _el(v, "UnitOfMeasure", unit)


def _hours(parent: ET.Element, minutes: Decimal) -> None:
    q = _el(parent, "Quantity")
    _el(q, "QuantityString", plain((minutes / 60).quantize(_HOURS)))
    _el(q, "DataType", "decimal")
    _el(q, "UnitOfMeasure", "HUR")


def _step_materials(
    session: Session, wo: JobRow, step: StepRow
) -> tuple[list[tuple[str, str, str | None, str, Decimal, str]], Decimal, str]:
    """(use, item, lot, container, quantity, unit) per container line into or out of a step.

    A consume's container lines are material consumed, a produce's are produced (the main
    output) or by-product produced (anything else); a reversal nets against what it reverses.
    Also answers the value of the inputs consumed (quantity x the unit cost they carried)
    and the UN/ECE unit of the step's main output.
    """
    place = ledger.step_place(f"{wo.number}/{step.sequence}")
    main = next(
        (m.item_id for m in production_rows.materials(session, [step.id], role=MaterialRole.main)),
        None,
    )
    rows = ledger_queries.place_event_lines(session, place)
    sums: dict[tuple[str, str, str | None, str, str], Decimal] = defaultdict(Decimal)
    value = Decimal(0)
    for kind, item_id, item, lot, cont, qty, cost, unit in rows:
        if kind is EventKind.consume:
            use = "Consumed"
            value -= qty * cost
        elif kind is EventKind.produce:
            use = "Produced" if item_id == main else "By-product Produced"
        else:
            continue
        sums[(use, item, lot, cont, unit)] += -qty if use == "Consumed" else qty
    out = [(u, i, lt, c, q, un) for (u, i, lt, c, un), q in sums.items() if q != 0]
    out_unit = session.scalar(
        select(Unit.code).join(Item, Item.base_unit_id == Unit.id).where(Item.id == main)
    )
    return out, value, uom(out_unit or "ea")


def sync_operations_performance(
    session: Session,
    *,
    work_order: str | None = None,
    created: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> str:
    """Production results as a `SyncOperationsPerformance` BOD: one job, or every started job.

    One `OperationsPerformance` per job (ID = the work order), one `SegmentResponse` per step
    that has started, with `MaterialActual` per item, lot and container consumed or produced,
    `PersonnelActual` and `EquipmentActual` in hours (as costing shares them out), and the
    step's quantities and costs as `SegmentData` (B2MML has no cost element).
    """
    until = at or utcnow()
    if work_order is not None:
        found = production_rows.job(session, work_order)
        if found is None:
            raise NotFound(
                f"no work order {work_order!r}",
                field="work_order",
                expected="an existing work order number",
            )
        jobs = [found]
    else:
        jobs = production_rows.jobs(session, started=True)
        if not jobs:
            raise NotFound(
                "no job has started yet: there are no production results to send",
                field="work_order",
                expected="a started work order",
            )
    root = ET.Element(f"{{{NS}}}SyncOperationsPerformance", {"releaseID": RELEASE_ID})
    data = ET.Element(f"{{{NS}}}DataArea")
    sync = _el(data, "Sync")
    _el(
        _el(sync, "ActionCriteria"),
        "ActionExpression",
        "/OperationsPerformance",
        actionCode="Change",
    )
    people = dict(session.execute(select(Person.id, Person.code)).all())
    stations = dict(session.execute(select(Workstation.id, Workstation.code)).all())
    for wo in jobs:
        _performance(session, data, wo, until, people, stations)
    ET.indent(data, level=1)
    body = ET.tostring(data, encoding="unicode")
    bod_id = str(uuid.uuid5(_BOD_NS, f"SyncOperationsPerformance|{body}"))
    application_area(root, bod_id, created or dt.datetime.now(dt.UTC))
    root.append(data)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _operations_response(data: ET.Element, wo: JobRow, item: Item | None) -> ET.Element:
    """The job's OperationsPerformance and its OperationsResponse header (segments go in it)."""
    perf = _el(data, "OperationsPerformance")
    _el(perf, "ID", str(wo.number))
    _el(perf, "Description", f"{item.code if item else ''} x {plain(wo.quantity)}")
    _el(perf, "OperationsType", "Production")
    if wo.started_at:
        _el(perf, "StartTime", _when(wo.started_at))
    if wo.completed_at:
        _el(perf, "EndTime", _when(wo.completed_at))
    _el(perf, "PerformanceState", _WO_STATE[wo.status])
    resp = _el(perf, "OperationsResponse")
    _el(resp, "ID", str(wo.number))
    _el(resp, "OperationsType", "Production")
    _el(resp, "OperationsRequestID", str(wo.number))
    if wo.started_at:
        _el(resp, "StartTime", _when(wo.started_at))
    if wo.completed_at:
        _el(resp, "EndTime", _when(wo.completed_at))
    if wo.route_code:
        _el(resp, "OperationsDefinitionID", f"{wo.route_code}/{wo.route_revision or ''}")
    _el(resp, "ResponseState", _WO_STATE[wo.status])
    return resp


def _performance(
    session: Session,
    data: ET.Element,
    wo: JobRow,
    until: dt.datetime,
    people: dict[int, str],
    stations: dict[int, str],
) -> None:
    resp = _operations_response(data, wo, session.get(Item, wo.item_id))
    labour = timekeeping.labour_minutes(session, wo.id, until)
    machine = timekeeping.machine_minutes(session, wo.id, until)
    person_rates = dict(session.execute(select(Person.id, Person.hourly_rate)).all())
    station_rates = dict(session.execute(select(Workstation.id, Workstation.hourly_rate)).all())
    steps = [s for s in production_rows.steps(session, [wo.id]) if s.actual_start is not None]
    for step in steps:
        seg = _el(resp, "SegmentResponse")
        _el(seg, "ID", f"{wo.number}/{step.sequence}")
        _el(seg, "Description", step.name or step.operation)
        _el(seg, "OperationsType", "Production")
        _el(seg, "ProcessSegmentID", step.operation)
        if step.actual_start:
            _el(seg, "ActualStartTime", _when(step.actual_start))
        if step.actual_end:
            _el(seg, "ActualEndTime", _when(step.actual_end))
        _el(seg, "SegmentState", _STEP_STATE[step.status])
        materials, material_cost, out_unit = _step_materials(session, wo, step)
        mine_l = {p: m for (s, p), m in labour.items() if s == step.id}
        mine_m = {w: m for (s, w), m in machine.items() if s == step.id}
        labour_cost = sum((m * person_rates[p] / 60 for p, m in mine_l.items()), Decimal(0))
        machine_cost = sum((m * station_rates[w] / 60 for w, m in mine_m.items()), Decimal(0))
        for name, qty in (
            ("QuantityIn", step.quantity_in),
            ("QuantityGood", step.quantity_good),
            ("QuantityScrap", step.quantity_scrap),
            ("QuantityRework", step.quantity_rework),
        ):
            _data(seg, name, qty, out_unit)
        for name, money in (
            ("MaterialCost", material_cost),
            ("LabourCost", labour_cost),
            ("MachineCost", machine_cost),
        ):
            _data(seg, name, cents(money), None)  # in the plant's currency
        for p, minutes in sorted(mine_l.items(), key=lambda kv: people.get(kv[0], "")):
            pa = _el(seg, "PersonnelActual")
            _el(pa, "PersonID", people.get(p, str(p)))
            _hours(pa, minutes)
        for w, minutes in sorted(mine_m.items(), key=lambda kv: stations.get(kv[0], "")):
            ea = _el(seg, "EquipmentActual")
            _el(ea, "EquipmentID", stations.get(w, str(w)))
            _hours(ea, minutes)
        for use, item_code, lot, container, quantity, unit in materials:
            ma = _el(seg, "MaterialActual")
            _el(ma, "MaterialDefinitionID", item_code)
            if lot:
                _el(ma, "MaterialLotID", lot)
            _el(ma, "MaterialSubLotID", container)
            _el(ma, "MaterialUse", use)
            _quantity(ma, quantity, unit)
