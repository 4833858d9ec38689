"""Labels for containers, lots, locations and badges: PDF (reportlab + zint) and Zebra ZPL.

A label is first described (`Label`: text lines and barcodes with their GS1 element strings),
then laid out by the template of its size, for PDF or for ZPL. Barcodes in the PDF are zint's
vectors drawn as rectangles, so they stay sharp at any printer resolution.
"""

from __future__ import annotations

import io
import socket
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import zint
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.devices import gs1
from isom.devices.models import Gs1Site
from isom.errors import InvalidInput, IsomError, NotFound
from isom.ledger import queries as ledger_queries
from isom.masterdata import services as md
from isom.masterdata.models import Location, Person

Symbology = Literal["gs1-128", "gs1-datamatrix", "code128"]
LabelKind = Literal["container", "lot", "location", "badge"]
#: Label sizes in mm (width, height): the templates.
SIZES = {"100x150": (100, 150), "100x50": (100, 50), "50x25": (50, 25)}
#: GS1-128 holds at most 48 data characters; longer content goes to a second symbol.
GS1_128_MAX = 48


class PrinterUnreachable(IsomError):
    status_code = 502
    code = "printer_unreachable"
    title = "Printer unreachable"


@dataclass
class Barcode:
    symbology: Symbology
    pairs: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""

    @property
    def hri(self) -> str:
        return gs1.hri(self.pairs) if self.pairs else self.text


@dataclass
class Label:
    kind: LabelKind
    code: str
    title: str
    lines: list[str]
    barcodes: list[Barcode]


def _gs1_128_groups(pairs: list[tuple[str, str]]) -> list[Barcode]:
    """Split element strings over GS1-128 symbols of at most 48 characters each."""
    gs1.check_pairs([ai for ai, _ in pairs])
    groups: list[list[tuple[str, str]]] = [[]]
    for pair in pairs:
        candidate = [*groups[-1], pair]
        if groups[-1] and len(gs1.scanner_string(candidate, "")) > GS1_128_MAX:
            groups.append([pair])
        else:
            groups[-1] = candidate
    return [Barcode("gs1-128", g) for g in groups if g]


# ---------------------------------------------------------------------------------------------
# What each kind of label says.


def container_label(session: Session, code: str) -> Label:
    """SSCC (00) or internal code (91); beside an SSCC, one item's GTIN, count, lot, expiry."""
    view = ledger_queries.container(session, code)
    ident = ("00", code) if len(code) == 18 and gs1.is_valid_key(code) else ("91", code)
    pairs = [gs1.element_string(*ident)]
    lines = [f"Location: {view.location or '-'}"]
    items = {c.item for c in view.contents}
    for c in view.contents[:4]:
        lines.append(f"{c.item}  {c.quantity} {c.unit}" + (f"  lot {c.lot}" if c.lot else ""))
    # (02) and (37) describe the content of a logistic unit: GS1 allows them only beside (00).
    if ident[0] == "00" and len(items) == 1 and view.contents:
        c = view.contents[0]
        item = md.get_item(session, c.item)
        if item.gtin:
            total = sum((x.quantity for x in view.contents), Decimal(0))
            pairs.append(gs1.element_string("02", item.gtin.zfill(14)))
            if total == total.to_integral_value() and len({x.lot for x in view.contents}) == 1:
                pairs.append(gs1.element_string("37", str(int(total))))
            if c.expiry_date:
                pairs.append(gs1.element_string("17", gs1.yymmdd(c.expiry_date)))
            if c.lot and len({x.lot for x in view.contents}) == 1:
                pairs.append(gs1.element_string("10", c.lot))
    return Label(
        kind="container",
        code=code,
        title=f"{view.kind.upper()} {code}",
        lines=lines,
        barcodes=[*_gs1_128_groups(pairs), Barcode("gs1-datamatrix", pairs)],
    )


