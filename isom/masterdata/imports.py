"""Import master data from CSV or JSON as an ERP exports it: upsert by code, all or nothing.

Every row is validated and applied inside one transaction; if any row fails, the whole import
raises `InvalidInput` with one `{row, field, message, expected}` per problem, so the caller's
unit of work rolls back and nothing changes. Rows are numbered from 1 (the first record; for
CSV, the first line after the header).

CSV conventions: one record per line, empty cells mean "not given"; list columns (skills,
operations) are separated by ';' or written as JSON; `attr.<name>` columns fill `attributes`
and `conv.<unit>` columns give item unit conversions; nested columns (shifts, holidays, items)
take JSON. Routes are one line per BOM line (see `ROUTE_COLUMNS`), calendars one line per
shift or holiday.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from isom.errors import InvalidInput, IsomError
from isom.masterdata import records, schemas
from isom.masterdata import services as md

#: Every kind an import takes, in the order a full load must follow (what is named comes first).
KINDS = (
    "units",
    "unit_conversions",
    "locations",
    "items",
    "calendars",
    "workstations",
    "people",
    "customers",
    "suppliers",
    "supplier_items",
    "routes",
)
IMPORT_KINDS = KINDS
_EXTRA: dict[str, tuple[type[BaseModel], Any]] = {
    "supplier_items": (schemas.SupplierItemIn, md.upsert_supplier_item),
    "unit_conversions": (schemas.GlobalConversionIn, md.upsert_global_conversion),
}


def canonical(kind: str) -> str:
    """The import kind's name: 'supplier-items' and 'supplier_items' are the same."""
    return kind.replace("-", "_")


LIST_FIELDS = {"operations", "skills"}
JSON_FIELDS = {"attributes", "conversions", "items", "shifts", "holidays", "steps"}
ROUTE_COLUMNS = (
    "route,name,item,revision,batch_size,active,sequence,operation,step_name,workstation_kind,"
    "skill,setup_minutes,run_minutes,run_basis,cleanup_minutes,input_item,input_qty,floor_stock,"
    "output_item,output_qty,output_kind"
)
CALENDAR_COLUMNS = "calendar,name,timezone,active,shift,weekday,start,end,holiday,holiday_name"


@dataclass
class Record:
    """One record to import, with the source rows it came from (several for a CSV route)."""

    row: int
    data: dict[str, Any]
    rows_by_path: dict[str, int] = field(default_factory=dict)

    def row_for(self, path: str) -> int:
        """The source row a field path (e.g. 'steps.1.inputs.0.item') came from."""
        best = self.row
        best_len = -1
        for prefix, row in self.rows_by_path.items():
            if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = row, len(prefix)
        return best


@dataclass
class ImportFailed:
    errors: list[schemas.RowError] = field(default_factory=list)

    def add(self, row: int, fld: str, message: str, expected: str) -> None:
        self.errors.append(schemas.RowError(row=row, field=fld, message=message, expected=expected))


def unfit(failed: ImportFailed, rec: Record) -> bool:
    """Note a record that is no record at all: not an object, or more cells than columns."""
    if "__not_an_object__" in rec.data:
        failed.add(rec.row, "row", "the record is not an object", "a JSON object")
        return True
    if "__extra_cells__" in rec.data:
        rec.data.pop("__extra_cells__")
        failed.add(rec.row, "row", "more cells than header columns", "one cell per column")
        return True
    return False


def validate_into(
    valid: list[tuple[Record, BaseModel]],
    failed: ImportFailed,
    rec: Record,
    schema: type[BaseModel],
) -> None:
    """Add the record, validated, to `valid`, or note each thing wrong with it."""
    try:
        valid.append((rec, schema.model_validate(rec.data)))
    except ValidationError as exc:
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or "row"
            failed.add(rec.row_for(path), path, err["msg"], _expected(dict(err)))


