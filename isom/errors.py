"""One error hierarchy, rendered as RFC 9457 problem+json by one handler.

Every class carries a stable machine-readable `code` (the problem's `code` member and the last
part of its `type`), so a client tells "not enough stock" from "wrong state" from "key reused"
without reading the message. The generic classes give a default code; the frequent cases have
small subclasses of their own, here when several domains raise them, else in the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class IsomError(Exception):
    """Base of every error a user or device can cause; never a 500. A subclass names its `code`;
    its docstring's first line says when it is answered (the OpenAPI document lists them)."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"
    # Set by the command frame on a refusal it answers: stores the refusal under its key. A
    # unit of work that is one command runs it after its rollback and commits, so a resend is
    # refused the same way.
    keep: Callable[[Session], None] | None = None

    def __init_subclass__(
        cls, *, status: int | None = None, code: str | None = None, title: str | None = None
    ) -> None:
        """A kind of error in one line: `class NotFound(IsomError, status=404, code=...)`."""
        super().__init_subclass__()
        if status is not None:
            cls.status_code = status
        if code is not None:
            cls.code = code
        if title is not None:
            cls.title = title

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


class NotFound(IsomError, status=404, code="not_found", title="Not found"):
    pass  # no docstring: the OpenAPI lists it by its title


class InvalidInput(IsomError, status=422, code="invalid_input", title="Invalid input"):
    pass  # no docstring: the OpenAPI lists it by its title


class Conflict(IsomError, status=409, code="conflict", title="Conflict"):
    pass  # no docstring: the OpenAPI lists it by its title


class NotAuthenticated(
    IsomError, status=401, code="not_authenticated", title="Authentication required"
):
    pass  # no docstring: the OpenAPI lists it by its title


class Forbidden(IsomError, status=403, code="forbidden", title="Not allowed for your role"):
    pass  # no docstring: the OpenAPI lists it by its title


class ServiceUnavailable(IsomError, status=503, code="store_busy", title="Store busy"):
    """The store stayed busy through every retry: the caller may try again, nothing was applied."""


class InvalidTransition(Conflict, code="invalid_transition", title="Not allowed in this state"):
    """A status change its transition table does not allow (a job, a step, an order)."""


class WrongState(Conflict, code="wrong_state", title="Wrong state"):
    """The record is in a state in which this request makes no sense (closed, inactive, ...)."""


class InsufficientStock(Conflict, code="insufficient_stock", title="Not enough stock"):
    """Not enough quantity where it was asked for: a balance would go negative."""


class IdempotencyKeyReused(Conflict, code="idempotency_key_reused", title="Idempotency key reused"):
    """The idempotency key was already used for a request with another body."""


class AlreadyExists(Conflict, code="already_exists", title="Already exists"):
    """A record with this number or code exists already."""


#: The codes of answers no `IsomError` makes: the framework's own 404/405 and the like.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def http_code(status: int) -> str:
    """The stable code of a plain HTTP error (unknown path, wrong method)."""
    return HTTP_CODES.get(status, "http_error")


def every_code() -> dict[str, tuple[int, str]]:
    """Each code of the error classes defined so far: its status and when it is answered."""
    found: dict[str, tuple[int, str]] = {}
    pending: list[type[IsomError]] = [IsomError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        summary = (cls.__doc__ or cls.title).split("\n")[0].strip()
        found.setdefault(cls.code, (cls.status_code, summary))
    return found


def problem_responses(
    not_found: str, conflict: str, *, bad_json: bool = False
) -> dict[int | str, dict[str, Any]]:
    """A door's refusals for its OpenAPI `responses`: the ones every door shares, and what a 404
    and a 409 mean at this one (`bad_json` where a body is parsed before the route sees it)."""
    described = {
        401: "Not signed in, or the token is unknown or revoked",
        403: "The caller's role does not allow this",
        404: not_found,
        409: conflict,
        422: "Invalid input: the field and what was expected",
    }
    if bad_json:
        described = {400: "The body is not valid JSON", **described}
    return {status: {"description": text} for status, text in described.items()}
