"""Inbound by SSCC: a supplier's despatch advice announces pallets; one scan receives a pallet.

The advice comes as an EPCIS 2.0 document (a shipping ObjectEvent naming the pallets, an
AggregationEvent per pallet listing its cases and one per case listing its contents) or as a
CSV, one row per case line. Scanning the pallet's SSCC at the dock receives the pallet and all
its cases in one ledger event (`ledger.inbound.receive_pallet`); cases the clerk reports missing
or counts differently are received as found and the differences are kept on the pallet.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.auth import sites
from isom.dc.models import AdvisedCase, AdvisedPallet, DespatchAdvice, PalletStatus
from isom.dc.schemas import (
    AdviceIn,
    AdvisedCaseIn,
    AdvisedPalletIn,
    Difference,
    PalletView,
    ReceiveSscc,
)
from isom.devices import gs1
from isom.errors import Conflict, InvalidInput, NotFound
from isom.integration import capture
from isom.integration.capture import mapping as capture_mapping
from isom.ledger import inbound
from isom.ledger import queries as ledger_queries
from isom.ledger import services as ledger
from isom.ledger.schemas import LotIn, ReceiveLine
from isom.masterdata import services as md
from isom.masterdata.models import Item, Supplier
from isom.orders.events import run_order_event
from isom.orders.schemas import OrderResult
from isom.transitions import move
from isom.types import utcnow

Actor = ledger.Actor
ZERO = Decimal(0)
#: An advised pallet is received once.
PALLET_TRANSITIONS: dict[PalletStatus, frozenset[PalletStatus]] = {
    PalletStatus.advised: frozenset({PalletStatus.received}),
    PalletStatus.received: frozenset(),
}


# ---------------------------------------------------------------------------------------------
# Reading an advice.


def advice_from_epcis(session: Session, doc: Any) -> AdviceIn:
    """An advice from an EPCIS document, validated against GS1's schema first; the contents'
    EPC classes (GTIN and lot) are read as items of the master data."""
    capture.validate(doc)
    events: list[dict[str, Any]] = doc["epcisBody"].get("eventList", [])
    number: str | None = None
    supplier: str | None = None
    pallets: list[str] = []
    children: dict[str, list[str]] = {}
    contents: dict[str, list[dict[str, Any]]] = {}
    for i, ev in enumerate(events):
        where = f"epcisBody.eventList[{i}]"
        if ev.get("type") == "ObjectEvent" and _step(ev) == "shipping":
            pallets += [capture.container_code(u, f"{where}.epcList") for u in ev["epcList"]]
            for bt in ev.get("bizTransactionList", []):
                number = number or bt["bizTransaction"].rsplit(":", 1)[-1]
            for src in ev.get("sourceList", []):
                if src["source"].startswith("urn:isom:supplier:"):
                    supplier = src["source"].rsplit(":", 1)[-1]
        elif ev.get("type") == "AggregationEvent":
            parent = capture.container_code(ev["parentID"], f"{where}.parentID")
            kids = [
                capture.container_code(u, f"{where}.childEPCs") for u in ev.get("childEPCs", [])
            ]
            children.setdefault(parent, []).extend(kids)
            contents.setdefault(parent, []).extend(ev.get("childQuantityList", []))
    if number is None or not pallets:
        raise InvalidInput(
            "a despatch advice needs a shipping ObjectEvent with the pallets' SSCCs and a "
            "despatch advice number in its bizTransactionList",
            field="epcisBody.eventList",
            expected="an ObjectEvent with bizStep shipping, epcList and bizTransactionList",
        )
    return AdviceIn(
        number=number,
        supplier=supplier,
        source="epcis",
        pallets=[
            AdvisedPalletIn(
                sscc=p,
                cases=[
                    _case_of(session, case, q, f"childQuantityList of {case}")
                    for case in children.get(p, [])
                    for q in contents.get(case, [])
                ],
            )
            for p in pallets
        ],
    )


def _case_of(session: Session, case: str, q: dict[str, Any], field: str) -> AdvisedCaseIn:
    item, lot = capture_mapping.item_and_lot(session, q["epcClass"], field)
    return AdvisedCaseIn(case=case, item=item.code, lot=lot, quantity=Decimal(str(q["quantity"])))


def _step(ev: dict[str, Any]) -> str:
    return str(ev.get("bizStep", "")).rsplit("/", 1)[-1].rsplit(":", 1)[-1]


CSV_COLUMNS = ("pallet_sscc", "case", "item", "lot", "expiry_date", "quantity", "unit_cost")


def advice_from_csv(text: str, *, number: str, supplier: str | None) -> AdviceIn:
    """An advice from a CSV with one row per case line (columns `CSV_COLUMNS`)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        c for c in ("pallet_sscc", "case", "item", "quantity") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise InvalidInput(
            f"the CSV lacks the columns {', '.join(missing)}",
            field="file",
            expected="a header row with " + ", ".join(CSV_COLUMNS),
        )
    by_pallet: dict[str, list[AdvisedCaseIn]] = defaultdict(list)
    for n, row in enumerate(reader, start=2):
        try:
            quantity = Decimal(row["quantity"])
            cost = Decimal(row["unit_cost"]) if row.get("unit_cost") else None
        except InvalidOperation:
            raise InvalidInput(
                f"row {n}: quantity or unit_cost is not a number",
                field=f"row {n}",
                expected="plain decimal numbers",
            ) from None
        by_pallet[row["pallet_sscc"].strip()].append(
            AdvisedCaseIn.model_validate(
                {
                    "case": row["case"].strip(),
                    "item": row["item"].strip(),
                    "lot": (row.get("lot") or "").strip() or None,
                    "expiry_date": (row.get("expiry_date") or "").strip() or None,
                    "quantity": quantity,
                    "unit_cost": cost,
                }
            )
        )
    return AdviceIn(
        number=number,
        supplier=supplier,
        source="csv",
        pallets=[AdvisedPalletIn(sscc=s, cases=c) for s, c in by_pallet.items()],
    )


