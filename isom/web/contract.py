"""The OpenAPI document says what the API really answers.

Every error is an RFC 9457 problem+json body, so each 4xx and 5xx response the routes list
gets that body's schema; every operation may answer 422 (a parameter, header or body with a
character no store keeps) and every operation that takes a body may answer 413 (over its cap).
Each error response lists the stable `code`s its status carries; `ProblemCode` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from isom.errors import HTTP_CODES, every_code

PROBLEM = "application/problem+json"
REF = "#/components/schemas/Problem"
#: Codes answered outside the error classes: an unforeseen failure and a failed readiness check.
OTHER_CODES: dict[str, tuple[int, str]] = {
    "internal-error": (500, "An unforeseen failure; the request id names it in the log"),
    "not-ready": (503, "A readiness check fails"),
}


class Problem(BaseModel):
    """An error (RFC 9457): what went wrong, and for bad input the field and what was expected."""

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="A stable machine-readable code: see ProblemCode")
    instance: str | None = Field(default=None, description="The path that was called")
    field: str | None = Field(default=None, description="The field, parameter or header at fault")
    expected: str | None = Field(default=None, description="What would have been accepted")
    errors: list[dict[str, Any]] | None = Field(default=None, description="Every field at fault")


_ADDED: dict[str, str] = {
    "422": "Invalid input: the field and what was expected",
    "413": "The body is larger than this route takes",
}


def document_problems(doc: dict[str, Any]) -> None:
    """Give every error response the problem+json schema; add the 422 and 413 any call may get."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    codes = _all_codes()
    schemas["ProblemCode"] = {
        "type": "string",
        "description": "Every stable problem code, its status and when it is answered:\n"
        + "\n".join(f"- `{code}` ({status}): {when}" for code, (status, when) in codes.items()),
    }
    by_status: dict[str, list[str]] = {}
    for code, (answered_with, _) in codes.items():
        by_status.setdefault(str(answered_with), []).append(code)
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            wanted = ["422"] + (["413"] if "requestBody" in operation else [])
            for status in wanted:
                responses.setdefault(status, {"description": _ADDED[status]})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {PROBLEM: {"schema": {"$ref": REF}}}
                    if status in by_status:
                        listed = ", ".join(f"`{c}`" for c in by_status[status])
                        response["description"] += f" (code: {listed})"


def _all_codes() -> dict[str, tuple[int, str]]:
    """The error classes' codes, the framework's plain HTTP codes and the hand-made ones."""
    codes = every_code()
    for status, code in HTTP_CODES.items():
        codes.setdefault(code, (status, "Answered by the framework (unknown path, method, ...)"))
    codes.update(OTHER_CODES)
    return dict(sorted(codes.items()))


def install(app: FastAPI) -> None:
    """Post-process the generated OpenAPI document once, when it is first asked for."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(generate())
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
