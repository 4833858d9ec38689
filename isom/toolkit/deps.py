"""Request dependencies every domain's routes share: the store and the caller (auth's, re-exported),
the role groups, and the idempotency key of a write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from isom.auth.deps import SESSION_COOKIE as SESSION_COOKIE
from isom.auth.deps import current_principal as current_principal
from isom.auth.deps import get_db as get_db
from isom.auth.deps import require_roles as require_roles
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database

T = TypeVar("T")

ANY_ROLE = tuple(Role)
READERS = tuple(r for r in Role if r is not Role.device)


async def idempotency_key(
    key: str = Header(
        alias="Idempotency-Key",
        description=(
            "Required: a key unique to this change, 1 to 200 characters (e.g. a UUID); "
            "sending it again replays the first answer."
        ),
        min_length=1,
        max_length=200,
    ),
) -> str:
    """Every write carries an idempotency key, so a retried request is applied once."""
    return key


async def read(db: Database, work: Callable[[Session], T]) -> T:
    """`work` in a read session on the thread pool, for an `async` route: one hop there and back.

    A plain `def` route costs two hops, the second only to check its answer against the
    response model; an `async` route checks and serialises it on the event loop."""
    return await run_in_threadpool(db.read, work)


#: The parameters every route shares, declared once (FastAPI's `Annotated` dependencies):
#: the store, whoever is signed in, and a caller allowed to read.
Db = Annotated[Database, Depends(get_db)]
Caller = Annotated[Principal, Depends(current_principal)]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Key = Annotated[str, Depends(idempotency_key)]
