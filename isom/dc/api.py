"""Distribution centre endpoints: despatch advice in, receipt by SSCC scan, kit and repack jobs,
waves, and the outbound despatch advice. Every route needs a signed-in caller with its role."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.dc import inbound, kits, terms, waves
from isom.dc.models import PalletStatus
from isom.dc.schemas import AdviceIn, PalletView, ReceiveSscc
from isom.errors import InvalidInput
from isom.ledger.schemas import Code
from isom.orders.schemas import OrderResult
from isom.toolkit.commands import PROBLEMS, actor_of, command_routes
from isom.toolkit.deps import Db, Key, Reader, require_roles

router = APIRouter(prefix="/dc", tags=["distribution centre"])

R = Role
DOCK = (R.clerk, R.supervisor, R.device)
ADVISERS = (R.clerk, R.supervisor, R.integrator)
KITTERS = (R.operator, R.supervisor, R.device)
PICKERS = (R.clerk, R.operator, R.supervisor, R.device)
SHIPPERS = (R.clerk, R.supervisor)


_command = command_routes(router, OrderResult, prefix="", name="dc")


_command("advices", inbound.register_advice, AdviceIn, ADVISERS, "Register a despatch advice")
_command("receive", inbound.receive_by_sscc, ReceiveSscc, DOCK, "Receive a pallet by its SSCC")
_command("kits/pick", kits.pick_for_kit, kits.KitPick, PICKERS, "Pick for a kit into its tote")
_command("kits/start", kits.start_kit, kits.KitStart, KITTERS, "Start a kit or repack job")
_command("kits/finish", kits.finish_kit, kits.KitFinish, KITTERS, "Finish kits into a label")
_command("waves", waves.make_waves, waves.MakeWaves, SHIPPERS, "Group ship orders into waves")
_command("waves/pick", waves.wave_pick, waves.WavePick, PICKERS, "Pick a wave's container")
_command("waves/pack", waves.wave_pack, waves.WaveAction, SHIPPERS, "Pack picked totes")
_command("waves/ship", waves.wave_ship, waves.WaveAction, SHIPPERS, "Ship a wave's cartons")


def _answer(result: OrderResult, response: Response) -> OrderResult:
    response.status_code = 200 if result.replayed else 201
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result


@router.post("/advices/epcis", response_model=OrderResult, responses=PROBLEMS, status_code=201)
def register_epcis_advice(
    response: Response,
    db: Db,
    key: Key,
    document: dict[str, Any] = Body(description="An EPCIS 2.0 document (JSON)"),
    principal: Principal = Depends(require_roles(*ADVISERS)),
) -> OrderResult:
    """Register a supplier's despatch advice sent as EPCIS 2.0 (checked against GS1's schema)."""
    actor = actor_of(principal)
    result = db.write(
        lambda s: inbound.register_advice(s, actor, key, inbound.advice_from_epcis(s, document))
    )
    return _answer(result, response)


@router.post("/advices/csv", response_model=OrderResult, responses=PROBLEMS, status_code=201)
async def register_csv_advice(
    request: Request,
    response: Response,
    db: Db,
    key: Key,
    number: Code = Query(description="The despatch advice's number"),
    supplier: Code | None = Query(default=None),
    principal: Principal = Depends(require_roles(*ADVISERS)),
) -> OrderResult:
    """Register a despatch advice sent as CSV, one row per case line."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8", field="body", expected="UTF-8 text") from None
    advice = inbound.advice_from_csv(text, number=number, supplier=supplier)
    actor = actor_of(principal)
    result = db.write(lambda s: inbound.register_advice(s, actor, key, advice))
    return _answer(result, response)


@router.get("/pallets", response_model=list[PalletView], responses=PROBLEMS)
def get_pallets(_: Reader, db: Db, status: PalletStatus | None = None) -> list[PalletView]:
    """Announced pallets: what the dock expects, and what was received with its differences."""
    return db.read(lambda s: inbound.list_pallets(s, status=status))


@router.get("/pallets/{sscc}", response_model=PalletView, responses=PROBLEMS)
def get_pallet(db: Db, _: Reader, sscc: str) -> PalletView:
    """One announced pallet by its SSCC."""
    return db.read(lambda s: inbound.pallet_view(s, sscc))


@router.get("/kits/{work_order}", response_model=kits.KitSheet, responses=PROBLEMS)
def get_kit(work_order: str, _: Reader, db: Db) -> kits.KitSheet:
    """A kit or repack job: what its tote still needs, where to pick it, its cost per unit."""
    return db.read(lambda s: kits.kit_sheet(s, work_order))


@router.get("/waves", response_model=list[waves.WaveSheet], responses=PROBLEMS)
def get_waves(db: Db, _: Reader) -> list[waves.WaveSheet]:
    """Waves, open ones first, with their pick lists per zone."""
    return db.read(waves.list_waves)


@router.get("/waves/{number}", response_model=waves.WaveSheet, responses=PROBLEMS)
def get_wave(db: Db, _: Reader, number: str) -> waves.WaveSheet:
    """One wave: its orders and totes, and its pick lists per zone in walking order."""
    return db.read(lambda s: waves.wave_sheet(s, number))


@router.get("/despatch-advice/{ship_order}", responses=PROBLEMS)
def get_despatch_advice(
    ship_order: str,
    db: Db,
    _: Principal = Depends(require_roles(R.clerk, R.supervisor, R.integrator, R.planner)),
) -> dict[str, Any]:
    """The customer's despatch advice of a shipped order, as EPCIS 2.0 with SSCC aggregation."""
    return db.read(lambda s: waves.despatch_advice(s, ship_order))


@router.put("/customer-terms", responses=PROBLEMS)
def put_terms(
    data: terms.TermsIn, db: Db, _: Principal = Depends(require_roles(R.supervisor, R.planner))
) -> terms.TermsIn:
    """Set a customer's carrier, cut-off and whether its packs carry GS1 labels."""
    db.write(lambda s: terms.set_terms(s, data))
    return data
