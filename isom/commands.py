"""The one command frame: idempotency key, request hash and stored answer, once per request.

Every door (HTTP, MQTT, pages, agents, imports) ends in a domain operation that runs its effect
through `run`. The outermost frame of a transaction looks the key up (or, for an effect that
only writes to the store, finds it taken when it records), applies the effect in a savepoint
and records one `command` row with the answer; a refusal is an answer too, stored
with its problem so a resend is refused the same way. Calls nested inside a running frame (a
scan that starts a step that consumes material) reuse it: no second record. The platform knows
no domain: the effect and the answer's type are handed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import BigInteger, Integer, String, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from isom import reactions
from isom.db import ONE_COMMAND, Base, RetryableConflict, conflict_from, is_retryable
from isom.errors import IdempotencyKeyReused, IsomError
from isom.types import JsonType, UtcDateTime, utcnow

A = TypeVar("A", bound=BaseModel)

_RUNNING = "isom.command"  # session.info key of the frame under way
#: session.info key: the key of the next frame, which its caller has just read to be unused in
#: this transaction (an agent's run reads all its new decisions' keys in one query), so the
#: frame skips its look-up; the key's unique index still refuses a second record.
FRESH = "isom.command.fresh"


class Command(Base):
    """One applied or refused command: its key, what was asked (hash) and what was answered."""

    __tablename__ = "command"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict[str, Any]] = mapped_column(JsonType)
    actor: Mapped[str] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


_TABLE = cast(Table, Command.__table__)
_PRIOR = select(_TABLE.c.kind, _TABLE.c.request_hash, _TABLE.c.status, _TABLE.c.answer).where(
    _TABLE.c.key == bindparam("key")
)


def _insert_record(dialect: str) -> Any:
    """Insert a command's record unless its key is taken (then nothing comes back)."""
    stmt: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_TABLE)
    return stmt.on_conflict_do_nothing(index_elements=[_TABLE.c.key]).returning(_TABLE.c.id)


_RECORD = {name: _insert_record(name) for name in ("postgresql", "sqlite")}


def replayed_refusal(problem: Mapping[str, Any]) -> IsomError:
    """The refusal stored under a key, raised again: same class, status and problem body."""
    known = {"type", "title", "status", "detail", "code", "field", "expected", "errors"}
    found = (str(problem.get("code")), int(problem.get("status", 0)))
    error_type = _error_types().get(found, IsomError)
    error = error_type.__new__(error_type)
    IsomError.__init__(
        error,
        str(problem.get("detail", "")),
        field=problem.get("field"),
        expected=problem.get("expected"),
        errors=problem.get("errors"),
        **{k: v for k, v in problem.items() if k not in known and k != "instance"},
    )
    if error_type is IsomError:  # a class unknown here: keep what the problem said
        error.status_code = int(problem.get("status", 409))
        error.code = str(problem.get("code", "conflict"))
        error.title = str(problem.get("title", "Conflict"))
    return error


def _error_types() -> dict[tuple[str, int], type[IsomError]]:
    found: dict[tuple[str, int], type[IsomError]] = {}
    waiting: list[type[IsomError]] = [IsomError]
    while waiting:
        cls = waiting.pop()
        found.setdefault((cls.code, cls.status_code), cls)
        waiting.extend(cls.__subclasses__())
    return found