def upsert_all(
    session: Session,
    valid: list[tuple[Record, BaseModel]],
    failed: ImportFailed,
    upsert: Callable[[Session, BaseModel], bool],
    *,
    unique: str,
    field_of: Callable[[str], str] = str,
) -> tuple[int, int]:
    """Upsert each valid record in its own savepoint, noting the row a refusal or a clash with
    stored data comes from (`unique` says what must stay unique); (created, updated)."""
    created = updated = 0
    for rec, model in valid:
        try:
            with session.begin_nested():
                is_new = upsert(session, model)
        except IsomError as exc:
            fld = field_of(exc.field or "row")
            failed.add(rec.row_for(fld), fld, exc.detail, exc.expected or "")
            continue
        except IntegrityError as exc:
            failed.add(
                rec.row,
                "row",
                f"conflicts with existing data: {str(exc.orig).splitlines()[0]}",
                unique,
            )
            continue
        created += is_new
        updated += not is_new
    return created, updated


def refuse_failed(failed: ImportFailed, rows: int, what: str) -> None:
    """All or nothing: refuse the whole import, every wrong row named, when any was wrong."""
    if failed.errors:
        failed.errors.sort(key=lambda e: e.row)
        n = len({e.row for e in failed.errors})
        raise InvalidInput(
            f"{n} of {rows} {what} are wrong; nothing was imported",
            errors=[e.model_dump() for e in failed.errors],
        )


def _kind_schema(kind: str) -> type[BaseModel]:
    if kind in _EXTRA:
        return _EXTRA[kind][0]
    return records.kind_of(kind).schema_in


def _upsert(session: Session, kind: str, model: BaseModel) -> bool:
    if kind in _EXTRA:
        _, is_new = _EXTRA[kind][1](session, model)
    else:
        _, is_new = records.kind_of(kind).upsert(session, model)
    return bool(is_new)


def _expected(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = str(err.get("type", ""))
    if kind == "missing":
        return "a value (the field is required)"
    if kind == "extra_forbidden":
        return "no such field (check the spelling)"
    if "pattern" in ctx:
        return f"text matching {ctx['pattern']}"
    if "expected" in ctx:
        return str(ctx["expected"])
    for name, text in (("gt", "greater than"), ("ge", "at least"), ("lt", "less than")):
        if name in ctx:
            return f"a number {text} {ctx[name]}"
    if "le" in ctx:
        return f"a number at most {ctx['le']}"
    if "decimal_places" in ctx:
        return f"at most {ctx['decimal_places']} decimals"
    return kind.replace("_", " ")


# --- parsing -----------------------------------------------------------------------------


def parse(kind: str, content: str | bytes, fmt: str) -> list[Record]:
    """Turn a CSV or JSON document into records; a malformed document is refused whole."""
    if kind not in IMPORT_KINDS:
        raise InvalidInput(
            f"cannot import {kind!r}", field="kind", expected=", ".join(IMPORT_KINDS)
        )
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    if fmt == "json":
        return _parse_json(text)
    if fmt == "csv":
        rows = _csv_rows(text)
        if kind == "routes":
            return _group_routes(rows)
        if kind == "calendars":
            return _group_calendars(rows)
        return [Record(row=n, data=_flat(cells)) for n, cells in rows]
    raise InvalidInput(f"unknown format {fmt!r}", field="format", expected="csv or json")


def _parse_json(text: str) -> list[Record]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the JSON is malformed: {exc}", field="body", expected="a JSON list of objects"
        ) from exc
    if isinstance(doc, dict) and len(doc) == 1 and isinstance(next(iter(doc.values())), list):
        doc = next(iter(doc.values()))
    if not isinstance(doc, list):
        raise InvalidInput(
            "the JSON is not a list", field="body", expected="a JSON list of objects"
        )
    return [
        Record(row=n, data=obj if isinstance(obj, dict) else {"__not_an_object__": obj})
        for n, obj in enumerate(doc, start=1)
    ]


def _csv_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise InvalidInput("the CSV has no header line", field="body", expected="a header line")
    out = []
    for n, raw in enumerate(reader, start=1):
        cells = {
            (k or "").strip(): (v or "").strip()
            for k, v in raw.items()
            if k is not None and not isinstance(v, list)
        }
        if None in raw:
            cells["__extra_cells__"] = "more cells than header columns"
        if any(cells.values()):
            out.append((n, cells))
    return out


