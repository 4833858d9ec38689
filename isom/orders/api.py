"""Order endpoints: customer and purchase orders, receiving, reservations, shipping, imports,
documents, and the shop webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from isom.auth.models import Role
from isom.auth.services import Principal
from isom.errors import InvalidInput
from isom.masterdata.api import read_import_file
from isom.masterdata.schemas import ImportResult
from isom.orders import documents, imports, queries, webhook
from isom.orders import services as orders
from isom.orders.customer import list_customer_orders
from isom.orders.models import CustomerOrderStatus, PurchaseOrderStatus, ShipOrderStatus
from isom.orders.purchasing import list_purchase_orders
from isom.orders.schemas import (
    CancelCustomerOrder,
    CancelShipOrder,
    ChangeCustomerLine,
    ChangePurchaseLine,
    CreateCustomerOrder,
    CreatePurchaseOrder,
    CreateShipOrder,
    CustomerOrderView,
    OrderResult,
    PackCommand,
    PickScan,
    PurchaseOrderAction,
    PurchaseOrderView,
    ReceivePurchaseLine,
    ReserveCommand,
    SetReceiptTolerance,
    ShipOrderView,
    ShipShipOrder,
    UnreserveCommand,
    WebhookResult,
    WebhookSourceIn,
)
from isom.orders.shipping import list_ship_orders
from isom.toolkit import guards
from isom.toolkit.commands import PROBLEMS, actor_of, answer_replay, command_routes
from isom.toolkit.deps import Db, Reader, require_roles

router = APIRouter(prefix="/orders", tags=["orders"])

R = Role
SALES = (R.clerk, R.planner, R.supervisor, R.integrator)
BUYERS = (R.buyer, R.planner, R.supervisor, R.integrator)
APPROVERS = (R.buyer, R.supervisor)
RECEIVERS = (R.clerk, R.operator, R.supervisor, R.device)
WAREHOUSE = (R.clerk, R.operator, R.supervisor, R.device)
PLANNERS = (R.planner, R.clerk, R.supervisor)


_endpoint = command_routes(router, OrderResult, prefix="", name="orders")


_endpoint(
    "customer-orders",
    orders.create_customer_order,
    CreateCustomerOrder,
    SALES,
    "Create (or update by number / external ref) a customer order",
)
_endpoint(
    "customer-orders/change-line",
    orders.change_customer_line,
    ChangeCustomerLine,
    SALES,
    "Change a customer line's quantity or due date",
)
_endpoint(
    "customer-orders/cancel",
    orders.cancel_customer_order,
    CancelCustomerOrder,
    SALES,
    "Cancel a customer order or one of its lines",
)
_endpoint(
    "purchase-orders",
    orders.create_purchase_order,
    CreatePurchaseOrder,
    BUYERS,
    "Propose (or update) a purchase order",
)
_endpoint(
    "purchase-orders/change-line",
    orders.change_purchase_line,
    ChangePurchaseLine,
    BUYERS,
    "Change a purchase line's quantity or due date",
)
_endpoint(
    "purchase-orders/approve",
    orders.approve_purchase_order,
    PurchaseOrderAction,
    APPROVERS,
    "Approve a proposed purchase order",
)
_endpoint(
    "purchase-orders/send",
    orders.send_purchase_order,
    PurchaseOrderAction,
    BUYERS,
    "Mark an approved purchase order as sent",
)
_endpoint(
    "purchase-orders/cancel",
    orders.cancel_purchase_order,
    PurchaseOrderAction,
    APPROVERS,
    "Cancel a purchase order with nothing received",
)
_endpoint(
    "purchase-orders/close",
    orders.close_purchase_order,
    PurchaseOrderAction,
    APPROVERS,
    "Close a purchase order: nothing more is expected",
)
_endpoint(
    "purchase-orders/receive",
    orders.receive_purchase_line,
    ReceivePurchaseLine,
    RECEIVERS,
    "Receive a labelled container against a purchase line",
)
_endpoint(
    "settings/receipt-tolerance",
    orders.set_receipt_tolerance,
    SetReceiptTolerance,
    (R.supervisor,),
    "Set the over / under receipt tolerance in percent",
)
_endpoint(
    "reservations", orders.reserve, ReserveCommand, PLANNERS, "Reserve stock for a customer line"
)
_endpoint(
    "reservations/release",
    orders.unreserve,
    UnreserveCommand,
    PLANNERS,
    "Release what a customer line reserved",
)
_endpoint(
    "ship-orders",
    orders.create_ship_order,
    CreateShipOrder,
    PLANNERS,
    "Release a customer order for shipping and make its pick list",
)
_endpoint("ship-orders/pick", orders.pick, PickScan, WAREHOUSE, "Pick by scanning a container")
_endpoint("ship-orders/pack", orders.pack, PackCommand, WAREHOUSE, "Pack a picked container")
_endpoint("ship-orders/ship", orders.ship, ShipShipOrder, WAREHOUSE, "Ship the packed containers")
_endpoint(
    "ship-orders/cancel",
    orders.cancel_ship_order,
    CancelShipOrder,
    PLANNERS,
    "Cancel a ship order that has not shipped",
)

Number = Path(max_length=40, description="The order number")
Limit = Annotated[int, Query(ge=1, le=1000)]
PDF = {**PROBLEMS, 200: {"content": {"application/pdf": {}}}}
CSV = {**PROBLEMS, 200: {"content": {"text/csv": {}}}}


def _document(content: bytes | str, media_type: str, filename: str, *, inline: bool) -> Response:
    """A document to download (`inline` to show it in the browser), named `filename`."""
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


def _order_reads(
    path: str,
    status_type: type[Any],
    view: type[BaseModel],
    newest: Callable[..., list[Any]],
    one: Callable[[Session, str], Any],
    docs: tuple[str, str],
) -> None:
    """The two reads every kind of order has: the newest (optionally of one status) with their
    lines, and one by its number. Named as the functions they replace, for the OpenAPI."""
    plural = path.replace("-", "_")

    def get_many(_: Reader, db: Db, status: Any = None, limit: Limit = 100) -> Any:
        return db.read(lambda s: newest(s, status=status, limit=limit))

    def get_one(_: Reader, db: Db, number: str = Number) -> Any:
        return db.read(lambda s: one(s, number))

    get_many.__annotations__["status"] = status_type | None
    for route, endpoint, model, name, doc in (
        (f"/{path}", get_many, list[view], f"get_{plural}", docs[0]),  # type: ignore[valid-type]
        (f"/{path}/{{number}}", get_one, view, f"get_{plural[:-1]}", docs[1]),
    ):
        router.add_api_route(
            route, endpoint, methods=["GET"], response_model=model, responses=PROBLEMS, name=name,
            description=doc,
        )  # fmt: skip


_order_reads(
    "customer-orders", CustomerOrderStatus, CustomerOrderView, list_customer_orders,
    orders.customer_order_view,
    ("The newest customer orders with their lines, optionally of one status.",
     "A customer order with its lines: reserved, shipped and open quantities."),
)  # fmt: skip
_order_reads(
    "purchase-orders", PurchaseOrderStatus, PurchaseOrderView, list_purchase_orders,
    orders.purchase_order_view,
    ("The newest purchase orders with their lines, optionally of one status.",
     "A purchase order with its lines, prices and what has arrived."),
)  # fmt: skip


@router.get(
    "/purchase-orders/{number}/pdf",
    responses=PDF,
    response_class=Response,
)
def get_purchase_order_pdf(_: Reader, db: Db, number: str = Number) -> Response:
    """The purchase order as the PDF sent to the supplier."""
    pdf = db.read(lambda s: documents.purchase_order_pdf(s, number))
    return _document(pdf, "application/pdf", f"{number}.pdf", inline=True)


@router.get(
    "/purchase-orders/{number}/csv",
    responses=CSV,
    response_class=Response,
)
def get_purchase_order_csv(_: Reader, db: Db, number: str = Number) -> Response:
    """The purchase order as CSV, one line per order line."""
    text = db.read(lambda s: documents.purchase_order_csv(s, number))
    return _document(text, "text/csv", f"{number}.csv", inline=False)


_order_reads(
    "ship-orders", ShipOrderStatus, ShipOrderView, list_ship_orders, orders.ship_order_view,
    ("The newest ship orders with their pick lists, optionally of one status.",
     "A ship order with its pick list (first expiry first) and packages."),
)  # fmt: skip


@router.get(
    "/ship-orders/{number}/packing-list",
    responses=PDF,
    response_class=Response,
)
def get_packing_list(_: Reader, db: Db, number: str = Number) -> Response:
    """The packing list PDF: each package with its items, lots and quantities."""
    pdf = db.read(lambda s: documents.packing_list_pdf(s, number))
    return _document(pdf, "application/pdf", f"{number}-packing-list.pdf", inline=True)


class DemandRow(BaseModel):
    reference: str
    item: str
    open_quantity: str
    reserved_quantity: str
    due_date: str
    priority: str


class SupplyRow(BaseModel):
    reference: str
    item: str
    supplier: str
    open_quantity: str
    due_date: str
    order_status: str


@router.get("/demand", response_model=list[DemandRow], responses=PROBLEMS)
def get_demand(_: Reader, db: Db) -> list[DemandRow]:
    """Open customer demand, rush first, then by due date (what planning nets)."""
    return [
        DemandRow(
            reference=d.reference,
            item=d.item,
            open_quantity=str(d.open_quantity),
            reserved_quantity=str(d.reserved_quantity),
            due_date=d.due_date.isoformat(),
            priority=d.priority.value,
        )
        for d in db.read(queries.open_customer_demand)
    ]


@router.get("/supply", response_model=list[SupplyRow], responses=PROBLEMS)
def get_supply(_: Reader, db: Db) -> list[SupplyRow]:
    """Open purchase supply by due date (what planning nets)."""
    return [
        SupplyRow(
            reference=s.reference,
            item=s.item,
            supplier=s.supplier,
            open_quantity=str(s.open_quantity),
            due_date=s.due_date.isoformat(),
            order_status=s.order_status.value,
        )
        for s in db.read(queries.open_purchase_supply)
    ]


@router.post(
    "/import/{kind}",
    response_model=ImportResult,
    responses={200: {"description": "The same file was imported before"}, **PROBLEMS},
    status_code=201,
    summary="Import customer or purchase orders from CSV or JSON, all or nothing",
)
async def import_orders(
    request: Request,
    response: Response,
    db: Db,
    kind: str = Path(description="customer-orders or purchase-orders"),
    key: str | None = Header(default=None, alias="Idempotency-Key", max_length=200),
    principal: Principal = Depends(require_roles(R.planner, R.buyer, R.integrator, R.supervisor)),
) -> ImportResult:
    """Upsert orders by number or external ref; any bad row rejects the whole file (422)."""
    name = imports.canonical(kind)
    text, fmt = await read_import_file(request)
    actor = actor_of(principal)
    result, replayed = await run_in_threadpool(
        db.write, lambda s: imports.run(s, actor, name, text, fmt, key=key)
    )
    answer_replay(response, replayed)
    return result


@router.post(
    "/webhook/shop",
    response_model=WebhookResult,
    status_code=201,
    responses={200: {"description": "The same order was posted before"}, **PROBLEMS},
    summary="Take an order from a shop (JSON signed with HMAC-SHA256)",
)
async def shop_webhook(
    request: Request,
    response: Response,
    db: Db,
    source: str | None = Header(default=None, alias=webhook.SOURCE_HEADER),
    signature: str | None = Header(default=None, alias=webhook.SIGNATURE_HEADER),
) -> WebhookResult:
    """The shop signs the raw body with its secret; a retry of the same order is answered 200.

    Authentication is the signature (a shop holds no API token), checked before anything else.
    """
    await guards.refuse_bad_body(request)
    body = await request.body()
    if len(body) > webhook.MAX_BODY:
        raise InvalidInput("the body is too large", field="body", expected="at most 1 MB")
    result: WebhookResult = await run_in_threadpool(
        db.write, lambda s: webhook.receive(s, source, signature, body)
    )
    answer_replay(response, result.replayed)
    return result


@router.put("/webhook-sources", responses=PROBLEMS, status_code=200)
def put_webhook_source(
    data: WebhookSourceIn, db: Db, _: Principal = Depends(require_roles(R.integrator))
) -> dict[str, Any]:
    """Register a shop (or change its secret) so it may post orders to the webhook."""
    created = db.write(lambda s: webhook.register_source(s, data)[1])
    return {"name": data.name, "created": created}
