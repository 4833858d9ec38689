"""Orders from an e-commerce shop: a JSON webhook signed with HMAC-SHA256, one secret per shop.

The shop posts its order to `POST /api/v1/orders/webhook/shop` with two headers:
`X-Shop-Source: <source name>` and `X-Shop-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
The order's `id` becomes the customer order's `external_ref` under that source, so the same
order posted again (a retry) answers the order it made, and a changed body updates it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import InvalidInput, IsomError, NotAuthenticated, NotFound
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.masterdata.models import Customer
from isom.orders.customer import create_customer_order
from isom.orders.models import Priority, WebhookSource
from isom.orders.schemas import (
    CreateCustomerOrder,
    CustomerLineIn,
    WebhookResult,
    WebhookSourceIn,
)
from isom.types import utcnow

SOURCE_HEADER = "X-Shop-Source"
SIGNATURE_HEADER = "X-Shop-Signature"
MAX_BODY = 1_000_000


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, body): what the shop sends."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ShopLine(BaseModel):
    """A shop's line item; fields a shop adds beyond these are ignored."""

    model_config = ConfigDict(extra="ignore")

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]
    due_date: dt.date | None = None


class ShopOrder(BaseModel):
    """The order a shop posts, in the common e-commerce shape."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=100)]
    customer: str | None = Field(default=None, max_length=64)
    priority: Priority = Priority.normal
    allow_partial: bool = True
    shipping_address: str | dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=1000)
    due_date: dt.date | None = None
    line_items: list[ShopLine] = Field(min_length=1, max_length=500)

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


def _address(value: str | dict[str, Any] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    keys = ("name", "company", "address1", "address2", "zip", "city", "province", "country")
    return ", ".join(str(value[k]) for k in keys if value.get(k))[:500]


def source_of(session: Session, name: str | None) -> WebhookSource:
    """The active shop named by the source header, or 401 (an unknown shop is not let in)."""
    if not name:
        raise NotAuthenticated(
            f"the {SOURCE_HEADER} header is missing",
            field=SOURCE_HEADER,
            expected="the name of a registered shop",
        )
    source = session.scalar(
        select(WebhookSource).where(WebhookSource.name == name, WebhookSource.active)
    )
    if source is None:
        raise NotAuthenticated(
            f"no active shop {name!r} is registered",
            field=SOURCE_HEADER,
            expected="the name of a registered shop",
        )
    return source


def verify(source: WebhookSource, body: bytes, signature: str | None) -> None:
    """Refuse (401) a body whose signature is missing or does not match the shop's secret."""
    if not signature or not hmac.compare_digest(sign(source.secret, body), signature.strip()):
        raise NotAuthenticated(
            "the webhook signature does not match the body",
            field=SIGNATURE_HEADER,
            expected="sha256=<hex HMAC-SHA256 of the raw body with the shop's secret>",
        )


def _order_command(session: Session, source: WebhookSource, shop: ShopOrder) -> CreateCustomerOrder:
    code = shop.customer
    if code is None and source.default_customer_id is not None:
        default = session.get(Customer, source.default_customer_id)
        code = default.code if default else None
    if code is None:
        raise InvalidInput(
            "the order names no customer and the shop has no default customer",
            field="customer",
            expected="a customer code",
        )
    md.get_customer(session, code)
    today = utcnow().date()
    return CreateCustomerOrder(
        customer=code,
        source=source.name,
        external_ref=shop.id,
        priority=shop.priority,
        allow_partial=shop.allow_partial,
        ship_to=_address(shop.shipping_address),
        note=shop.note or "",
        lines=[
            CustomerLineIn(
                line_no=i + 1,
                item=line.sku,
                quantity=line.quantity,
                due_date=line.due_date or shop.due_date or today,
            )
            for i, line in enumerate(shop.line_items)
        ],
    )


def _shop_field(field: str | None) -> str | None:
    """Name the shop's own field in an error: lines[0].item is line_items[0].sku to the shop."""
    if field is None:
        return None
    return field.replace("lines[", "line_items[").replace("].item", "].sku")


def _invalid(exc: ValidationError) -> InvalidInput:
    """The shop's order does not validate: name its first bad field, list them all."""
    err = exc.errors()[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    return InvalidInput(
        f"{len(exc.errors())} problem(s) in the order; first: {err['msg']}",
        field=path or "body",
        expected=str(err.get("ctx", {}).get("expected", err["type"].replace("_", " "))),
        errors=[
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ],
    )


def receive(
    session: Session, source_name: str | None, signature: str | None, body: bytes
) -> WebhookResult:
    """Check the signature, then create or update the shop's order (idempotent per body)."""
    source = source_of(session, source_name)
    verify(source, body, signature)
    try:
        shop = ShopOrder.model_validate(json.loads(body))
    except ValueError as exc:  # not UTF-8, or not JSON
        if isinstance(exc, ValidationError):
            raise _invalid(exc) from exc
        raise InvalidInput(
            f"the body is not JSON: {exc}", field="body", expected="a JSON order in UTF-8"
        ) from exc
    try:
        cmd = _order_command(session, source, shop)
    except ValidationError as exc:
        raise InvalidInput(
            f"the order cannot be taken: {exc.errors()[0]['msg']}",
            field=_shop_field(".".join(str(p) for p in exc.errors()[0]["loc"])),
        ) from exc
    key = f"shop:{source.name}:{shop.id}:{hashlib.sha256(body).hexdigest()[:32]}"
    actor = ledger.Actor(name=f"shop:{source.name}")
    try:
        result = create_customer_order(session, actor, key, cmd)
    except IsomError as exc:
        exc.field = _shop_field(exc.field)
        raise
    return WebhookResult(
        number=result.number, external_ref=shop.id, status=result.status, replayed=result.replayed
    )


def register_source(session: Session, data: WebhookSourceIn) -> tuple[WebhookSource, bool]:
    """Add a shop or change its secret and default customer; (source, created)."""
    default_id = None
    if data.default_customer is not None:
        default_id = md.get_customer(session, data.default_customer, field="default_customer").id
    source = session.scalar(select(WebhookSource).where(WebhookSource.name == data.name))
    created = source is None
    if source is None:
        source = WebhookSource(name=data.name, created_at=utcnow(), active=True, secret="")
        session.add(source)
    source.secret = data.secret
    source.default_customer_id = default_id
    source.active = True
    session.flush()
    return source, created


def deactivate_source(session: Session, name: str) -> None:
    """Stop taking orders from a shop."""
    source = session.scalar(select(WebhookSource).where(WebhookSource.name == name))
    if source is None:
        raise NotFound(f"no shop {name!r}", field="name", expected="a registered shop")
    source.active = False
