"""One error hierarchy, rendered as RFC 9457 problem+json by one handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class IsomError(Exception):
    """Base of every error a user or device can cause; never a 500."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"
    # Set by the command frame on a refusal it answers: stores the refusal under its key. A
    # unit of work that is one command runs it after its rollback and commits, so a resend is
    # refused the same way.
    keep: Callable[[Session], None] | None = None

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        expected: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.expected = expected
        self.errors = errors
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document: type, title, status, detail, and the field at fault."""
        body: dict[str, Any] = {
            "type": f"https://isom.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.field is not None:
            body["field"] = self.field
        if self.expected is not None:
            body["expected"] = self.expected
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class NotFound(IsomError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class InvalidInput(IsomError):
    status_code = 422
    code = "invalid_input"
    title = "Invalid input"


class Conflict(IsomError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class NotAuthenticated(IsomError):
    status_code = 401
    code = "not_authenticated"
    title = "Authentication required"


class Forbidden(IsomError):
    status_code = 403
    code = "forbidden"
    title = "Not allowed for your role"


class ServiceUnavailable(IsomError):
    """The store stayed busy through every retry: the caller may try again, nothing was applied."""

    status_code = 503
    code = "store_busy"
    title = "Store busy"
