"""Labels read back: the PDF rendered and its barcodes decoded; ZPL received by a socket printer."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fastapi.testclient import TestClient

from isom.db import Database
from isom.devices import gs1, labels
from isom.devices import services as devices
from isom.devices.models import PrinterKind
from isom.devices.scans import resolve
from isom.devices.schemas import PrinterIn
from tests.builders import key, token
from tests.devices.support import ACTOR, API, receive


class SocketPrinter:
    """A raw-TCP label printer (port-9100 style) on a free local port: it keeps what it gets."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                chunks = []
                while data := conn.recv(65536):
                    chunks.append(data)
                self.jobs.append(b"".join(chunks))

    def close(self) -> None:
        if self.server.fileno() != -1:
            self.server.shutdown(socket.SHUT_RDWR)
            self.server.close()


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    p = SocketPrinter()
    yield p
    p.close()


@pytest.fixture
def client(db: Database, plant: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(labels_app(db)) as c:
        yield c


def labels_app(db: Database):  # type: ignore[no-untyped-def]
    from isom.web.app import create_app

    return create_app(db)


def decoded(pdf: bytes) -> list[tuple[str, str]]:
    """Every barcode on the PDF's first page: (symbology identifier, text)."""
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=200 / 72).to_pil()
    return [(r.symbology_identifier, r.text) for r in zxingcpp.read_barcodes(image)]


def test_container_label_pdf_decodes_to_the_encoded_gs1_data(
    db: Database, plant: dict[str, str]
) -> None:
    sscc = db.write(lambda s: devices.allocate_sscc(s, ACTOR, key(), "KW1")).sscc
    receive(db, sscc, "CONN-M8-4F", "40", "A-01", lot="JOB-4711", expiry=dt.date(2027, 3, 31))
    label = db.read(lambda s: labels.container_label(s, sscc))
    pdf = labels.to_pdf(label)
    assert pdf.startswith(b"%PDF")
    found = decoded(pdf)
    expected = f"(00){sscc}(02)04012345000016(37)40(17)270331(10)JOB-4711"
    assert ("]d2", expected) in found  # GS1 DataMatrix with everything
    linear = "".join(text for sid, text in found if sid == "]C1")
    assert f"(00){sscc}" in linear and "(10)JOB-4711" in linear
    # What was decoded resolves back to the container and its content.
    view = db.read(lambda s: resolve(s, expected))
    assert view.kind == "container" and view.code == sscc
    assert view.item is not None and view.item["quantity"] == "40"


def test_location_lot_and_badge_labels_decode(db: Database, plant: dict[str, str]) -> None:
    receive(db, "BOX-1", "CONN-M8-4F", "5", "A-02", lot="L-77", expiry=dt.date(2027, 1, 15))
    loc = decoded(labels.to_pdf(db.read(lambda s: labels.location_label(s, "A-02")), "100x50"))
    assert loc == [("]C1", "(414)4012345000009(254)A-02")]
    lot = decoded(labels.to_pdf(db.read(lambda s: labels.lot_label(s, "CONN-M8-4F", "L-77"))))
    assert ("]d2", "(01)04012345000016(17)270115(10)L-77") in lot
    badge = decoded(labels.to_pdf(db.read(lambda s: labels.badge_label(s, "B1001")), "50x25"))
    assert badge == [("]C0", "B1001")]


def test_an_internal_container_code_travels_in_ai_91(db: Database, plant: dict[str, str]) -> None:
    receive(db, "T-3008", "CONN-M8-4F", "30", "A-02", lot="L-5")
    found = decoded(labels.to_pdf(db.read(lambda s: labels.container_label(s, "T-3008"))))
    # Content AIs (02)/(37) may only stand beside an SSCC: an internal code travels alone.
    assert sorted(found) == [("]C1", "(91)T-3008"), ("]d2", "(91)T-3008")]
    assert db.read(lambda s: resolve(s, "(91)T-3008")).code == "T-3008"


