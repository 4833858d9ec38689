"""Device events (scans, RFID reads, scale weights, machine states) applied once each.

One function, `ingest`, serves MQTT and HTTP alike: it checks the device and its token, validates
the payload for the event kind, replays a known (device, eventID), and otherwise applies the
event through the ledger's and production's services in the caller's transaction. Sub-events
get keys derived from `dev:<device>:<eventID>`, so they are idempotent too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from isom import commands
from isom.auth import services as auth_service
from isom.auth import sites
from isom.auth.models import ApiToken, Role
from isom.auth.services import Principal
from isom.devices import readings, scanning
from isom.devices.models import Device, DeviceMessage
from isom.devices.schemas import (
    EVENT_TYPES,
    IngestAnswer,
)
from isom.errors import InvalidInput, IsomError, NotAuthenticated, NotFound
from isom.ledger import services as ledger
from isom.masterdata.models import Location
from isom.types import utcnow


def parse_payload(raw: bytes | str) -> dict[str, Any]:
    """JSON with numbers kept exact (Decimal); 422 when it is not a JSON object."""
    try:
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"the payload is not JSON: {exc}", field="payload", expected="one JSON object"
        ) from None
    if not isinstance(body, dict):
        raise InvalidInput(
            "the payload is not a JSON object", field="payload", expected="one JSON object"
        )
    return body


def _validated(kind: str, payload: dict[str, Any]) -> Any:
    model = EVENT_TYPES.get(kind)
    if model is None:
        raise InvalidInput(
            f"unknown event kind {kind!r}", field="kind", expected=", ".join(EVENT_TYPES)
        )
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "payload",
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        first = errors[0]
        raise InvalidInput(
            f"{first['field']}: {first['message']}",
            field=first["field"],
            expected=f"a {kind} event as documented in docs/design/devices.md",
            errors=errors,
        ) from None


_SITE = aliased(Location)
#: A device, its site's code and whether the token sent is its own live token (no user behind
#: it): one round trip for what a scan checks first. Any other token is looked up in full.
_DEVICE = (
    select(Device, _SITE.code, ApiToken.id)
    .outerjoin(_SITE, _SITE.id == Device.site_id)
    .outerjoin(
        ApiToken,
        and_(
            ApiToken.id == Device.token_id,
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            ApiToken.user_id.is_(None),
        ),
    )
    .where(Device.code == bindparam("code"))
)
#: `last_seen_at` is written at most this often: "silent" is counted in minutes, and a scanner
#: sending several events a second need not rewrite its device row for each.
SEEN_EVERY = dt.timedelta(seconds=5)


def _authorise(
    session: Session, dev: Device, token: str | None, principal: Principal | None
) -> str:
    """The acting name: the device's own token, or an admin/supervisor calling over HTTP."""
    if principal is None:
        if not token:
            raise NotAuthenticated(
                f"device {dev.code} sent no token", field="token", expected="the device's API token"
            )
        principal = auth_service.principal_from_token(session, token)
        if principal is None:
            raise NotAuthenticated(
                "the token is unknown or revoked", field="token", expected="the device's API token"
            )
    if principal.token_id is not None and principal.token_id == dev.token_id:
        return dev.code
    if principal.has_any(frozenset({Role.supervisor.value})):
        return principal.name
    raise NotAuthenticated(
        f"the token does not belong to device {dev.code}",
        field="token",
        expected="the API token issued for this device",
    )


def _device(session: Session, code: str, token: Any) -> tuple[Device, str | None, bool]:
    """The active device of this code in the caller's sites, its site's code, and whether
    `token` is its own live token."""
    secret = token if isinstance(token, str) and token else None
    digest = hashlib.sha256(secret.encode()).hexdigest() if secret else ""
    found = session.execute(_DEVICE, {"code": code, "token_hash": digest}).first()
    if found is None or not found[0].active or not sites.allows(found[0].site_id):
        raise NotFound(f"unknown device {code!r}", field="device", expected="a registered device")
    return found[0], found[1], found[2] is not None