# ---------------------------------------------------------------------------------------------
# Registering an advice and receiving by scan.


def register_advice(session: Session, actor: Actor, key: str, cmd: AdviceIn) -> OrderResult:
    """Keep an advice's pallets and cases, so a scan of a pallet's SSCC can receive it."""

    def build(session: Session, actor: Actor, key: str, cmd: AdviceIn) -> OrderResult:
        if session.scalar(select(DespatchAdvice.id).where(DespatchAdvice.number == cmd.number)):
            raise Conflict(
                f"despatch advice {cmd.number} is registered already",
                field="number",
                expected="the number of a new despatch advice",
            )
        supplier = md.get_supplier(session, cmd.supplier) if cmd.supplier else None
        advice = DespatchAdvice(
            number=cmd.number,
            supplier_id=supplier.id if supplier else None,
            source=cmd.source,
            created_at=utcnow(),
            created_by=actor.name,
        )
        session.add(advice)
        session.flush()
        for i, p in enumerate(cmd.pallets):
            _add_pallet(session, advice, p, f"pallets[{i}]")
        return OrderResult(
            number=advice.number,
            status="advised",
            detail={"pallets": [p.sscc for p in cmd.pallets]},
        )

    return run_order_event(session, actor, key, "dc.advice", cmd, build)