def request_hash(kind: str, command: BaseModel) -> str:
    """A fingerprint of the request, to tell a replay from a conflicting reuse of a key."""
    body = json.dumps(
        {"kind": str(kind), "command": command.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def running(session: Session) -> bool:
    """Whether a command frame is under way in this session's transaction."""
    return _RUNNING in session.info


#: Keys an optimistic run found taken: their next run looks the key up first (see `run`).
_TAKEN: set[str] = set()


class _KeyTaken(Exception):
    """The key was recorded before (or meanwhile): answer what is stored under it instead."""


def run(
    session: Session,
    *,
    key: str,
    kind: str,
    command: BaseModel,
    effect: Callable[[], A],
    answer: type[A],
    actor: str,
    device: str | None = None,
    replayed: Mapping[str, Any] | None = None,
    key_field: str = "Idempotency-Key",
    optimistic: bool = False,
) -> A:
    """Apply `effect` once per key and answer it; a replay answers what the first call answered.

    `replayed` is merged into a stored answer to mark it as a replay (default `replayed=True`);
    `key_field` names where the caller gave the key, for the 409 of a reused one. `optimistic`:
    the effect only writes to the store, so the key is not looked up first; the record at the
    end (or the effect's own unique key) finds it taken, the effect is undone and the stored
    answer replayed, in place under a savepoint, else by running the unit of work again.
    """
    if running(session):  # nested in a command under way: its frame holds the key
        return effect()
    digest = request_hash(kind, command)
    stored = partial(
        _stored, session, key, digest, answer, replayed or {"replayed": True}, key_field
    )
    # A key its caller has just read to be unused in this transaction needs no look-up either.
    fresh = session.info.pop(FRESH, None) == key
    if not (optimistic or fresh) or key in _TAKEN:
        _TAKEN.discard(key)
        found = stored()
        if found is not None:
            return found
    session.info[_RUNNING] = key
    # The one command of its unit of work needs no savepoint: a refusal rolls the whole unit
    # back and `Database.write` then stores it (`IsomError.keep`). Any other gets one, so
    # a refusal fails alone and its record stays in the transaction (a batch, say).
    savepoint = None if session.info.pop(ONE_COMMAND, False) else session.begin_nested()
    facts = reactions.pending_count(session)
    remember = partial(_record, key=key, kind=kind, digest=digest, actor=actor, device=device)
    try:
        result = _applied(session, effect, remember)
    except _KeyTaken as taken:
        _undo(session, savepoint, facts)
        return _replay_taken(key, savepoint, stored, taken)
    except IsomError as exc:
        _undo(session, savepoint, facts)
        if _refused(session, savepoint, exc, remember, key):
            raise
        return _replay_taken(key, savepoint, stored, exc)
    finally:
        session.info.pop(_RUNNING, None)
    if savepoint is not None:
        savepoint.commit()
    return result


def _applied(
    session: Session,
    effect: Callable[[], A],
    remember: Callable[[Session, int, dict[str, Any]], bool],
) -> A:
    """The effect and its record; a clash on a unique key is the key taken, any other a refusal."""
    try:
        result = effect()
    except IntegrityError as exc:
        if is_retryable(exc):  # the key of the command's own event
            raise _KeyTaken() from exc
        error = conflict_from(exc)  # e.g. a quantity CHECK: a refusal like any other
        assert isinstance(error, IsomError)
        raise error from exc
    if not remember(session, 200, result.model_dump(mode="json")):
        raise _KeyTaken()
    return result


def _undo(session: Session, savepoint: SessionTransaction | None, facts: int) -> None:
    if savepoint is not None:
        savepoint.rollback()
    reactions.forget_since(session, facts)


def _replay_taken(
    key: str,
    savepoint: SessionTransaction | None,
    stored: Callable[[], A | None],
    cause: Exception,
) -> A:
    """The key turned out taken: answer what is stored under it (undone effect) or, with no
    savepoint to go back to, have the whole unit of work run again, looking the key up first."""
    found = stored() if savepoint is not None else None
    if found is not None:
        return found
    if len(_TAKEN) > 10_000:  # keys never run again (their caller gave up): forget them
        _TAKEN.clear()
    _TAKEN.add(key)
    raise RetryableConflict(f"idempotency key {key!r} was recorded meanwhile") from cause


def _stored(
    session: Session,
    key: str,
    digest: str,
    answer: type[A],
    replayed: Mapping[str, Any],
    key_field: str,
) -> A | None:
    """The answer stored under `key`, replayed (a refusal raised again); None if there is none."""
    prior = session.connection().execute(_PRIOR, {"key": key}).first()
    if prior is None:
        return None
    if prior.request_hash != digest:
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was already used for a different request ({prior.kind})",
            field=key_field,
            expected="a new key for a new change, or the same body to replay",
        )
    if prior.status >= 400:
        raise replayed_refusal(prior.answer)
    return answer.model_validate({**prior.answer, **replayed})


def _refused(
    session: Session,
    savepoint: SessionTransaction | None,
    error: IsomError,
    remember: Callable[[Session, int, dict[str, Any]], bool],
    key: str,
) -> bool:
    """Store the refusal as the key's answer (not a 5xx: that is the store's failure, not an
    answer); False if the key holds an answer already. A unit of work that is one command
    commits the record through `error.keep` after rolling back everything else."""
    if error.status_code >= 500:
        return True
    problem = error.to_problem()
    if savepoint is not None:
        return remember(session, error.status_code, problem)
    status = error.status_code

    def keep(unit: Session) -> None:
        if not remember(unit, status, problem):
            _replay_taken(key, None, lambda: None, error)

    error.keep = keep
    return True


def _record(
    session: Session,
    status: int,
    body: dict[str, Any],
    *,
    key: str,
    kind: str,
    digest: str,
    actor: str,
    device: str | None,
) -> bool:
    """Record the key's answer; False if the key is recorded already (nothing is written)."""
    conn = session.connection()
    row = conn.execute(
        _RECORD[conn.dialect.name],
        {
            "key": key,
            "kind": str(kind),
            "request_hash": digest,
            "status": status,
            "answer": body,
            "actor": actor,
            "device": device,
            "recorded_at": utcnow(),
        },
    ).first()
    return row is not None
