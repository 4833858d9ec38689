"""The DC's screens: the dock (receive a pallet by its SSCC), waves (pick by zone, pack, ship)
and the kitting bench (pick a kit's BOM into its tote, start, finish with a label).

Forms call the same services as the API, with an idempotency key made when the form was drawn,
so a double click or a resent form applies once. Reading needs any reader role; each action
checks the roles the API asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from isom.actors import Actor
from isom.auth.models import Role
from isom.auth.services import Principal
from isom.db import Database
from isom.dc import api, inbound, kits, waves
from isom.dc.models import PalletStatus
from isom.dc.schemas import ReceiveSscc
from isom.errors import InvalidInput, IsomError
from isom.toolkit.commands import actor_of
from isom.toolkit.deps import Caller, Db
from isom.toolkit.render import checked_form, error_page, form_text, may, page_key, read_page

router = APIRouter(include_in_schema=False)


def _invalid(exc: ValidationError) -> InvalidInput:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "form"
    return InvalidInput(f"{where}: {err['msg']}", field=where, expected="a valid value")


def _apply(
    db: Database,
    principal: Principal,
    form: dict[str, str],
    operation: Callable[[Session, Actor, str, Any], Any],
    command: Callable[[], Any],
) -> Any:
    """Validate the form's command and apply it with the form's key, in one transaction."""
    try:
        cmd = command()
    except ValidationError as exc:
        raise _invalid(exc) from None
    key, actor = form.get("key") or page_key(), actor_of(principal)
    return db.write(lambda s: operation(s, actor, key, cmd))


def _screen(
    request: Request,
    principal: Principal,
    db: Database,
    template: str,
    read: Callable[[Session], dict[str, Any]],
    msg: str | None = None,
    **roles: tuple[Role, ...],
) -> Response:
    """Draw a DC screen with a fresh form key, the last message and, per `may_<action>` name,
    whether the caller holds the roles the action asks for."""
    allowed = {name: may(principal, needed) for name, needed in roles.items()}
    return read_page(request, principal, db, template, read, key=page_key(), msg=msg, **allowed)


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

    def read(s: Session) -> dict[str, Any]:
        return {
            "expected": inbound.list_pallets(s, status=PalletStatus.advised),
            "received": inbound.list_pallets(s, status=PalletStatus.received)[:20],
            "last": inbound.pallet_view(s, done) if done else None,
        }

    return _screen(request, principal, db, "dc_dock.html", read, may_receive=api.DOCK)


@router.post("/dc/dock")
async def dock_receive(request: Request, principal: Caller, db: Db) -> Response:
    """Receive the scanned pallet; back to the dock with what came and what differed."""
    try:
        form = await checked_form(request, principal, api.DOCK)
        result = _apply(
            db,
            principal,
            form,
            inbound.receive_by_sscc,
            lambda: ReceiveSscc.model_validate(
                {
                    "scan": form.get("scan", "").strip(),
                    "location": form.get("location", "DC-DOCK-IN"),
                    "missing_cases": [
                        c.strip() for c in form.get("missing", "").split(",") if c.strip()
                    ],
                    "counted": _counted(form.get("counted", "")),
                }
            ),
        )
    except IsomError as exc:
        return error_page(request, principal, exc)
    return RedirectResponse(f"/dc/dock?done={quote(result.number)}", status_code=303)


# --- waves --------------------------------------------------------------------------------------


@router.get("/dc/waves")
def waves_page(
    request: Request, principal: Caller, db: Db, wave: str | None = None, msg: str | None = None
) -> Response:
    """The waves, and one wave's pick lists per zone in walking order with a scan field."""

    def read(s: Session) -> dict[str, Any]:
        every = waves.list_waves(s)
        chosen = waves.wave_sheet(s, wave) if wave else next(iter(every), None)
        return {"waves": every, "wave": chosen}

    return _screen(
        request,
        principal,
        db,
        "dc_waves.html",
        read,
        msg,
        may_pick=api.PICKERS,
        may_ship=api.SHIPPERS,
    )


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
        await checked_form(request, principal, roles)
        wave = form.get("wave", "")
        result = _apply(
            db,
            principal,
            form,
            operation,
            lambda: (
                waves.MakeWaves()
                if action == "make"
                else waves.WavePick(wave=wave, container=form.get("scan", "").strip())
                if action == "pick"
                else waves.WaveAction(wave=wave)
            ),
        )
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

    def read(s: Session) -> dict[str, Any]:
        jobs = kits.open_vas_jobs(s)
        chosen = job or next((j.work_order for j in jobs), None)
        return {"jobs": jobs, "sheet": kits.kit_sheet(s, chosen) if chosen else None}

    return _screen(
        request,
        principal,
        db,
        "dc_kits.html",
        read,
        msg,
        may_pick=api.PICKERS,
        may_make=api.KITTERS,
    )


@router.post("/dc/kits")
async def kit_action(request: Request, principal: Caller, db: Db) -> Response:
    """Pick into the kit tote, start or finish the job; back to the job."""
    form = await form_text(request)
    action, job = form.get("action", ""), form.get("work_order", "")
    try:
        await checked_form(request, principal, api.PICKERS if action == "pick" else api.KITTERS)
        operation, command = _kit_command(action, job, form)
        result = _apply(db, principal, form, operation, command)
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


def _kit_command(action: str, job: str, form: dict[str, str]) -> tuple[Any, Callable[[], Any]]:
    if action == "pick":
        return kits.pick_for_kit, lambda: kits.KitPick(
            work_order=job, container=form.get("scan", "").strip()
        )
    if action == "start":
        return kits.start_kit, lambda: kits.KitStart(
            work_order=job,
            badge=form.get("badge", "").strip(),
            workstation=form.get("workstation", ""),
        )
    if action == "finish":
        return kits.finish_kit, lambda: kits.KitFinish.model_validate(
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