def _add_pallet(session: Session, advice: DespatchAdvice, p: AdvisedPalletIn, field: str) -> None:
    if not gs1.is_valid_key(p.sscc):
        raise InvalidInput(
            f"{p.sscc} is not a valid SSCC (check digit)", field=f"{field}.sscc", expected="an SSCC"
        )
    if session.scalar(select(AdvisedPallet.id).where(AdvisedPallet.sscc == p.sscc)):
        raise Conflict(
            f"pallet {p.sscc} is announced already", field=f"{field}.sscc", expected="a new SSCC"
        )
    pallet = AdvisedPallet(
        advice_id=advice.id, sscc=p.sscc, status=PalletStatus.advised, differences=[]
    )
    session.add(pallet)
    session.flush()
    for j, c in enumerate(p.cases):
        item = md.get_item(session, c.item, field=f"{field}.cases[{j}].item")
        session.add(
            AdvisedCase(
                pallet_id=pallet.id,
                case_code=c.case,
                item_id=item.id,
                lot=c.lot,
                expiry_date=c.expiry_date,
                quantity=c.quantity,
                unit_cost=c.unit_cost if c.unit_cost is not None else item.standard_cost,
            )
        )


def sscc_of_scan(raw: str) -> str:
    """The SSCC in a scanned pallet label: GS1-128 or Digital Link (read with biip), or the 18
    digits alone."""
    data = gs1.parse_gs1(raw)
    if data is not None and data.sscc:
        return data.sscc
    text = raw.strip()
    if re.fullmatch(r"(00)?\d{18}", text):
        text = text[-18:]
        if gs1.is_valid_key(text):
            return text
    raise InvalidInput(
        f"{raw!r} is not a pallet's SSCC label",
        field="scan",
        expected="an SSCC: (00) and 18 digits, a GS1-128 label or a Digital Link",
    )


def _pallet(session: Session, sscc: str) -> AdvisedPallet:
    pallet = session.scalar(
        select(AdvisedPallet).where(AdvisedPallet.sscc == sscc).with_for_update()
    )
    if pallet is None:
        raise NotFound(
            f"no despatch advice announces pallet {sscc}",
            field="scan",
            expected="the SSCC of an announced pallet (register the supplier's advice first)",
        )
    return pallet


def receive_by_sscc(session: Session, actor: Actor, key: str, cmd: ReceiveSscc) -> OrderResult:
    """Receive an announced pallet and its cases in one ledger event; flag what differs."""

    def build(session: Session, actor: Actor, key: str, cmd: ReceiveSscc) -> OrderResult:
        pallet = _pallet(session, sscc_of_scan(cmd.scan))
        if pallet.status is PalletStatus.received:
            raise Conflict(
                f"pallet {pallet.sscc} was received already, by {pallet.received_by}",
                field="scan",
                expected="a pallet not yet received",
            )
        advice = session.get(DespatchAdvice, pallet.advice_id)
        assert advice is not None
        rows = _cases(session, pallet)
        found, differences = _as_found(rows, cmd)
        if not found:
            raise Conflict(
                f"every case of pallet {pallet.sscc} is reported missing: nothing to receive",
                field="missing_cases",
                expected="at least one case that arrived",
            )
        supplier = session.get(Supplier, advice.supplier_id) if advice.supplier_id else None
        result = inbound.receive_pallet(
            session,
            actor,
            f"{key}/receive",
            inbound.ReceivePalletCommand(
                occurred_at=cmd.occurred_at,
                pallet=pallet.sscc,
                location=cmd.location,
                supplier=supplier.code if supplier else None,
                reference=advice.number,
                cases=[inbound.CaseIn(code=code, lines=lines) for code, lines in found.items()],
            ),
        )
        move(
            pallet,
            PALLET_TRANSITIONS,
            PalletStatus.received,
            what=f"pallet {pallet.sscc}",
            kind="pallet",
            field="pallet",
        )
        pallet.received_event_id = result.event_id
        pallet.received_at = utcnow()
        pallet.received_by = actor.name
        pallet.differences = [d.model_dump(mode="json") for d in differences]
        return OrderResult(
            number=pallet.sscc,
            status=pallet.status.value,
            detail={
                "advice": advice.number,
                "ledger_event": result.event_id,
                "cases": list(found),
                "differences": pallet.differences,
            },
        )

    return run_order_event(session, actor, key, "dc.receive", cmd, build)


