"""The OpenAPI document says what the API really answers.

Every error is an RFC 9457 problem+json body, so each 4xx and 5xx response the routes list
gets that body's schema; every operation may answer 422 (a parameter, header or body with a
character no store keeps) and every operation that takes a body may answer 413 (over its cap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

PROBLEM = "application/problem+json"
REF = "#/components/schemas/Problem"


class Problem(BaseModel):
    """An error (RFC 9457): what went wrong, and for bad input the field and what was expected."""

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str | None = Field(default=None, description="A stable machine-readable code")
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
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            wanted = ["422"] + (["413"] if "requestBody" in operation else [])
            for status in wanted:
                responses.setdefault(status, {"description": _ADDED[status]})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {PROBLEM: {"schema": {"$ref": REF}}}


def install(app: FastAPI) -> None:
    """Post-process the generated OpenAPI document once, when it is first asked for."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(generate())
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
