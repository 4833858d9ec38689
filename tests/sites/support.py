"""Sites apart, test side: the demo's two sites, callers of each, one object of every kind per
site, what "nothing changed" means, and the app's route table read from the app itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from isom import demo
from isom.auth import grants
from isom.auth import services as auth_service
from isom.auth.models import Role
from isom.auth.sites import acting_in
from isom.db import Database
from isom.dc.models import AdvisedPallet, PalletStatus, Wave
from isom.demo import dc as demo_dc
from isom.ledger import services as ledger
from isom.ledger.models import Balance, Container, ContainerStatus, Content, CountProposal, Event
from isom.ledger.schemas import CountCommand
from isom.masterdata.models import Item, Location, Supplier
from isom.orders import services as orders
from isom.orders.models import CustomerOrder, Pick, PurchaseOrder, ShipOrder
from isom.orders.schemas import CreatePurchaseOrder, PurchaseLineIn
from isom.production.models import ProductionEvent, WorkOrder, WorkOrderStep
from isom.web.app import create_app
from tests.builders import key

PLANT, DC = "KW1", demo_dc.SITE
#: What stands for an object a site has none of (the plant has no waves): always 404.
NONE = "NONE-AT-THIS-SITE"

#: Every role but admin and device: a caller who may do nearly anything, at one site.
BROAD = [r.value for r in Role if r not in (Role.admin, Role.device)]


class _NoStore:
    """The route table is read without a store."""


# ---------------------------------------------------------------------------------------------
# The route table.


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    params: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _flatten(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router
            yield from _flatten(route.effective_candidates())
        else:
            yield route


def route_table() -> list[Route]:
    """Every (method, path) the app answers that takes a path parameter."""
    app = create_app(_NoStore())  # type: ignore[arg-type]
    found = set()
    for route in _flatten(list(app.routes)):
        path = getattr(route, "path", "") or ""
        params = tuple(re.findall(r"{(\w+)(?::\w+)?}", path))
        for method in getattr(route, "methods", None) or ():
            if params and method != "HEAD":
                found.add(Route(method, path, params))
    return sorted(found, key=lambda r: (r.path, r.method))


#: GETs outside the API that are no screen: documents asked for by parameters, the metrics.
NOT_SCREENS = ("/api/", "/docs", "/metrics", "/trace.csv")


def screens() -> list[str]:
    """Every page (a GET outside the API) that takes no parameter: the screens people open."""
    app = create_app(_NoStore())  # type: ignore[arg-type]
    found = set()
    for route in _flatten(list(app.routes)):
        path = getattr(route, "path", "") or ""
        methods = getattr(route, "methods", None) or ()
        if "GET" in methods and "{" not in path and not path.startswith(NOT_SCREENS):
            found.add(path)
    return sorted(found)


def openapi() -> dict[str, Any]:
    """The API's OpenAPI document, built without a store."""
    doc: dict[str, Any] = TestClient(create_app(_NoStore())).get("/api/v1/openapi.json").json()  # type: ignore[arg-type]
    return doc


# A path parameter that names a container, location or order: which kind of object, by path.
# A parameter name not placed here or in NOT_SITE_BOUND fails the route test, so a new route
# that takes one is covered (or consciously left out) by whoever adds it.
PATH_KINDS: list[tuple[str, str, str]] = [
    ("/containers/", "code", "container"),
    ("/devices/labels/", "code", "container"),
    ("/masterdata/locations/", "code", "location"),
    ("/masterdata/{kind}/{code}", "code", "location"),
    ("/ledger/count-rules/", "site", "site"),
    ("/ledger/count-proposals/", "proposal_id", "proposal"),
    ("/counts/", "proposal_id", "proposal"),
    ("/events/", "event_id", "event"),
    ("/production/work-orders/", "number", "work_order"),
    ("/costing/jobs/", "number", "work_order"),
    ("/dc/kits/", "work_order", "kit_job"),
    ("/orders/customer-orders/", "number", "customer_order"),
    ("/orders/{number}", "number", "customer_order"),
    ("/orders/purchase-orders/", "number", "purchase_order"),
    ("/purchasing/", "number", "purchase_order"),
    ("/orders/ship-orders/", "number", "ship_order"),
    ("/dc/despatch-advice/", "ship_order", "shipped_order"),
    ("/dc/waves/", "number", "wave"),
    ("/dc/pallets/", "sscc", "pallet"),
]

