"""Order documents: the purchase order as PDF and CSV for the supplier, the packing list PDF."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.orm import Session

from isom.masterdata.models import Supplier
from isom.orders.purchasing import get_purchase_order, purchase_order_view
from isom.orders.shipping import ship_order_view

PO_CSV_COLUMNS = (
    "po_number",
    "line_no",
    "supplier",
    "item",
    "quantity",
    "due_date",
    "unit_price",
    "amount",
    "currency",
)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("GRID", (0, 1), (-1, -1), 0.25, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def purchase_order_pdf(session: Session, number: str) -> bytes:
    """The purchase order a buyer sends: supplier, lines with dates, prices and the total."""
    view = purchase_order_view(session, number)
    supplier = session.get(Supplier, get_purchase_order(session, number).supplier_id)
    assert supplier is not None
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Purchase order {view.number}")
    rows = [["Line", "Item", "Quantity", "Due", "Unit price", "Amount"]]
    rows += [
        [
            str(line.line_no),
            line.item,
            _plain(line.quantity),
            line.due_date.isoformat(),
            _plain(line.unit_price),
            _plain(line.amount),
        ]
        for line in view.lines
        if line.status != "cancelled"
    ]
    rows.append(["", "", "", "", "Total", f"{_plain(view.total)} {view.currency}"])
    story = [
        Paragraph(f"Purchase order {view.number}", styles["Title"]),
        Paragraph(f"To: {supplier.name} ({supplier.code})", styles["Normal"]),
        Paragraph(f"E-mail: {supplier.email or '-'}", styles["Normal"]),
        Paragraph(f"Status: {view.status}; currency {view.currency}", styles["Normal"]),
        Spacer(1, 6 * mm),
        _table(rows, [14 * mm, 60 * mm, 24 * mm, 26 * mm, 24 * mm, 30 * mm]),
    ]
    if view.note:
        story += [Spacer(1, 4 * mm), Paragraph(f"Note: {view.note}", styles["Normal"])]
    doc.build(story)
    return out.getvalue()


def purchase_order_csv(session: Session, number: str) -> str:
    """The purchase order as one CSV line per order line, for suppliers that read files."""
    view = purchase_order_view(session, number)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PO_CSV_COLUMNS)
    for line in view.lines:
        if line.status == "cancelled":
            continue
        writer.writerow(
            [
                view.number,
                line.line_no,
                view.supplier,
                line.item,
                _plain(line.quantity),
                line.due_date.isoformat(),
                _plain(line.unit_price),
                _plain(line.amount),
                view.currency,
            ]
        )
    return out.getvalue()


def packing_list_pdf(session: Session, number: str) -> bytes:
    """The packing list of a ship order: ship-to, each package with its item, lot and quantity."""
    view = ship_order_view(session, number)
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Packing list {view.number}")
    rows = [["Package", "Line", "Item", "Lot", "Quantity", "Container"]]
    rows += [
        [
            pick.package or "-",
            str(pick.line_no),
            pick.item,
            pick.lot or "-",
            _plain(pick.picked_quantity),
            pick.picked_container or "-",
        ]
        for pick in sorted(view.picks, key=lambda p: (p.package or "", p.sequence))
        if pick.status in ("packed", "shipped")
    ]
    story = [
        Paragraph(f"Packing list {view.number}", styles["Title"]),
        Paragraph(
            f"Customer order {view.customer_order} for {view.customer}; status {view.status}",
            styles["Normal"],
        ),
        Paragraph(f"Ship to: {view.ship_to or '-'}", styles["Normal"]),
        Spacer(1, 6 * mm),
        _table(rows, [30 * mm, 12 * mm, 50 * mm, 30 * mm, 22 * mm, 30 * mm]),
    ]
    doc.build(story)
    return out.getvalue()
