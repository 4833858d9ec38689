"""GS1 parsing and encoding: STANDARDS.md's vectors, every used AI against the syntax dictionary."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from biip.gs1_messages import GS1Message

from isom.devices import gs1
from isom.errors import InvalidInput
from tests.devices.conftest import standards_file

GS = gs1.GS


@pytest.mark.parametrize(
    "number",
    ["02345673", "416000336108", "1234567890128", "12345678901231", "123456789012345675"],
)
def test_check_digit_vectors_pass_and_a_changed_last_digit_fails(number: str) -> None:
    assert gs1.is_valid_key(number)
    for wrong in range(10):
        if str(wrong) != number[-1]:
            assert not gs1.is_valid_key(number[:-1] + str(wrong))


def test_sscc_example_check_digit() -> None:
    assert gs1.check_digit("04012345000000111") == 2


def test_gs1_128_example_with_symbology_and_gs() -> None:
    data = gs1.parse_gs1(
        "]C1" + "00040123450000001112" + "0204012345000016" + "3740" + GS + "10JOB-4711"
    )
    assert data is not None
    assert data.form == "gs1-128"
    assert (data.sscc, data.content_gtin, data.count, data.lot) == (
        "040123450000001112",
        "04012345000016",
        Decimal(40),
        "JOB-4711",
    )


def test_gs1_datamatrix_example() -> None:
    raw = "]d2" + "0104012345000016" + "17261231" + "3102001250" + "10LOT-88123" + GS + "21SN000123"
    data = gs1.parse_gs1(raw)
    assert data is not None
    assert data.form == "gs1-datamatrix"
    assert data.gtin == "04012345000016"
    assert data.expiry_date == dt.date(2026, 12, 31)
    assert data.net_kg == Decimal("12.50")
    assert (data.lot, data.serial) == ("LOT-88123", "SN000123")


def test_parenthesised_form_digital_link_and_qr_give_the_same_fields() -> None:
    hri = gs1.parse_gs1("(00)040123450000001112(02)04012345000016(37)40(10)JOB-4711")
    qr = gs1.parse_gs1(
        "]Q3" + "00040123450000001112" + "0204012345000016" + "3740" + GS + "10JOB-4711"
    )
    link = gs1.parse_gs1("https://id.gs1.org/00/040123450000001112")
    assert hri is not None and qr is not None and link is not None
    assert hri.elements == qr.elements
    assert (hri.form, qr.form, link.form) == ("hri", "gs1-qr", "digital-link")
    assert link.sscc == hri.sscc == "040123450000001112"


def test_expiry_day_00_is_the_last_day_of_the_month() -> None:
    data = gs1.parse_gs1("(01)04012345000016(17)260200(10)L1")
    assert data is not None and data.expiry_date == dt.date(2026, 2, 28)


def test_internal_codes_are_not_gs1() -> None:
    assert gs1.parse_gs1("C0000042") is None
    assert gs1.parse_gs1("]C0WO-000001/10") is None


@pytest.mark.parametrize(
    "raw, what",
    [
        ("]C100040123450000001113", "check digit"),
        ("(01)04012345000017", "check digit"),
        ("]C100123", "00"),
        ("(10)" + "X" * 21 + "(01)04012345000016", ""),
        ("https://example.com/nothing", "Digital Link"),
    ],
)
def test_malformed_gs1_is_a_clear_422(raw: str, what: str) -> None:
    with pytest.raises(InvalidInput) as err:
        gs1.parse_gs1(raw)
    assert err.value.field == "data"
    assert what.lower() in err.value.detail.lower()


def test_scanner_string_puts_gs_only_after_variable_fields() -> None:
    pairs = [
        ("00", "040123450000001112"),
        ("02", "04012345000016"),
        ("37", "40"),
        ("10", "JOB-4711"),
    ]
    assert gs1.scanner_string(pairs) == (
        "]C1" + "00040123450000001112" + "0204012345000016" + "3740" + GS + "10JOB-4711"
    )


# ---------------------------------------------------------------------------------------------
# Every AI the project uses, against the GS1 Barcode Syntax Dictionary.

_LINE = re.compile(r"^(\d{2,4})(?:-(\d{2,4}))?\s+([*?]*)\s+(\S.*?)\s{2,}")


def _dictionary() -> dict[str, tuple[bool, list[str]]]:
    """AI -> (predefined length, components) from the reference file."""
    out: dict[str, tuple[bool, list[str]]] = {}
    path = standards_file("gs1-syntax", "gs1-syntax-dictionary.txt")
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line + "  ")
        if not m:
            continue
        first, last, flags, spec = m.groups()
        components = [c for c in spec.split() if c[0] in "NXYZ["]
        for n in range(int(first), int(last or first) + 1):
            out[str(n).zfill(len(first))] = ("*" in flags, components)
    return out


def _value(component: str) -> str:
    """A valid value for one component: 'N18,csum', 'X..20', 'N6,yymmd0', 'N1,zero'..."""
    kind, _, rest = component.partition(",")
    linters = rest.split(",") if rest else []
    optional = kind.startswith("[")
    kind = kind.strip("[]")
    length = int(kind[1:].split("..")[-1])
    if "yymmd0" in linters or "yymmdd" in linters:
        return "261231"
    if "zero" in linters:
        return "0"
    if kind[0] == "N":
        body = "4012345" + "1" * max(0, length - 8)
        body = body[: length - 1] if length > 1 else "7"
        if "csum" in linters:
            return body + str(gs1.check_digit(body))
        return (body + "7")[:length]
    text = "LOT-88123/A.b_c" if not optional else "T1"
    return text[:length]


def _too_long(component: str) -> str:
    kind = component.partition(",")[0].strip("[]")
    return ("9" if kind[0] == "N" else "X") * (int(kind[1:].split("..")[-1]) + 1)


def test_every_used_ai_is_in_the_dictionary_and_round_trips() -> None:
    reference = _dictionary()
    for ai in gs1.USED_AIS:
        assert ai in reference, f"AI ({ai}) is not in the GS1 Barcode Syntax Dictionary"
        fixed, components = reference[ai]
        value = "".join(_value(c) for c in components)
        pair = gs1.element_string(ai, value)
        parsed = GS1Message.parse_hri(gs1.hri([pair])).element_strings[0]
        # The dictionary's "*" (no FNC1 needed) agrees with the parser's separator rule.
        assert parsed.ai.separator_required is not fixed, ai
        # Scanner form with a following field, parsed back: the same value.
        raw = gs1.scanner_string([pair, ("21", "S1")] if ai != "21" else [pair, ("10", "L")])
        data = gs1.parse_gs1(raw)
        assert data is not None and data.elements[ai] == value, ai


def test_every_used_ai_refuses_a_value_longer_than_its_format() -> None:
    reference = _dictionary()
    for ai in gs1.USED_AIS:
        _, components = reference[ai]
        last = components[-1]
        head = "".join(_value(c) for c in components[:-1])
        with pytest.raises(InvalidInput):
            gs1.element_string(ai, head + _too_long(last))


def test_keys_with_a_check_digit_refuse_a_wrong_one() -> None:
    reference = _dictionary()
    for ai in gs1.USED_AIS:
        _, components = reference[ai]
        first = components[0]
        if "csum" not in first:
            continue
        good = _value(first)
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        rest = "".join(_value(c) for c in components[1:2] if not c.startswith("["))
        with pytest.raises(InvalidInput):
            gs1.element_string(ai, bad + rest)


# ---------------------------------------------------------------------------------------------
# EPCs.


def test_epc_uris_and_96_bit_forms() -> None:
    assert gs1.parse_epc("urn:epc:id:sscc:4012345.0000000111").sscc == "040123450000001112"
    sgtin = gs1.parse_epc("urn:epc:id:sgtin:4012345.000001.SN1")
    assert (sgtin.gtin, sgtin.serial) == ("04012345000016", "SN1")
    # GS1 EPC Tag Data Standard example: urn:epc:id:sgtin:0614141.812345.6789
    tds = gs1.parse_epc("3074257BF7194E4000001A85")
    assert (tds.gtin, tds.serial) == ("80614141123458", "6789")
    hexed = gs1.sscc_96("040123450000001112", "4012345")
    assert gs1.parse_epc(hexed).sscc == "040123450000001112"
    assert gs1.sscc_epc_uri("040123450000001112", "4012345") == "urn:epc:id:sscc:4012345.0000000111"
    with pytest.raises(InvalidInput) as err:
        gs1.parse_epc("urn:epc:id:sgtin:4012345.01.X")
    assert err.value.field == "epcs"


def _attributes() -> dict[str, tuple[list[list[str]], list[str]]]:
    """AI -> (req groups, ex patterns) from the reference file, ranges expanded."""
    out: dict[str, tuple[list[list[str]], list[str]]] = {}
    path = standards_file("gs1-syntax", "gs1-syntax-dictionary.txt")
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        head = line.split("#", 1)[0].split()
        first, _, last = head[0].partition("-")
        req = [a[4:].split(",") for a in head if a.startswith("req=")]
        ex = [x for a in head if a.startswith("ex=") for x in a[3:].split(",")]
        for n in range(int(first), int(last or first) + 1):
            out[str(n).zfill(len(first))] = (req, ex)
    return out


def test_pairing_rules_agree_with_the_dictionary() -> None:
    reference = _attributes()
    for ai in gs1.USED_AIS:
        req, ex = reference[ai]
        assert gs1.REQUIRES.get(ai, []) == req, ai
        assert gs1.EXCLUDES.get(ai, []) == ex, ai


def test_pairing_is_enforced_on_labels_and_exclusions_on_scans() -> None:
    with pytest.raises(InvalidInput, match=r"\(01\) may not stand beside \(37\)"):
        gs1.parse_gs1("(01)04012345000016(37)5")
    # One symbol of a split label may lack its partner: a scan checks exclusions only.
    assert gs1.parse_gs1("(10)LOT-1") is not None
    gs1.check_pairs(["00", "02", "37", "10"])
    with pytest.raises(InvalidInput, match=r"\(37\) needs one of \(00\)"):
        gs1.check_pairs(["91", "02", "37"])
    with pytest.raises(InvalidInput, match=r"\(3102\) may not stand beside \(3103\)"):
        gs1.check_pairs(["01", "3102", "3103"])
