"""Master data pages: list, search, edit and import records.

Every form posts back with the session's csrf token and goes through the same services as the
API (`records.upsert`, `imports.run`), so a page can do nothing the API would refuse. A refused
form is shown again with what is wrong beside each field, and nothing is saved.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.errors import Forbidden, IsomError
from isom.masterdata import imports, records
from isom.masterdata.api import MAX_IMPORT_BYTES, WRITERS, decode_file
from isom.toolkit.deps import Caller, Db, current_principal
from isom.toolkit.render import PAGE_SIZE, check_csrf, error_page, form_text, guarded, render

router = APIRouter(include_in_schema=False)

ADMINS = frozenset({Role.admin.value})
#: Kinds whose records hold nested lists a form cannot show well: edited by import or the API.
NESTED_ONLY = frozenset({"routes", "calendars"})


def _may_write(principal: Principal, kind: str) -> bool:
    allowed = {r.value for r in WRITERS.get(kind, ())} | ADMINS
    return principal.has_any(frozenset(allowed))


# --- a form for the plain fields of a record -------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One input of a record form: its name, the input kind, choices, and whether it is needed."""

    name: str
    kind: str  # text, number, integer, checkbox, choice, list
    required: bool
    optional: bool  # None is a value: a blank input clears the field
    choices: tuple[str, ...] = ()
    description: str | None = None


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The type inside Optional[...] / Annotated[...], and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional
            annotation = args[0]
        else:
            return annotation, optional


def form_fields(schema: type[BaseModel]) -> list[FormField]:
    """The fields of an input schema a page form can edit: scalars, enums, lists of codes."""
    out: list[FormField] = []
    for name, info in schema.model_fields.items():
        inner, optional = _plain(info.annotation)
        kind: str | None = None
        choices: tuple[str, ...] = ()
        if isinstance(inner, type) and issubclass(inner, enum.Enum):
            kind, choices = "choice", tuple(str(m.value) for m in inner)
        elif inner is bool:
            kind = "checkbox"
        elif inner is int:
            kind = "integer"
        elif inner is Decimal:
            kind = "number"
        elif inner is str:
            kind = "text"
        elif typing.get_origin(inner) is list and _plain(typing.get_args(inner)[0])[0] is str:
            kind = "list"
        if kind is not None and name != "user_id":
            out.append(
                FormField(name, kind, info.is_required(), optional, choices, info.description)
            )
    return out


def _from_form(fields: list[FormField], form: dict[str, str]) -> dict[str, Any]:
    """What the form says, shaped for the input schema: blank optional fields become None."""
    data: dict[str, Any] = {}
    for f in fields:
        raw = form.get(f.name)
        if f.kind == "checkbox":
            data[f.name] = raw is not None
            continue
        text = (raw or "").strip()
        if f.kind == "list":
            data[f.name] = [part.strip() for part in text.split(",") if part.strip()]
        elif text:
            data[f.name] = text
        elif f.optional:
            data[f.name] = None
    return data


def _errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's complaints, one plain sentence per field."""
    out: dict[str, str] = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "form"
        out.setdefault(name, err["msg"])
    return out


