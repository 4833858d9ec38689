"""Master data endpoints: list, get, upsert (PUT) and deactivate (DELETE) by code, and import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.errors import InvalidInput, problem_responses
from isom.masterdata import imports, records, schemas
from isom.toolkit import guards
from isom.toolkit.deps import Db, Reader, require_roles

router = APIRouter(prefix="/masterdata", tags=["masterdata"])

PROBLEMS = problem_responses(
    "A code in the request names nothing",
    "The change conflicts with existing data (a GTIN, a badge, a unit)",
)

R = Role
#: Who may change each kind (admin always may); the ERP integrator may load what the ERP owns.
WRITERS: dict[str, tuple[Role, ...]] = {
    "units": (R.supervisor, R.integrator),
    "items": (R.supervisor, R.integrator),
    "locations": (R.supervisor, R.integrator),
    "calendars": (R.supervisor, R.planner, R.integrator),
    "workstations": (R.supervisor, R.integrator),
    "people": (R.supervisor, R.integrator),
    "routes": (R.supervisor, R.planner, R.integrator),
    "customers": (R.buyer, R.supervisor, R.integrator),
    "suppliers": (R.buyer, R.integrator),
    "supplier_items": (R.buyer, R.integrator),
    "unit_conversions": (R.supervisor, R.integrator),
}
MAX_IMPORT_BYTES = 20 * 1024 * 1024


async def read_import_file(request: Request) -> tuple[str, str]:
    """An import file as text and its format ('csv' or 'json'), from a multipart form's `file`
    or the raw body with its content type; refused when too large or not UTF-8."""
    await guards.refuse_bad_body(request)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("no file in the form", field="file", expected="a form field 'file'")
        return decode_file(await upload.read()), imports.format_of(
            upload.filename, upload.content_type
        )
    return decode_file(await request.body()), imports.format_of(None, ctype)


def decode_file(content: bytes) -> str:
    """An uploaded import file as text, refused when too large or not UTF-8."""
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            "the file is too large", field="file", expected=f"at most {MAX_IMPORT_BYTES} bytes"
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the file is not UTF-8", field="file", expected="UTF-8 text") from exc


class Page(BaseModel):
    """One page of records and how many match in all."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


def _mount(kind: records.Kind) -> None:
    name = kind.name
    label = kind.label
    out: Any = kind.schema_out
    writers = require_roles(*WRITERS[name])

    def list_(
        _: Reader,
        db: Db,
        q: str | None = Query(default=None, max_length=100, description="Part of a code or name"),
        active: bool | None = Query(default=None, description="Only active or inactive ones"),
        limit: int = Query(default=100, ge=1, le=1000),
        offset: int = Query(default=0, ge=0, le=1_000_000_000),
    ) -> Page:
        rows, total = db.read(
            lambda s: records.list_records(s, name, q=q, active=active, limit=limit, offset=offset)
        )
        return Page(
            total=total, limit=limit, offset=offset, items=[r.model_dump(mode="json") for r in rows]
        )

    def get_(_: Reader, db: Db, code: str = Path(max_length=64)) -> Any:
        return db.read(lambda s: records.get_record(s, name, code))

    def put_(
        body: Any,
        response: Response,
        db: Db,
        code: str = Path(max_length=64),
        _: Principal = Depends(writers),
    ) -> Any:
        if body.code != code:
            raise InvalidInput(
                f"the body's code {body.code!r} is not the {code!r} of the URL",
                field="code",
                expected=f"{code!r}, as in the URL",
            )
        view, created = db.write(lambda s: records.upsert(s, name, body))
        response.status_code = 201 if created else 200
        return view

    def delete_(db: Db, code: str = Path(max_length=64), _: Principal = Depends(writers)) -> Any:
        return db.write(lambda s: records.deactivate(s, name, code))

    put_.__annotations__["body"] = kind.schema_in
    list_.__doc__ = f"List {name}, by code, optionally filtered by `q` and `active`."
    get_.__doc__ = f"One {label} by code, active or not."
    put_.__doc__ = f"Create or update a {label} by code (201 when new); left-out fields keep."
    delete_.__doc__ = f"Deactivate a {label}: kept for history, refused for new work."
    path = f"/{name}/{{code}}"
    ops = (
        (f"/{name}", list_, "GET", Page, f"List {name}"),
        (path, get_, "GET", out, f"Get a {label}"),
        (path, put_, "PUT", out, f"Create or update a {label}"),
        (path, delete_, "DELETE", out, f"Deactivate a {label}"),
    )
    for url, fn, method, model, summary in ops:
        router.add_api_route(
            url,
            fn,
            methods=[method],
            response_model=model,
            responses={201: {"description": "Created"}, **PROBLEMS}
            if method == "PUT"
            else PROBLEMS,
            summary=summary,
            name=f"md_{method.lower()}_{name}{'_one' if url == path else ''}",
        )


for _kind in records.KINDS.values():
    _mount(_kind)


_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post(
    "/import/{kind}",
    response_model=schemas.ImportResult,
    responses=PROBLEMS,
    summary="Import CSV or JSON, all or nothing",
    openapi_extra=_IMPORT_BODY,
)
async def import_(
    request: Request,
    db: Db,
    principal: Reader,
    kind: str = Path(description=", ".join(imports.IMPORT_KINDS)),
) -> schemas.ImportResult:
    """Upsert records by code from an ERP export; any bad row rejects the whole file (422)."""
    kind = imports.canonical(kind)
    if kind not in WRITERS:
        raise InvalidInput(
            f"cannot import {kind!r}", field="kind", expected=", ".join(imports.IMPORT_KINDS)
        )
    await require_roles(*WRITERS[kind])(request)
    text, fmt = await read_import_file(request)
    result: schemas.ImportResult = await run_in_threadpool(
        db.write, lambda s: imports.run(s, kind, text, fmt)
    )
    return result