def _cell(name: str, value: str) -> Any:
    if name in JSON_FIELDS or (name in LIST_FIELDS and value.startswith("[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value  # pydantic reports the type error against the field
    if name in LIST_FIELDS:
        return [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]
    return value


def _flat(cells: dict[str, str]) -> dict[str, Any]:
    """One CSV line as an input object: empty cells left out, attr.* and conv.* gathered."""
    data: dict[str, Any] = {}
    for name, value in cells.items():
        if value == "":
            continue
        if name.startswith(("attr.", "attributes.")):
            data.setdefault("attributes", {})[name.split(".", 1)[1]] = value
        elif name.startswith("conv."):
            data.setdefault("conversions", []).append({"unit": name[5:], "factor": value})
        else:
            data[name] = _cell(name, value)
    return data


def _take(target: dict[str, Any], cells: dict[str, str], pairs: Iterable[tuple[str, str]]) -> None:
    for column, key in pairs:
        value = cells.pop(column, "")
        if value != "" and key not in target:
            target[key] = value


#: The columns of a route line that give a step's input and its output, by the key each fills.
BOM_COLUMNS = (
    (
        "inputs",
        (("input_item", "item"), ("input_qty", "quantity_per"), ("floor_stock", "floor_stock")),
    ),
    ("outputs", (("output_item", "item"), ("output_qty", "quantity_per"), ("output_kind", "kind"))),
)


def _group_routes(rows: list[tuple[int, dict[str, str]]]) -> list[Record]:
    """One CSV line per BOM line, grouped into nested routes by the `route` column."""
    routes: dict[str, Record] = {}
    for n, original in rows:
        cells = dict(original)
        code = cells.pop("route", "") or f"<row {n}>"
        rec = routes.setdefault(code, Record(row=n, data={"code": code, "steps": []}))
        _take(
            rec.data,
            cells,
            [(c, c) for c in ("name", "item", "revision", "batch_size", "active")],
        )
        seq = cells.pop("sequence", "")
        steps: list[dict[str, Any]] = rec.data["steps"]
        step = next((s for s in steps if s.get("sequence") == seq), None)
        if step is None:
            step = {"sequence": seq, "inputs": [], "outputs": []}
            steps.append(step)
            rec.rows_by_path[f"steps.{len(steps) - 1}"] = n
        si = steps.index(step)
        _take(
            step,
            cells,
            [("operation", "operation"), ("step_name", "name")]
            + [
                (c, c)
                for c in (
                    "workstation_kind",
                    "skill",
                    "setup_minutes",
                    "run_minutes",
                    "run_basis",
                    "cleanup_minutes",
                )
            ],
        )
        for part, columns in BOM_COLUMNS:
            line: dict[str, Any] = {}
            _take(line, cells, columns)
            if line:
                step[part].append(line)
                rec.rows_by_path[f"steps.{si}.{part}.{len(step[part]) - 1}"] = n
        for name, value in cells.items():
            if value:  # an unknown column: let the schema name it
                rec.data.setdefault(name, value)
                rec.rows_by_path[name] = n
    for rec in routes.values():
        for step in rec.data["steps"]:
            if step["sequence"] == "":
                step.pop("sequence")
    return list(routes.values())


def _group_calendars(rows: list[tuple[int, dict[str, str]]]) -> list[Record]:
    """One CSV line per shift or holiday, grouped into calendars by the `calendar` column."""
    cals: dict[str, Record] = {}
    for n, original in rows:
        cells = dict(original)
        code = cells.pop("calendar", "") or f"<row {n}>"
        rec = cals.setdefault(
            code, Record(row=n, data={"code": code, "shifts": [], "holidays": []})
        )
        _take(rec.data, cells, [(c, c) for c in ("name", "timezone", "active")])
        shift: dict[str, Any] = {}
        _take(shift, cells, [("shift", "name"), ("weekday", "weekday")])
        _take(shift, cells, [("start", "start"), ("end", "end")])
        if shift:
            rec.data["shifts"].append(shift)
            rec.rows_by_path[f"shifts.{len(rec.data['shifts']) - 1}"] = n
        hol: dict[str, Any] = {}
        _take(hol, cells, [("holiday", "date"), ("holiday_name", "name")])
        if hol:
            rec.data["holidays"].append(hol)
            rec.rows_by_path[f"holidays.{len(rec.data['holidays']) - 1}"] = n
        for name, value in cells.items():
            if value:
                rec.data.setdefault(name, value)
                rec.rows_by_path[name] = n
    return list(cals.values())


# --- validating and applying -------------------------------------------------------------


def _key(kind: str, data: dict[str, Any]) -> str | None:
    if kind == "supplier_items":
        return f"{data.get('supplier')}/{data.get('item')}"
    if kind == "unit_conversions":
        return f"{data.get('from_unit')}->{data.get('to_unit')}"
    code = data.get("code")
    return code if isinstance(code, str) else None


def _order_locations(valid: list[tuple[Record, BaseModel]]) -> list[tuple[Record, BaseModel]]:
    """Parents before children when both are in the file, whatever order the ERP wrote them."""
    by_code = {getattr(m, "code"): (r, m) for r, m in valid}  # noqa: B009
    done: set[str] = set()
    out: list[tuple[Record, BaseModel]] = []

    def visit(code: str, trail: set[str]) -> None:
        if code in done or code in trail or code not in by_code:
            return
        rec, model = by_code[code]
        parent = getattr(model, "parent", None)
        if parent:
            visit(parent, trail | {code})
        done.add(code)
        out.append((rec, model))

    for _, model in valid:
        visit(getattr(model, "code"), set())  # noqa: B009
    return out


def run(session: Session, kind: str, content: str | bytes, fmt: str) -> schemas.ImportResult:
    """Validate and upsert every record of a CSV or JSON document, or raise with every row error."""
    kind = canonical(kind)
    return _apply(session, kind, parse(kind, content, fmt))


def import_rows(session: Session, kind: str, rows: list[dict[str, Any]]) -> schemas.ImportResult:
    """Validate and upsert records already parsed (e.g. from a JSON file), all or nothing."""
    kind = canonical(kind)
    if kind not in IMPORT_KINDS:
        raise InvalidInput(f"cannot import {kind!r}", field="kind", expected=", ".join(KINDS))
    return _apply(session, kind, [Record(row=n, data=dict(r)) for n, r in enumerate(rows, 1)])


def _apply(session: Session, kind: str, recs: list[Record]) -> schemas.ImportResult:
    schema = _kind_schema(kind)
    failed = ImportFailed()
    valid: list[tuple[Record, BaseModel]] = []
    first_row: dict[str, int] = {}
    for rec in recs:
        if unfit(failed, rec):
            continue
        key = _key(kind, rec.data)
        if key is not None and key in first_row:
            failed.add(
                rec.row,
                "code",
                f"{key} already appears in row {first_row[key]}",
                "each code once per import",
            )
            continue
        if key is not None:
            first_row[key] = rec.row
        validate_into(valid, failed, rec, schema)
    if kind == "locations":
        valid = _order_locations(valid)
    created, updated = upsert_all(
        session,
        valid,
        failed,
        lambda s, model: _upsert(s, kind, model),
        unique="values that keep codes, badges and GTINs unique",
    )
    refuse_failed(failed, len(recs), f"{kind} rows")
    return schemas.ImportResult(kind=kind, rows=len(recs), created=created, updated=updated)


def format_of(filename: str | None, content_type: str | None) -> str:
    """'csv' or 'json', from a file name's extension or else a content type."""
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    ctype = (content_type or "").lower()
    if "json" in ctype:
        return "json"
    if "csv" in ctype or ctype.startswith("text/"):
        return "csv"
    raise InvalidInput(
        "cannot tell whether the file is CSV or JSON",
        field="file",
        expected="a .csv or .json file, or Content-Type text/csv or application/json",
    )