def test_zpl_label_goes_to_the_printer_port_after_a_print_request(
    client: TestClient, db: Database, printer: SocketPrinter
) -> None:
    db.write(
        lambda s: devices.set_printer(
            s, PrinterIn(code="ZEBRA-T", kind=PrinterKind.zpl, host="127.0.0.1", port=printer.port)
        )
    )
    sscc = db.write(lambda s: devices.allocate_sscc(s, ACTOR, key(), "KW1")).sscc
    receive(db, sscc, "CONN-M8-4F", "40", "A-01", lot="JOB-4711")
    r = client.post(
        f"{API}/devices/labels/print",
        json={"kind": "container", "code": sscc, "printer": "ZEBRA-T", "copies": 2},
        headers=token(db, "operator"),
    )
    assert r.status_code == 200, r.text
    for _ in range(50):
        if printer.jobs:
            break
        threading.Event().wait(0.02)
    [zpl] = printer.jobs
    text = zpl.decode()
    assert r.json()["bytes"] == len(zpl)
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ") and "^PQ2" in text
    assert f"^FD(00){sscc}(02)04012345000016(37)40^FS" in text  # GS1-128, mode D
    # GS1 DataMatrix: FNC1 (`1) first and only after the variable-length count.
    assert f"^FD`100{sscc}0204012345000016" in text
    assert "3740`110JOB-4711^FS" in text


def test_printing_to_an_unreachable_printer_is_a_502_and_a_pdf_printer_answers_a_download(
    client: TestClient, db: Database
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db.write(
        lambda s: devices.set_printer(
            s, PrinterIn(code="ZEBRA-OFF", kind=PrinterKind.zpl, host="127.0.0.1", port=port)
        )
    )
    body = {"kind": "location", "code": "A-01", "printer": "ZEBRA-OFF"}
    r = client.post(f"{API}/devices/labels/print", json=body, headers=token(db, "clerk"))
    assert r.status_code == 502 and r.json()["field"] == "printer"
    r = client.post(
        f"{API}/devices/labels/print", json={**body, "printer": "PDF"}, headers=token(db, "clerk")
    )
    assert r.status_code == 200
    pdf = client.get(r.json()["download"], headers=token(db, "clerk"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert decoded(pdf.content) == [("]C1", "(414)4012345000009(254)A-01")]


def test_label_of_something_that_does_not_exist_is_a_404(client: TestClient, db: Database) -> None:
    r = client.get(f"{API}/devices/labels/container/NOPE.pdf", headers=token(db, "clerk"))
    assert r.status_code == 404
    r = client.get(f"{API}/devices/labels/badge/B9999.zpl", headers=token(db, "clerk"))
    assert r.status_code == 404 and r.json()["field"] == "code"


def test_gs1_128_content_longer_than_48_characters_is_split(
    db: Database, plant: dict[str, str]
) -> None:
    sscc = db.write(lambda s: devices.allocate_sscc(s, ACTOR, key(), "KW1")).sscc
    receive(
        db,
        sscc,
        "CONN-M8-4F",
        "40",
        "A-01",
        lot="LOT-ABCDEFGHIJKLMNOP",
        expiry=dt.date(2027, 3, 31),
    )
    label = db.read(lambda s: labels.container_label(s, sscc))
    linear = [b for b in label.barcodes if b.symbology == "gs1-128"]
    assert len(linear) == 2
    assert all(len(gs1.scanner_string(b.pairs, "")) <= 48 for b in linear)


def test_a_scanned_receive_prints_its_label_after_commit(
    client: TestClient, db: Database, plant: dict[str, str], printer: SocketPrinter
) -> None:
    db.write(
        lambda s: devices.set_printer(
            s, PrinterIn(code="ZEBRA-T", kind=PrinterKind.zpl, host="127.0.0.1", port=printer.port)
        )
    )
    sscc = "040123450000001112"
    raw = f"(00){sscc}(02)04012345000016(37)40(10)JOB-4711"
    body = {"device": "SCN-RECV", "kind": "scan", "codes": [raw], "action": "receive"}
    headers = {"Authorization": f"Bearer {plant['SCN-RECV']}"}
    r = client.post(
        f"{API}/devices/events",
        json={**body, "eventID": "r-1", "printer": "ZEBRA-T"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["result"]["label"]["printed"] is True
    for _ in range(50):
        if printer.jobs:
            break
        threading.Event().wait(0.02)
    assert f"^FD(00){sscc}(02)04012345000016(37)40^FS" in printer.jobs[0].decode()
    # A printer that is off does not undo the receive: the answer says the label is missing.
    printer.close()
    r = client.post(
        f"{API}/devices/events",
        json={
            **body,
            "eventID": "r-2",
            "printer": "ZEBRA-T",
            "codes": ["(00)040123450000001129(02)04012345000016(37)10(10)L2"],
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["result"]["label"]["printed"] is False
    assert db.read(lambda s: resolve(s, "040123450000001129")).kind == "container"