def _cases(session: Session, pallet: AdvisedPallet) -> list[tuple[AdvisedCase, Item]]:
    return [
        (case, item)
        for case, item in session.execute(
            select(AdvisedCase, Item)
            .join(Item, Item.id == AdvisedCase.item_id)
            .where(AdvisedCase.pallet_id == pallet.id)
            .order_by(AdvisedCase.id)
        ).all()
    ]


def _as_found(
    rows: list[tuple[AdvisedCase, Item]], cmd: ReceiveSscc
) -> tuple[dict[str, list[ReceiveLine]], list[Difference]]:
    """The case lines to receive, as the clerk found them, and how they differ from the advice."""
    advised = {case.case_code for case, _ in rows}
    for i, code in enumerate([*cmd.missing_cases, *(c.case for c in cmd.counted)]):
        if code not in advised:
            raise NotFound(
                f"case {code} is not on this pallet's advice",
                field="missing_cases" if i < len(cmd.missing_cases) else "counted",
                expected="one of: " + ", ".join(sorted(advised)),
            )
    counted = {c.case: c.quantity for c in cmd.counted}
    found: dict[str, list[ReceiveLine]] = {}
    differences: list[Difference] = []
    for case, item in rows:
        got = (
            ZERO
            if case.case_code in cmd.missing_cases
            else counted.get(case.case_code, case.quantity)
        )
        if got != case.quantity:
            kind = (
                "missing"
                if case.case_code in cmd.missing_cases
                else ("short" if got < case.quantity else "over")
            )
            differences.append(
                Difference(
                    case=case.case_code,
                    item=item.code,
                    advised=case.quantity,
                    received=got,
                    kind=kind,
                )
            )
        if got > 0:
            found.setdefault(case.case_code, []).append(
                ReceiveLine(
                    item=item.code,
                    lot=LotIn(code=case.lot, expiry_date=case.expiry_date) if case.lot else None,
                    quantity=got,
                    unit_cost=case.unit_cost,
                )
            )
    return found, differences


def pallet_view(session: Session, sscc: str) -> PalletView:
    """An announced pallet, what it should hold and, once received, what differed."""
    pallet = session.scalar(select(AdvisedPallet).where(AdvisedPallet.sscc == sscc))
    site = None if pallet is None else _site_of(session, pallet)
    if pallet is None or (site is not None and not sites.allows(site)):
        raise NotFound(f"no advised pallet {sscc}", field="sscc", expected="an announced SSCC")
    return _view(session, pallet)


def _site_of(session: Session, pallet: AdvisedPallet) -> int | None:
    """Where a received pallet was received; an announced one is no site's yet (None: every
    site's dock may see what is on its way)."""
    if pallet.received_event_id is None:
        return None
    received = ledger_queries.event_rows(session, [pallet.received_event_id])
    found = received.get(pallet.received_event_id)
    return found.site_id if found is not None else None


def _view(session: Session, pallet: AdvisedPallet) -> PalletView:
    advice = session.get(DespatchAdvice, pallet.advice_id)
    assert advice is not None
    supplier = session.get(Supplier, advice.supplier_id) if advice.supplier_id else None
    return PalletView(
        sscc=pallet.sscc,
        advice=advice.number,
        supplier=supplier.code if supplier else None,
        status=pallet.status.value,
        cases=[
            {"case": c.case_code, "item": i.code, "lot": c.lot, "quantity": str(c.quantity)}
            for c, i in _cases(session, pallet)
        ],
        differences=list(pallet.differences),
        received_at=pallet.received_at,
        received_by=pallet.received_by,
    )


def list_pallets(session: Session, *, status: PalletStatus | None = None) -> list[PalletView]:
    """Announced pallets, newest advice first (the dock's list of what to expect)."""
    query = select(AdvisedPallet).order_by(AdvisedPallet.advice_id.desc(), AdvisedPallet.id)
    if status is not None:
        query = query.where(AdvisedPallet.status == status)
    return [_view(session, p) for p in session.scalars(query.limit(200))]