def lot_label(session: Session, item_code: str, lot_code: str) -> Label:
    """GTIN (01), lot (10) and expiry (17) when the item has a GTIN; the lot code otherwise."""
    item = md.get_item(session, item_code, field="code")
    lot = ledger_queries.find_lot(session, item.id, lot_code)
    if lot is None:
        raise NotFound(f"item {item.code} has no lot {lot_code!r}", field="lot")
    lines = [item.name, f"Lot {lot.code}"]
    if lot.expiry_date:
        lines.append(f"Expires {lot.expiry_date.isoformat()}")
    if not item.gtin:
        return Label("lot", lot.code, item.code, lines, [Barcode("code128", text=lot.code)])
    pairs = [gs1.element_string("01", item.gtin.zfill(14))]
    if lot.expiry_date:
        pairs.append(gs1.element_string("17", gs1.yymmdd(lot.expiry_date)))
    pairs.append(gs1.element_string("21" if item.tracking.value == "serial" else "10", lot.code))
    return Label(
        "lot",
        lot.code,
        item.code,
        lines,
        [*_gs1_128_groups(pairs), Barcode("gs1-datamatrix", pairs)],
    )


def location_label(session: Session, code: str) -> Label:
    """(414) the site's GLN + (254) the location code when the site has a GLN; else Code 128."""
    loc = md.get_location(session, code, field="code")
    site_gln = session.scalar(select(Gs1Site.gln).where(Gs1Site.site_id == (loc.site_id or loc.id)))
    site = session.get(Location, loc.site_id or loc.id)
    lines = [loc.name, f"{loc.kind.value} in {site.code if site else '-'}"]
    if site_gln and loc.id != (loc.site_id or loc.id):
        pairs = [gs1.element_string("414", site_gln), gs1.element_string("254", loc.code)]
        return Label("location", loc.code, loc.code, lines, [Barcode("gs1-128", pairs)])
    return Label("location", loc.code, loc.code, lines, [Barcode("code128", text=loc.code)])


def badge_label(session: Session, badge: str) -> Label:
    """A person's badge: Code 128 of the badge code, with the name."""
    person = session.scalar(select(Person).where(Person.badge_code == badge))
    if person is None:
        raise NotFound(f"no person has badge {badge!r}", field="code", expected="a badge code")
    return Label("badge", badge, person.name, [person.code], [Barcode("code128", text=badge)])


def describe(session: Session, kind: LabelKind, code: str, lot: str | None = None) -> Label:
    """The label of a container, lot (item code + lot), location or badge."""
    if kind == "container":
        return container_label(session, code)
    if kind == "lot":
        if not lot:
            raise InvalidInput("a lot label needs the lot", field="lot", expected="a lot code")
        return lot_label(session, code, lot)
    if kind == "location":
        return location_label(session, code)
    return badge_label(session, code)


# ---------------------------------------------------------------------------------------------
# PDF.


def _symbol(barcode: Barcode) -> zint.Symbol:
    sym = zint.Symbol()
    if barcode.symbology == "gs1-128":
        sym.symbology = zint.Symbology.GS1_128
    elif barcode.symbology == "gs1-datamatrix":
        sym.symbology = zint.Symbology.DATAMATRIX
        sym.option_3 = zint.DataMatrixOptions.SQUARE
    else:
        sym.symbology = zint.Symbology.CODE128
    sym.show_text = False
    if barcode.pairs:
        sym.input_mode = zint.InputMode.GS1
        sym.encode(gs1.bracketed(barcode.pairs))
    else:
        sym.encode(barcode.text)
    sym.buffer_vector()
    return sym


def _draw(pdf: canvas.Canvas, barcode: Barcode, x: float, top: float, width: float) -> float:
    """Draw a barcode with its top-left at (x, top), at most `width` wide; returns its height."""
    sym = _symbol(barcode)
    vec = sym.vector
    square = barcode.symbology == "gs1-datamatrix"
    scale = min(width, 30 * mm if square else width) / vec.width
    height = vec.height * scale
    if not square:
        scale_y = min(height, 18 * mm) / vec.height
        height = vec.height * scale_y
    else:
        scale_y = scale
    for r in vec.rectangles:
        pdf.rect(
            x + r.x * scale,
            top - (r.y + r.height) * scale_y,
            r.width * scale,
            r.height * scale_y,
            stroke=0,
            fill=1,
        )
    pdf.setFont("Helvetica", 7)
    pdf.drawString(x, top - height - 3 * mm, barcode.hri)
    return float(height + 4 * mm)