def _values(view: BaseModel | None) -> dict[str, Any]:
    if view is None:
        return {}
    values = view.model_dump(mode="json")
    return {
        k: ", ".join(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else v
        for k, v in values.items()
    }


# --- master data -----------------------------------------------------------------------------


@router.get("/masterdata")
def masterdata_list(
    request: Request,
    principal: Caller,
    db: Db,
    kind: str = Query(default="items", max_length=40),
    q: str = Query(default="", max_length=100),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> Response:
    """Records of one kind, searchable by code or name."""

    def build() -> Response:
        rows, total = db.read(
            lambda s: records.list_records(s, kind, q=q or None, limit=PAGE_SIZE, offset=offset)
        )
        return render(
            request,
            "md_list.html",
            principal,
            kinds=list(records.KINDS),
            kind=kind,
            q=q,
            rows=[r.model_dump(mode="json") for r in rows],
            total=total,
            offset=offset,
            page_size=PAGE_SIZE,
            may_write=_may_write(principal, kind),
        )

    return guarded(request, principal, build)


def _record_page(
    request: Request,
    principal: Principal,
    kind: str,
    code: str | None,
    view: BaseModel | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    k = records.kind_of(kind)
    editable = kind not in NESTED_ONLY and _may_write(principal, kind)
    return render(
        request,
        "md_record.html",
        principal,
        status_code=status_code,
        kind=kind,
        label=k.label,
        code=code,
        record=view.model_dump(mode="json") if view is not None else None,
        fields=form_fields(k.schema_in),
        values=values if values is not None else _values(view),
        errors=errors or {},
        editable=editable,
    )


@router.get("/masterdata/{kind}/new")
def masterdata_new(
    request: Request, kind: str, principal: Principal = Depends(current_principal)
) -> Response:
    """An empty form for a new record of a kind."""
    return guarded(request, principal, lambda: _record_page(request, principal, kind, None, None))


@router.get("/masterdata/{kind}/{code}")
def masterdata_record(
    request: Request, kind: str, code: str, principal: Caller, db: Db
) -> Response:
    """One record, with a form to change it for those who may."""

    def build() -> Response:
        view = db.read(lambda s: records.get_record(s, kind, code))
        return _record_page(request, principal, kind, code, view)

    return guarded(request, principal, build)


@router.post("/masterdata/{kind}")
async def masterdata_save(request: Request, kind: str, principal: Caller, db: Db) -> Response:
    """Create or update a record from its form; a refusal shows the form again, unsaved."""
    form = await form_text(request)
    try:
        k = records.kind_of(kind)
        check_csrf(principal, form.get("csrf_token", ""))
        if kind in NESTED_ONLY or not _may_write(principal, kind):
            raise Forbidden(f"{principal.name} may not change {kind} here")
        fields = form_fields(k.schema_in)
        data = _from_form(fields, form)

        def refused(errors: dict[str, str], status_code: int) -> Response:
            """The form again with what is wrong, nothing saved."""
            return _record_page(
                request,
                principal,
                kind,
                form.get("code") or None,
                None,
                values=form,
                errors=errors,
                status_code=status_code,
            )

        try:
            payload = k.schema_in.model_validate(data)
        except ValidationError as exc:
            return refused(_errors(exc), 422)
        try:
            view, _created = db.write(lambda s: records.upsert(s, kind, payload))
        except IsomError as exc:
            if exc.status_code >= 500:
                raise
            return refused({exc.field or "form": exc.detail}, exc.status_code)
    except IsomError as exc:
        return error_page(request, principal, exc)
    code = str(view.model_dump()["code"])
    return RedirectResponse(f"/masterdata/{kind}/{quote(code, safe='')}?saved=1", status_code=303)


@router.get("/masterdata-import")
def import_form(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """Upload a CSV or JSON file of one kind; it all loads or nothing does."""
    return guarded(
        request,
        principal,
        lambda: render(
            request, "md_import.html", principal, kinds=list(imports.KINDS), result=None
        ),
    )


@router.post("/masterdata-import")
async def import_upload(
    request: Request,
    principal: Caller,
    db: Db,
    kind: str = Form(max_length=40),
    file: UploadFile = Form(),
    csrf_token: str = Form(default=""),
) -> Response:
    """Load the file through the import service; the page lists every bad row, or the counts."""
    try:
        check_csrf(principal, csrf_token)
        if not _may_write(principal, imports.canonical(kind)):
            raise Forbidden(f"{principal.name} may not import {kind}")
        text = decode_file(await file.read(MAX_IMPORT_BYTES + 1))
        fmt = imports.format_of(file.filename, file.content_type)
        result = db.write(lambda s: imports.run(s, kind, text, fmt))
    except IsomError as exc:
        if exc.status_code in (401, 403):
            return error_page(request, principal, exc)
        return render(
            request,
            "md_import.html",
            principal,
            status_code=exc.status_code,
            kinds=list(imports.KINDS),
            result=None,
            error=exc,
            kind=kind,
        )
    return render(
        request, "md_import.html", principal, kinds=list(imports.KINDS), result=result, kind=kind
    )
