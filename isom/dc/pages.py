"""The DC's screens: the dock (receive a pallet by its SSCC), waves (pick by zone, pack, ship)
and the kitting bench (pick a kit's BOM into its tote, start, finish with a label).

Forms call the same services as the API, with an idempotency key made when the form was drawn,
so a double click or a resent form applies once. Reading needs any reader role; each action
checks the roles the API asks for.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.dc import api, inbound, kits, waves
from isom.dc.models import PalletStatus
from isom.dc.schemas import ReceiveSscc
from isom.errors import Forbidden, InvalidInput, IsomError
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import check_csrf, error_page, form_text, guarded, render

router = APIRouter(include_in_schema=False)


def _may(principal: Principal, roles: tuple[Role, ...]) -> bool:
    return principal.has_any(frozenset(r.value for r in roles))


def _key() -> str:
    return f"page-{uuid.uuid4()}"


def _invalid(exc: ValidationError) -> InvalidInput:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "form"
    return InvalidInput(f"{where}: {err['msg']}", field=where, expected="a valid value")


async def _checked_form(
    request: Request, principal: Principal, roles: tuple[Role, ...]
) -> dict[str, str]:
    form = await form_text(request)
    check_csrf(principal, form.get("csrf_token", ""))
    if not _may(principal, roles):
        raise Forbidden(f"{principal.name} may not do this here")
    return form


def _counted(text: str) -> list[dict[str, str]]:
    """'CASE-B=950, CASE-D=10' -> counted cases."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        case, _, qty = part.partition("=")
        try:
            Decimal(qty.strip())
        except InvalidOperation:
            raise InvalidInput(
                f"{part!r} is not a case and its count",
                field="counted",
                expected="CASE=quantity, separated by commas",
            ) from None
        out.append({"case": case.strip(), "quantity": qty.strip()})
    return out


# --- the dock ---------------------------------------------------------------------------------


@router.get("/dc/dock")
def dock_page(request: Request, principal: Caller, db: Db, done: str | None = None) -> Response:
    """Pallets announced and not yet here, the last received with their differences, a scan."""

    def build() -> Response:
        def read(s: Any) -> dict[str, Any]:
            return {
                "expected": inbound.list_pallets(s, status=PalletStatus.advised),
                "received": inbound.list_pallets(s, status=PalletStatus.received)[:20],
                "last": inbound.pallet_view(s, done) if done else None,
            }

        return render(
            request,
            "dc_dock.html",
            principal,
            key=_key(),
            may_receive=_may(principal, api.DOCK),
            **db.read(read),
        )

    return guarded(request, principal, build)


@router.post("/dc/dock")
async def dock_receive(request: Request, principal: Caller, db: Db) -> Response:
    """Receive the scanned pallet; back to the dock with what came and what differed."""
    try:
        form = await _checked_form(request, principal, api.DOCK)
        try:
            cmd = ReceiveSscc.model_validate(
                {
                    "scan": form.get("scan", "").strip(),
                    "location": form.get("location", "DC-DOCK-IN"),
                    "missing_cases": [
                        c.strip() for c in form.get("missing", "").split(",") if c.strip()
                    ],
                    "counted": _counted(form.get("counted", "")),
                }
            )
        except ValidationError as exc:
            raise _invalid(exc) from None
        key, actor = form.get("key") or _key(), actor_of(principal)
        result = db.write(lambda s: inbound.receive_by_sscc(s, actor, key, cmd))
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse(f"/dc/dock?done={quote(result.number)}", status_code=303)


# --- waves --------------------------------------------------------------------------------------


@router.get("/dc/waves")
def waves_page(
    request: Request, principal: Caller, db: Db, wave: str | None = None, msg: str | None = None
) -> Response:
    """The waves, and one wave's pick lists per zone in walking order with a scan field."""

    def build() -> Response:
        def read(s: Any) -> dict[str, Any]:
            every = waves.list_waves(s)
            chosen = waves.wave_sheet(s, wave) if wave else next(iter(every), None)
            return {"waves": every, "wave": chosen}

        return render(
            request,
            "dc_waves.html",
            principal,
            key=_key(),
            msg=msg,
            may_pick=_may(principal, api.PICKERS),
            may_ship=_may(principal, api.SHIPPERS),
            **db.read(read),
        )

    return guarded(request, principal, build)


WAVE_ACTIONS: dict[str, tuple[Any, tuple[Role, ...]]] = {
    "make": (waves.make_waves, api.SHIPPERS),
    "pick": (waves.wave_pick, api.PICKERS),
    "pack": (waves.wave_pack, api.SHIPPERS),
    "ship": (waves.wave_ship, api.SHIPPERS),
}