def ingest(
    session: Session,
    *,
    device: str,
    kind: str,
    payload: dict[str, Any],
    site: str | None = None,
    principal: Principal | None = None,
) -> IngestAnswer:
    """Apply one device event once; a replay of its eventID answers the first answer."""
    token = payload.get("token")
    dev, site_code, own_token = _device(session, device, token if principal is None else None)
    if site is not None and site_code != site:
        raise InvalidInput(
            f"device {dev.code} does not belong to site {site!r}",
            field="site",
            expected=site_code or "the device's site",
        )
    name = dev.code if own_token else _authorise(session, dev, token, principal)
    actor = ledger.Actor(name=name, device=dev.code)
    event = _validated(kind, payload)
    return commands.run(
        session,
        key=f"dev:{dev.code}:{event.eventID}",
        kind=kind,
        command=event,
        effect=partial(_apply, session, dev, actor, kind, event),
        answer=IngestAnswer,
        actor=actor.name,
        device=dev.code,
        replayed={"status": "replayed"},
        key_field="eventID",
    )


def _apply(
    session: Session, dev: Device, actor: ledger.Actor, kind: str, event: Any
) -> IngestAnswer:
    """The device event's effect, through the ledger's and production's services."""
    now = utcnow()
    message = DeviceMessage(
        device_id=dev.id,
        event_id=event.eventID,
        kind=kind,
        occurred_at=event.occurred_at or now,
        received_at=now,
    )
    session.add(message)
    session.flush()
    handler: Any = {
        "scan": scanning.scan,
        "rfid": readings.rfid,
        "weight": readings.weight,
        "machine": readings.machine,
    }[kind]
    key = f"dev:{dev.code}:{event.eventID}"
    with sites.acting_in([dev.site_id]):  # a device acts only in its own site
        result: dict[str, Any] = handler(session, dev, actor, key, event, message)
    if dev.last_seen_at is None or now - dev.last_seen_at >= SEEN_EVERY:
        dev.last_seen_at = now
    session.flush()
    return IngestAnswer(
        eventID=event.eventID, device=dev.code, kind=kind, status="accepted", result=result
    )


def rejected(device: str | None, kind: str | None, event_id: Any, error: IsomError) -> IngestAnswer:
    """The answer to an event that could not be applied."""
    return IngestAnswer(
        eventID=str(event_id) if event_id is not None else None,
        device=device,
        kind=kind,
        status="rejected",
        error=error.to_problem(),
    )


#: Events one batch message may carry (an MQTT payload is at most 256 KiB anyway).
MAX_BATCH = 1000


def ingest_batch(
    session: Session,
    *,
    device: str,
    payload: dict[str, Any],
    site: str | None = None,
) -> list[IngestAnswer]:
    """Apply the events of one batch message in order, each once under its own eventID (the
    same key as when sent alone); a malformed or refused one is answered alone and changes
    nothing, the others are applied. `payload`: `{"token": ..., "events": [{...}, ...]}`,
    each event with its `kind` (a scan when absent) and its own eventID."""
    events = payload.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_BATCH:
        raise InvalidInput(
            "a batch message carries its events as a list",
            field="events",
            expected=f"a list of 1 to {MAX_BATCH} device events",
        )
    token = payload.get("token")
    return [_batched(session, device, site, token, event) for event in events]


def _batched(
    session: Session, device: str, site: str | None, token: Any, event: Any
) -> IngestAnswer:
    if not isinstance(event, dict):
        error = InvalidInput(
            "an event of the batch is not a JSON object", field="events", expected="an object"
        )
        return rejected(device, None, None, error)
    kind = event.get("kind") or "scan"
    body = {"token": token, **event} if token is not None else event
    try:
        return ingest(session, device=device, kind=str(kind), payload=body, site=site)
    except IsomError as refusal:
        return rejected(device, str(kind), event.get("eventID"), refusal)