def to_pdf(label: Label, size: str = "100x150", copies: int = 1) -> bytes:
    """The label as a PDF page (one per copy) of the size's template."""
    width, height = SIZES[size]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(width * mm, height * mm))
    pdf.setTitle(f"{label.kind} label {label.code}")
    margin = 4 * mm if width >= 100 else 2 * mm
    for _ in range(copies):
        y = height * mm - margin
        big = height >= 100
        pdf.setFont("Helvetica-Bold", 14 if big else 9)
        pdf.drawString(margin, y - 4 * mm, label.title[:40])
        y -= 7 * mm if big else 5 * mm
        if big:
            pdf.setFont("Helvetica", 10)
            for line in label.lines[:6]:
                pdf.drawString(margin, y - 3 * mm, line[:60])
                y -= 5 * mm
            y -= 2 * mm
            codes = label.barcodes
        else:
            codes = label.barcodes[:1]  # small labels carry the identifying symbol only
        for bc in codes:
            y -= _draw(pdf, bc, margin, y, width * mm - 2 * margin) + 2 * mm
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# ZPL.


def _zpl_field(text: str) -> str:
    """ZPL field data: `^` and `~` would start commands, so they are written as hex (^FH)."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


def _zpl_barcode(barcode: Barcode, x: int, y: int, dots_mm: int) -> tuple[str, int]:
    if barcode.symbology == "gs1-datamatrix":
        # FNC1 first (GS1 DataMatrix) and after each variable-length field; the escape
        # character is one GS1 data never contains (CSET 82 has no backtick).
        data = "`1" + gs1.scanner_string(barcode.pairs, "").replace(gs1.GS, "`1")
        module = max(4, dots_mm // 2)
        return f"^FO{x},{y}^BXN,{module},200,,,,`^FD{data}^FS", 26 * dots_mm
    bar_height = 15 * dots_mm
    if barcode.symbology == "gs1-128":
        # Mode D (UCC/EAN): FNC1 and the separators come from the parenthesised AIs.
        body = f"^BY3^BCN,{bar_height},Y,N,N,D^FD{barcode.hri}^FS"
    else:
        body = f"^BY3^BCN,{bar_height},Y,N,N^FH^FD{_zpl_field(barcode.text)}^FS"
    return f"^FO{x},{y}{body}", bar_height + 6 * dots_mm


def to_zpl(label: Label, size: str = "100x150", dpi: int = 203, copies: int = 1) -> str:
    """The label as ZPL II for a Zebra printer of this resolution."""
    width, height = SIZES[size]
    dots_mm = 8 if dpi == 203 else 12
    big = height >= 100
    out = ["^XA", "^CI28", f"^PW{width * dots_mm}", f"^LL{height * dots_mm}"]
    x, y = 3 * dots_mm, 3 * dots_mm
    font = 6 * dots_mm if big else 3 * dots_mm
    out.append(f"^FO{x},{y}^A0N,{font},{font}^FH^FD{_zpl_field(label.title)}^FS")
    y += font + dots_mm
    if big:
        for line in label.lines[:6]:
            out.append(f"^FO{x},{y}^A0N,{4 * dots_mm},{4 * dots_mm}^FH^FD{_zpl_field(line)}^FS")
            y += 5 * dots_mm
        y += 2 * dots_mm
    for bc in label.barcodes if big else label.barcodes[:1]:
        command, used = _zpl_barcode(bc, x, y, dots_mm)
        out.append(command)
        y += used + 2 * dots_mm
    out.append(f"^PQ{copies}")
    out.append("^XZ")
    return "\n".join(out) + "\n"


def send_raw(host: str, port: int, data: bytes, *, timeout: float = 5.0) -> None:
    """Send raw bytes to a printer's TCP port (9100, 'raw' / JetDirect); 502 when unreachable."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise PrinterUnreachable(
            f"printer {host}:{port} did not take the label: {exc}",
            field="printer",
            expected="a reachable printer; nothing was printed",
        ) from None