# Parameters that name no site's object (users, tokens, shared master data, settings, plans),
# or that only say which form of an object (kind, fmt, action, sequence).
NOT_SITE_BOUND: list[tuple[str, str]] = [
    ("/users/", "username"),
    ("/tokens/", "token_id"),
    ("/masterdata/units/", "code"),
    ("/masterdata/items/", "code"),
    ("/masterdata/calendars/", "code"),
    ("/masterdata/workstations/", "code"),
    ("/masterdata/people/", "code"),
    ("/masterdata/routes/", "code"),
    ("/masterdata/customers/", "code"),
    ("/masterdata/suppliers/", "code"),
    ("/masterdata/import/", "kind"),
    ("/orders/import/", "kind"),
    ("/masterdata/{kind}", "kind"),
    ("/feed/subscribers/", "name"),
    ("/feed/subscribers/", "letter_id"),
    ("/reconciliations/", "run_id"),
    ("/lots/", "item"),
    ("/lots/", "lot"),
    ("/costing/standard/", "item"),
    ("/costing/overhead/", "workstation"),
    ("/devices/gs1-sites/", "site"),
    ("/devices/labels/", "kind"),
    ("/devices/labels/", "fmt"),
    ("/planning/", "plan_id"),
    ("/planning/", "workstation"),
    ("/planning/", "item"),
    ("/agents/decisions/", "decision_id"),
    ("/production/work-orders/", "sequence"),
    ("/purchasing/", "action"),
]

#: What the form parameters are filled with.
FILLERS = {"kind": "container", "fmt": "pdf", "sequence": "1", "action": "approve"}


def _matches(path: str, prefix: str) -> bool:
    return prefix in path if "{" in prefix else path.split("/api/v1")[-1].startswith(prefix)


def kind_of(path: str, param: str) -> str | None:
    """The kind of site-bound object `param` names in `path`, None for one that is not."""
    for prefix, name, kind in PATH_KINDS:
        if name == param and _matches(path, prefix):
            return kind
    for prefix, name in NOT_SITE_BOUND:
        if name == param and _matches(path, prefix):
            return None
    raise AssertionError(f"{path}: say whether {{{param}}} names a site's object (tests/sites)")


def site_bound_routes() -> list[Route]:
    """The routes with a path parameter naming a container, location or order."""
    return [r for r in route_table() if any(kind_of(r.path, p) for p in r.params)]


def fill(route: Route, objects: dict[str, str]) -> str:
    """The route's path with each parameter set: site-bound ones to `objects` of their kind."""
    path = route.path.replace("{code:path}", "{code}")
    for param in route.params:
        kind = kind_of(route.path, param)
        value = objects[kind] if kind else objects.get(param, FILLERS.get(param, "x"))
        if param == "kind" and "/masterdata/" in route.path:
            value = "locations"
        path = path.replace(f"{{{param}}}", value)
    return path


# Body fields that name a container, location or order, and what fills the other required ones.
BODY_KINDS = {
    "container": "container",
    "parent": "container2",
    "into": "container2",
    "location": "location",
    "to_location": "location",
    "order": None,  # a customer or purchase order: by the path
    "ship_order": "ship_order",
    "work_order": "work_order",
    "wave": "wave",
    "event_id": "event",
}


def body_kind(path: str, field: str) -> str | None:
    if field == "parent" and "/locations/" in path:
        return "site"
    kind = BODY_KINDS.get(field, "")
    if kind is None:
        return "purchase_order" if "purchase-orders" in path else "customer_order"
    return kind or None