@router.post("/dc/waves")
async def wave_action(request: Request, principal: Caller, db: Db) -> Response:
    """Make waves, pick a scanned container, pack or ship a wave; back to the wave."""
    form = await form_text(request)
    action = form.get("action", "")
    try:
        if action not in WAVE_ACTIONS:
            raise InvalidInput(
                f"unknown action {action!r}", field="action", expected="make, pick, pack or ship"
            )
        operation, roles = WAVE_ACTIONS[action]
        await _checked_form(request, principal, roles)
        wave = form.get("wave", "")
        try:
            cmd: Any = (
                waves.MakeWaves()
                if action == "make"
                else waves.WavePick(wave=wave, container=form.get("scan", "").strip())
                if action == "pick"
                else waves.WaveAction(wave=wave)
            )
        except ValidationError as exc:
            raise _invalid(exc) from None
        key, actor = form.get("key") or _key(), actor_of(principal)
        result = db.write(lambda s: operation(s, actor, key, cmd))
    except IsomError as exc:
        return error_page(request, principal, exc)
    wave_no = result.number if action == "make" else form.get("wave", "")
    msg = _wave_message(action, result.detail)
    return RedirectResponse(f"/dc/waves?wave={quote(wave_no)}&msg={quote(msg)}", status_code=303)


def _wave_message(action: str, detail: dict[str, Any]) -> str:
    if action == "pick":
        return f"{detail.get('quantity')} {detail.get('item')} into tote {detail.get('tote')}"
    if action == "pack":
        return "packed: " + ", ".join(
            f"{p['ship_order']} in {p['package']}" for p in detail["packed"]
        )
    if action == "ship":
        return "shipped: " + ", ".join(detail["shipped"])
    return "waves made: " + ", ".join(f"{w['wave']} ({w['carrier']})" for w in detail["waves"])


# --- kitting --------------------------------------------------------------------------------------


@router.get("/dc/kits")
def kits_page(
    request: Request, principal: Caller, db: Db, job: str | None = None, msg: str | None = None
) -> Response:
    """Open kit and repack jobs, and one job's kit tote: what to pick where, start, finish."""

    def build() -> Response:
        def read(s: Any) -> dict[str, Any]:
            jobs = kits.open_vas_jobs(s)
            chosen = job or next((j.work_order for j in jobs), None)
            return {"jobs": jobs, "sheet": kits.kit_sheet(s, chosen) if chosen else None}

        return render(
            request,
            "dc_kits.html",
            principal,
            key=_key(),
            msg=msg,
            may_pick=_may(principal, api.PICKERS),
            may_make=_may(principal, api.KITTERS),
            **db.read(read),
        )

    return guarded(request, principal, build)


@router.post("/dc/kits")
async def kit_action(request: Request, principal: Caller, db: Db) -> Response:
    """Pick into the kit tote, start or finish the job; back to the job."""
    form = await form_text(request)
    action, job = form.get("action", ""), form.get("work_order", "")
    try:
        await _checked_form(request, principal, api.PICKERS if action == "pick" else api.KITTERS)
        try:
            operation, cmd = _kit_command(action, job, form)
        except ValidationError as exc:
            raise _invalid(exc) from None
        key, actor = form.get("key") or _key(), actor_of(principal)
        result = db.write(lambda s: operation(s, actor, key, cmd))
    except IsomError as exc:
        return error_page(request, principal, exc)
    d = result.detail
    msg = (
        f"{d['quantity']} {d['item']} into {d['tote']}"
        if action == "pick"
        else f"made into {d['container']} (lot {d['lot']})"
        if action == "finish"
        else f"started: {d['tote']} taken in"
    )
    return RedirectResponse(f"/dc/kits?job={quote(job)}&msg={quote(msg)}", status_code=303)


def _kit_command(action: str, job: str, form: dict[str, str]) -> tuple[Any, Any]:
    if action == "pick":
        return kits.pick_for_kit, kits.KitPick(
            work_order=job, container=form.get("scan", "").strip()
        )
    if action == "start":
        return kits.start_kit, kits.KitStart(
            work_order=job,
            badge=form.get("badge", "").strip(),
            workstation=form.get("workstation", ""),
        )
    if action == "finish":
        return kits.finish_kit, kits.KitFinish.model_validate(
            {
                "work_order": job,
                "badge": form.get("badge", "").strip(),
                "good_quantity": form.get("good_quantity", "").strip(),
                "location": form.get("location") or None,
            }
        )
    raise InvalidInput(
        f"unknown action {action!r}", field="action", expected="pick, start or finish"
    )
