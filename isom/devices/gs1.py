"""GS1 barcodes and EPCs: what a scanner or an RFID reader sends, turned into typed fields.

Parsing is `biip`'s; this module only picks the form (symbology identifier and GS separator,
the parenthesised human-readable form, a Digital Link URI, an EPC) and turns biip's element
strings into the fields the project uses. Encoding builds the element strings that labels
carry, in the bracketed form zint takes and the parenthesised form people read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import biip
from biip.gs1_messages import GS1Message

from isom.errors import InvalidInput

GS = "\x1d"

#: The AIs the project reads and writes (STANDARDS.md): each is tested against the
#: GS1 Barcode Syntax Dictionary.
USED_AIS = (
    "00",
    "01",
    "02",
    "10",
    "11",
    "17",
    "21",
    "254",
    "30",
    "37",
    *(f"310{n}" for n in range(6)),
    *(f"330{n}" for n in range(6)),
    "400",
    "414",
    "8003",
    *(str(n) for n in range(91, 100)),
)

#: Pairing rules of the used AIs, as the GS1 Barcode Syntax Dictionary states them (a test
#: compares this table with it). `REQUIRES[ai]` is a list of groups; each group needs one of
#: its AIs present. `EXCLUDES[ai]` may not stand beside `ai` ("n" is any digit).
_WITH_ITEM = ["01", "02", "03", "8006", "8026"]
REQUIRES: dict[str, list[list[str]]] = {
    "02": [["37"]],
    "10": [_WITH_ITEM],
    "11": [_WITH_ITEM],
    "17": [["01", "02", "03", "255", "8006", "8026"]],
    "21": [["01", "03", "8006"]],
    "254": [["414"]],
    "30": [["01", "02"]],
    "37": [["00"], ["02", "8026"]],
    **{f"310{n}": [["01", "02"]] for n in range(6)},
    **{f"330{n}": [["00", "01"]] for n in range(6)},
}
EXCLUDES: dict[str, list[str]] = {
    "01": ["255", "37"],
    "02": ["01", "03"],
    "21": ["235"],
    **{f"310{n}": ["310n"] for n in range(6)},
    **{f"330{n}": ["330n"] for n in range(6)},
}


def _matches(pattern: str, ai: str) -> bool:
    return len(pattern) == len(ai) and all(p in ("n", a) for p, a in zip(pattern, ai, strict=True))


def check_pairs(ais: list[str], *, required: bool = True) -> None:
    """Refuse AIs that may not stand together, and (when `required`) lone dependent AIs.

    A scan is one carrier of possibly several on a label, so scans check exclusions only;
    a label, which carries all of an item's data, checks both.
    """
    present = set(ais)
    for ai in ais:
        for pattern in EXCLUDES.get(ai, []):
            clash = sorted(x for x in present if x != ai and _matches(pattern, x))
            if clash:
                raise _bad(
                    f"AI ({ai}) may not stand beside ({clash[0]})", "a valid combination of AIs"
                )
        if required:
            for group in REQUIRES.get(ai, []):
                if not present & set(group):
                    raise _bad(
                        f"AI ({ai}) needs one of " + ", ".join(f"({g})" for g in group),
                        "a valid combination of AIs",
                    )


#: AI 91 carries a company-internal container code (containers without an SSCC).
INTERNAL_CONTAINER_AI = "91"

_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
#: Symbology identifiers that announce GS1 data (AIM: GS1-128, GS1 DataMatrix, GS1 QR, ...).
GS1_SYMBOLOGIES = {"]C1": "gs1-128", "]d2": "gs1-datamatrix", "]Q3": "gs1-qr", "]e0": "gs1-databar"}


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of `body`: weights 3,1,3,... from the rightmost digit."""
    if not body.isdigit():
        raise ValueError(f"{body!r} is not all digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_key(number: str) -> bool:
    """True when the last digit of a GTIN, GLN, SSCC... is its check digit."""
    return len(number) > 1 and number.isdigit() and check_digit(number[:-1]) == int(number[-1])


@dataclass
class Gs1Data:
    """What a GS1 barcode says, by AI, and the fields the project acts on."""

    form: str
    elements: dict[str, str] = field(default_factory=dict)
    sscc: str | None = None
    gtin: str | None = None
    content_gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    production_date: dt.date | None = None
    expiry_date: dt.date | None = None
    count: Decimal | None = None
    net_kg: Decimal | None = None
    gross_kg: Decimal | None = None
    order: str | None = None
    gln: str | None = None
    gln_extension: str | None = None
    grai: str | None = None
    internal: dict[str, str] = field(default_factory=dict)


@dataclass
class Epc:
    """An RFID tag's identity: an SSCC, or a GTIN with a serial (SGTIN)."""

    scheme: str
    sscc: str | None = None
    gtin: str | None = None
    serial: str | None = None


def _bad(detail: str, expected: str) -> InvalidInput:
    return InvalidInput(detail, field="data", expected=expected)


def _element_error(es: biip.gs1_messages.GS1ElementString) -> str | None:  # type: ignore[name-defined]
    for name in ("sscc_error", "gtin_error", "gln_error"):
        error = getattr(es, name, None)
        if error:
            return str(error)
    return None


def _from_message(form: str, message: GS1Message) -> Gs1Data:
    data = Gs1Data(form=form)
    for es in message.element_strings:
        ai = es.ai.ai
        error = _element_error(es)
        if error:
            raise _bad(f"AI ({ai}): {error}", "a GS1 key with a correct check digit")
        if ai in data.elements:
            raise _bad(f"AI ({ai}) appears twice", "each AI at most once")
        data.elements[ai] = es.value
        _assign(data, ai, es)
    check_pairs(list(data.elements), required=False)
    return data


#: The AIs whose text is kept as it is, by the field that holds it.
_TEXT_FIELDS = {
    "00": "sscc",
    "01": "gtin",
    "02": "content_gtin",
    "10": "lot",
    "21": "serial",
    "400": "order",
    "414": "gln",
    "254": "gln_extension",
    "8003": "grai",
}


def _assign(data: Gs1Data, ai: str, es: biip.gs1_messages.GS1ElementString) -> None:  # type: ignore[name-defined]
    value = es.value
    if ai in _TEXT_FIELDS:
        setattr(data, _TEXT_FIELDS[ai], value)
    elif ai == "11":
        data.production_date = es.date
    elif ai in ("15", "17"):
        data.expiry_date = es.date
    elif ai in ("30", "37"):
        data.count = Decimal(value)
    elif ai.startswith("310"):
        data.net_kg = es.decimal
    elif ai.startswith("330"):
        data.gross_kg = es.decimal
    elif ai.isdigit() and 91 <= int(ai) <= 99:
        data.internal[ai] = value


def parse_gs1(raw: str) -> Gs1Data | None:
    """The GS1 data in a scan, or None when the scan is not GS1 (an internal code).

    Accepts a symbology identifier with GS-separated element strings, the parenthesised form,
    a GS1 Digital Link URI, and bare element strings that contain a GS. Malformed GS1 data
    (a wrong check digit, a field too long, an unknown AI) is a 422 naming what is wrong.
    """
    text = raw.strip("\r\n")
    if text.startswith(("http://", "https://")):
        result = biip.parse(text)
        if result.gs1_digital_link_uri is None:
            raise _bad(
                f"not a GS1 Digital Link URI: {result.gs1_digital_link_uri_error}",
                "a URI like https://id.gs1.org/00/<SSCC> or /01/<GTIN>/10/<lot>",
            )
        dl = result.gs1_digital_link_uri
        return _from_message("digital-link", GS1Message.from_element_strings(dl.element_strings))
    symbology = text[:3] if _SYMBOLOGY.match(text) else None
    body = text[3:] if symbology else text
    if symbology is not None and symbology not in GS1_SYMBOLOGIES:
        return None  # a plain Code 128 / DataMatrix / QR: an internal code
    if body.startswith("("):
        try:
            message = GS1Message.parse_hri(body)
        except biip.ParseError as exc:
            raise _bad(str(exc), "element strings like (00)040123450000001112(37)40") from None
        return _from_message("hri", message)
    if symbology is None and GS not in body:
        return None
    try:
        message = GS1Message.parse(body)
    except biip.ParseError as exc:
        raise _bad(str(exc), "GS1 element strings, FNC1 sent as GS (ASCII 29)") from None
    return _from_message(GS1_SYMBOLOGIES.get(symbology or "", "gs1"), message)


def element_string(ai: str, value: str) -> tuple[str, str]:
    """One (AI, value) pair, checked against biip's AI table (format and check digit)."""
    message = f"({ai}){value}"
    try:
        parsed = GS1Message.parse_hri(message)
    except biip.ParseError as exc:
        raise InvalidInput(
            f"({ai}) {value!r} is not valid: {exc}", field=f"ai_{ai}", expected="a GS1 value"
        ) from None
    error = _element_error(parsed.element_strings[0])
    if error:
        raise InvalidInput(error, field=f"ai_{ai}", expected="a correct check digit")
    return ai, value


def hri(pairs: list[tuple[str, str]]) -> str:
    """The parenthesised human-readable form: (00)040123450000001112(37)40."""
    return "".join(f"({ai}){value}" for ai, value in pairs)


def bracketed(pairs: list[tuple[str, str]]) -> str:
    """The form zint encodes in GS1 mode: [00]040123450000001112[37]40."""
    return "".join(f"[{ai}]{value}" for ai, value in pairs)


def scanner_string(pairs: list[tuple[str, str]], symbology: str = "]C1") -> str:
    """What a scanner sends for these element strings: prefix, GS after variable fields."""
    out = symbology
    for n, (ai, value) in enumerate(pairs):
        out += ai + value
        last = n == len(pairs) - 1
        if (
            not last
            and GS1Message.parse_hri(f"({ai}){value}").element_strings[0].ai.separator_required
        ):
            out += GS
    return out


def yymmdd(value: dt.date) -> str:
    return value.strftime("%y%m%d")


# ---------------------------------------------------------------------------------------------
# EPCs from RFID readers: pure identity URIs and the 96-bit binary forms, as hex.

_SSCC_URI = re.compile(r"^urn:epc:id:sscc:(\d+)\.(\d+)$")
_SGTIN_URI = re.compile(r"^urn:epc:id:sgtin:(\d+)\.(\d+)\.(.+)$")
#: Partition table of SGTIN-96 and SSCC-96: partition -> (company prefix bits, digits).
_PARTITIONS = {
    0: (40, 12),
    1: (37, 11),
    2: (34, 10),
    3: (30, 9),
    4: (27, 8),
    5: (24, 7),
    6: (20, 6),
}


def _sscc(prefix: str, rest: str) -> str:
    """SSCC from a company prefix and the extension digit + serial reference of an EPC."""
    body = rest[0] + prefix + rest[1:]
    return body + str(check_digit(body))


def _gtin(prefix: str, rest: str) -> str:
    """GTIN-14 from a company prefix and the indicator + item reference of an EPC."""
    body = rest[0] + prefix + rest[1:]
    return body + str(check_digit(body))


def parse_epc(raw: str) -> Epc:
    """An EPC as a pure identity URI or 96-bit hex (SSCC-96, SGTIN-96); 422 otherwise."""
    text = raw.strip()
    if m := _SSCC_URI.match(text):
        if len(m.group(1)) + len(m.group(2)) != 17:
            raise _epc_error(text)
        return Epc("sscc", sscc=_sscc(m.group(1), m.group(2)))
    if m := _SGTIN_URI.match(text):
        if len(m.group(1)) + len(m.group(2)) != 13:
            raise _epc_error(text)
        return Epc("sgtin", gtin=_gtin(m.group(1), m.group(2)), serial=m.group(3))
    if re.fullmatch(r"[0-9A-Fa-f]{24}", text):
        bits = int(text, 16)
        header = bits >> 88
        partition = (bits >> 82) & 0x7
        if partition not in _PARTITIONS or header not in (0x30, 0x31):
            raise _epc_error(text)
        cp_bits, cp_digits = _PARTITIONS[partition]
        ref_bits = 44 - cp_bits if header == 0x30 else 58 - cp_bits
        ref_digits = 13 - cp_digits if header == 0x30 else 17 - cp_digits
        low = 38 if header == 0x30 else 24
        prefix = str((bits >> (low + ref_bits)) & ((1 << cp_bits) - 1)).zfill(cp_digits)
        ref = str((bits >> low) & ((1 << ref_bits) - 1)).zfill(ref_digits)
        if header == 0x30:
            serial = str(bits & ((1 << 38) - 1))
            return Epc("sgtin", gtin=_gtin(prefix, ref), serial=serial)
        return Epc("sscc", sscc=_sscc(prefix, ref))
    raise _epc_error(text)


def _epc_error(text: str) -> InvalidInput:
    return InvalidInput(
        f"{text!r} is not an EPC this project reads",
        field="epcs",
        expected="urn:epc:id:sscc:<prefix>.<ref>, urn:epc:id:sgtin:<prefix>.<ref>.<serial>, "
        "or SSCC-96 / SGTIN-96 as 24 hex digits",
    )


def sscc_epc_uri(sscc: str, company_prefix: str) -> str:
    """The pure identity URI of an SSCC whose company prefix is known."""
    n = len(company_prefix)
    return f"urn:epc:id:sscc:{company_prefix}.{sscc[0]}{sscc[1 + n : 17]}"


def sscc_96(sscc: str, company_prefix: str, filter_value: int = 2) -> str:
    """SSCC-96 as hex (the tag an RFID printer writes), for a known company prefix."""
    partition = next(p for p, (_, d) in _PARTITIONS.items() if d == len(company_prefix))
    cp_bits, _ = _PARTITIONS[partition]
    ref = int(sscc[0] + sscc[1 + len(company_prefix) : 17])
    bits = 0x31
    bits = (bits << 3) | filter_value
    bits = (bits << 3) | partition
    bits = (bits << cp_bits) | int(company_prefix)
    bits = (bits << (58 - cp_bits)) | ref
    bits <<= 24
    return f"{bits:024X}"