def body_fields(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The top-level properties of an operation's JSON body (empty when it has none)."""
    schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return {"required": schema.get("required", []), "properties": schema.get("properties", {})}


def command_routes() -> list[tuple[str, str, list[str]]]:
    """Every JSON command (POST without path parameters) whose body names a site's object."""
    doc = openapi()
    found = []
    for path, item in doc["paths"].items():
        operation = item.get("post")
        if operation is None or "{" in path:
            continue
        fields = body_fields(doc, operation)
        bound = [f for f in fields["properties"] if body_kind(path, f)]
        if bound:
            found.append((path, operation["operationId"], bound))
    return sorted(found)


def command_body(
    path: str, objects: dict[str, str], doc: dict[str, Any], method: str = "post"
) -> tuple[dict[str, Any], set[str]]:
    """A body for the command at `path`: its site-bound fields set to `objects`, the other
    required ones to plausible values; and which fields are site-bound."""
    operation = doc["paths"][path][method]
    fields = body_fields(doc, operation)
    body: dict[str, Any] = {}
    bound = set()
    properties = fields["properties"]
    for name in properties:
        kind = body_kind(path, name)
        exclusive = name == "location" and {"container", "into"} & set(properties)
        if kind and not (exclusive and name not in fields["required"]):
            body[name] = objects[kind]
            bound.add(name)
    if "quantity" in properties and "quantity" not in body:
        body["quantity"] = "1"  # a change of line names what changes
    plausible: dict[str, Any] = {
        "quantity": "1",
        "quantity_delta": "1",
        "counted_quantity": "1",
        "length": "1",
        "name": "Sites apart",
        "code": f"SITES-{key()[:6]}",
        "site": objects["site"],
        "scan": f"(00){objects['advised']}",
        "good_quantity": "1",
        "line_no": 1,
        "item": objects["length_item"] if path.endswith(("/cut", "/remnant")) else objects["item"],
        "reason": "sites apart",
        "customer": objects["customer"],
        "status": "available",
        "disposition": "scrap",
        "badge": objects["badge"],
        "workstation": objects["workstation"],
        "step": 1,
        "counted": "1",
        "package": f"PKG-{key()[:8]}",
        "lines": [{"item": objects["item"], "quantity": "1"}],
    }
    for name in fields["required"]:
        if name in body:
            continue
        schema = fields["properties"][name]
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        if "enum" in schema:
            body[name] = "bin" if "bin" in schema["enum"] else schema["enum"][0]
        elif name == "step" and schema.get("type") == "string":
            body[name] = f"{objects['work_order']}/1"
        else:
            assert name in plausible, f"{method} {path}: give the tests a value for {name!r}"
            body[name] = plausible[name]
    return body, bound


def path_body(route: Route, objects: dict[str, str], doc: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON body a path route takes, if it takes one."""
    operation = doc["paths"].get(route.path, {}).get(route.method.lower())
    if operation is None or "application/json" not in operation.get("requestBody", {}).get(
        "content", {}
    ):
        return None
    body = command_body(route.path, objects, doc, route.method.lower())[0]
    if "code" in body and "code" in route.params:
        body["code"] = objects[str(kind_of(route.path, "code"))]  # as in the URL
    return body


# ---------------------------------------------------------------------------------------------
# The demo, its callers and one object of every kind per site.


def _site_id(s: Session, code: str) -> int:
    return grants.site_id(s, code)


def _first(s: Session, query: Any) -> str:
    found = s.scalar(query.limit(1))
    assert found is not None, str(query)
    return str(found)


def objects_of(s: Session, code: str) -> dict[str, str]:
    """One object of each kind at a site, by what a route takes to name it."""
    site = _site_id(s, code)
    held = select(Content.container_id)
    container = _first(
        s,
        select(Container.code)
        .where(
            Container.site_id == site,
            Container.status == ContainerStatus.active,
            Container.id.in_(held),
        )
        .order_by(Container.id),
    )
    item = _first(
        s,
        select(Item.code)
        .join(Content, Content.item_id == Item.id)
        .join(Container, Container.id == Content.container_id)
        .where(Container.code == container),
    )
    wave = s.scalar(select(Wave.number).order_by(Wave.id).limit(1))
    pallets = {
        status: s.scalar(
            select(AdvisedPallet.sscc)
            .where(AdvisedPallet.status == status)
            .order_by(AdvisedPallet.id)
            .limit(1)
        )
        for status in PalletStatus
    }
    containers = select(Container.code).where(
        Container.site_id == site,
        Container.status == ContainerStatus.active,
        Container.id.in_(held),
    )
    ship = select(ShipOrder.number).where(ShipOrder.site_id == site).order_by(ShipOrder.id)
    jobs = (
        select(WorkOrder.number)
        .where(WorkOrder.site_id == site, WorkOrder.id.in_(select(WorkOrderStep.work_order_id)))
        .order_by(WorkOrder.id)
    )
    return {
        "site": code,
        "container": container,
        "item": item,
        "location": _first(
            s, select(Location.code).where(Location.site_id == site, Location.kind == "bin")
        ),
        "event": _first(s, select(Event.id).where(Event.site_id == site).order_by(Event.id)),
        "customer_order": _first(
            s, select(CustomerOrder.number).where(CustomerOrder.site_id == site)
        ),
        "customer": "ELEKTRO-MAX" if code == DC else "BAU-TEC",
        "purchase_order": _first(
            s, select(PurchaseOrder.number).where(PurchaseOrder.site_id == site)
        ),
        "ship_order": _first(s, ship),
        "work_order": _first(s, jobs),
        "sequence": _first(
            s,
            select(func.min(WorkOrderStep.sequence))
            .join(WorkOrder, WorkOrder.id == WorkOrderStep.work_order_id)
            .where(WorkOrder.number == _first(s, jobs)),
        ),
        "wave": str(wave) if code == DC else NONE,
        "pallet": str(pallets[PalletStatus.received]) if code == DC else NONE,
        "kit_job": _first(s, jobs.where(WorkOrder.route_code.like("R-KIT%")))
        if code == DC
        else NONE,
        "shipped_order": s.scalar(ship.where(ShipOrder.status == "shipped").limit(1)) or NONE,
        "length_item": _first(s, select(Item.code).where(Item.measure == "length")),
        "advised": str(pallets[PalletStatus.advised]),
        "container2": _first(
            s, containers.where(Container.code != container).order_by(Container.id)
        ),
        "proposal": _first(
            s,
            select(CountProposal.id)
            .where(CountProposal.site_id == site)
            .order_by(CountProposal.id),
        ),
        "badge": "B2002" if code == DC else "B1001",
        "workstation": "KIT-1" if code == DC else "CUT-1",
    }


def _count_proposal(db: Database, site: str) -> None:
    """A count far off the book at the site, by a clerk: it waits for a supervisor."""

    def target(s: Session) -> tuple[int, str, str]:
        sid = _site_id(s, site)
        found = s.execute(
            select(Container.code, Item.code)
            .join(Content, Content.container_id == Container.id)
            .join(Item, Item.id == Content.item_id)
            .where(Container.site_id == sid, Content.lot_id.is_(None))
            .order_by(Container.id)
            .limit(1)
        ).one()
        return sid, found[0], found[1]

    sid, container, item = db.read(target)
    clerk = ledger.Actor(name="counter", roles=frozenset({"clerk"}))
    cmd = CountCommand(container=container, item=item, counted_quantity=Decimal(100000))
    with acting_in({sid}):
        db.write(lambda s: ledger.count(s, clerk, key(), cmd))


def _dc_purchase_order(db: Database) -> None:
    """The DC's own purchase order: the demo DC buys only by advice."""

    def ids(s: Session) -> tuple[int, str, str]:
        sup = s.scalar(select(Supplier.code).where(Supplier.code == "SENSORCO"))
        assert sup is not None
        return _site_id(s, DC), sup, "SENSOR-PROX-M12"

    site, supplier, item = db.read(ids)
    cmd = CreatePurchaseOrder(
        supplier=supplier,
        lines=[PurchaseLineIn(item=item, quantity=Decimal(10), unit_price=Decimal("4.20"))],
    )
    with acting_in({site}):
        db.write(lambda s: orders.create_purchase_order(s, demo_dc.ACTOR, key(), cmd))


@dataclass
class Sites:
    """The loaded demo: headers of each caller, and one object of each kind per site."""

    callers: dict[str, dict[str, str]]
    objects: dict[str, dict[str, str]]


def load(db: Database) -> Sites:
    """The demo plant and DC, a token per caller of interest, one object per kind and site."""
    assert demo.load_if_empty(db)
    _dc_purchase_order(db)
    for site in (PLANT, DC):
        _count_proposal(db, site)

    def tokens(s: Session) -> dict[str, dict[str, str]]:
        made = {}
        for name, user, roles, site in [
            ("plant-clerk", "clerk", ["clerk"], None),
            ("plant-broad", None, BROAD, PLANT),
            ("dc-clerk", "dcclerk", ["clerk"], None),
            ("dc-broad", None, BROAD, DC),
            ("admin", "admin", ["admin"], None),
        ]:
            user_id = auth_service.get_user(s, user).id if user else None
            secret, _ = auth_service.create_api_token(s, name=name, roles=roles, user_id=user_id)
            if site:
                grants.grant_token_site(s, name, site)
            made[name] = {"Authorization": f"Bearer {secret}"}
        return made

    callers = db.write(tokens)
    objects = db.read(lambda s: {PLANT: objects_of(s, PLANT), DC: objects_of(s, DC)})
    return Sites(callers, objects)


def state(db: Database) -> dict[str, Any]:
    """Everything a refused request must leave as it was: stock, containers, events, states."""

    def read(s: Session) -> dict[str, Any]:
        return {
            "stock": sorted(
                s.execute(
                    select(
                        Balance.location_id,
                        Balance.item_id,
                        Balance.lot_id,
                        Balance.status,
                        Balance.quantity,
                    )
                ).all()
            ),
            "containers": sorted(
                s.execute(
                    select(
                        Container.code, Container.status, Container.location_id, Container.parent_id
                    )
                ).all()
            ),
            "ledger events": s.scalar(select(func.count()).select_from(Event)),
            "production events": s.scalar(select(func.count()).select_from(ProductionEvent)),
            "customer orders": sorted(
                s.execute(select(CustomerOrder.number, CustomerOrder.status))
            ),
            "purchase orders": sorted(
                s.execute(select(PurchaseOrder.number, PurchaseOrder.status))
            ),
            "ship orders": sorted(s.execute(select(ShipOrder.number, ShipOrder.status))),
            "picks": sorted(s.execute(select(Pick.id, Pick.status, Pick.picked_quantity))),
            "work orders": sorted(s.execute(select(WorkOrder.number, WorkOrder.status))),
            "waves": sorted(s.execute(select(Wave.number, Wave.status))),
            "pallets": sorted(s.execute(select(AdvisedPallet.sscc, AdvisedPallet.status))),
        }

    return db.read(read)
