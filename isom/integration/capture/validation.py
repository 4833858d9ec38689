"""Checking a capture document against GS1's EPCIS 2.0 JSON schema before anything is read."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from isom.errors import InvalidInput, IsomError


def standards_dir() -> Path:
    """Where GS1's reference files are read from: `ISOM_STANDARDS_DIR`, or ../shared/standards."""
    configured = os.environ.get("ISOM_STANDARDS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[4] / "shared" / "standards"


@cache
def _validator(path: Path) -> Any:
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class StandardsMissing(IsomError):
    """The server cannot check documents: GS1's schema is not where it was told to be."""

    status_code = 503
    code = "standards_missing"
    title = "Reference schema missing"


def validate(doc: Any) -> None:
    """Refuse a document that GS1's EPCIS 2.0 JSON schema refuses, naming where and why."""
    path = standards_dir() / "epcis-2.0" / "EPCIS-JSON-Schema.json"
    if not path.is_file():
        raise StandardsMissing(
            f"the EPCIS JSON schema is not installed at {path}",
            field="ISOM_STANDARDS_DIR",
            expected="the folder holding epcis-2.0/EPCIS-JSON-Schema.json",
        )
    found = sorted(_validator(path).iter_errors(doc), key=lambda e: [str(p) for p in e.path])
    errors = [_deepest(e) for e in found]
    if errors:
        listed = [{"field": _path(e.absolute_path), "message": _message(e)} for e in errors[:20]]
        raise InvalidInput(
            f"the document is not valid EPCIS 2.0: {listed[0]['message']}",
            field=listed[0]["field"],
            expected="a document valid against GS1's EPCIS-JSON-Schema.json",
            errors=listed,
        )
    if not isinstance(doc, dict) or doc.get("type") != "EPCISDocument":
        raise InvalidInput(
            "only an EPCISDocument can be captured",
            field="type",
            expected="EPCISDocument",
        )


def _deepest(error: Any) -> Any:
    """Of the alternatives an `anyOf` tried, the one that got furthest into the document."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def _message(error: Any) -> str:
    if error.validator == "not":
        return f"{_path(error.absolute_path)} is not allowed in this event"
    return str(error.message)[:300]


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(document)"
