"""What an event changes, gathered before anything is written: lines, moves, edges, and the
containers and contents the operation read (once, locked) to decide them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Table

from isom.ledger.models import Container, ContainerStatus, Content, ContentStatus
from isom.masterdata.models import Location

COST_QUANTUM = Decimal("0.000001")
CONTAINER_TABLE = cast(Table, Container.__table__)
CONTENT_TABLE = cast(Table, Content.__table__)

ContentKey = tuple[int, int, int | None, ContentStatus, str | None]
BalanceKey = tuple[int, int, int | None, ContentStatus]


@dataclass(slots=True)
class Box:
    """A container as an event sees it: read (and locked) once with Core, never through the ORM's
    identity map, and changed in the database only by the posting."""

    id: int
    code: str
    kind: str
    status: ContainerStatus
    location_id: int | None
    parent_id: int | None
    site_id: int | None
    created_event_id: int


#: The columns a `Box` is made of, in its fields' order.
BOX_COLUMNS = tuple(CONTAINER_TABLE.c[name] for name in Box.__dataclass_fields__)


class Held(NamedTuple):
    """One content line of a container, as read when the container was locked."""

    id: int
    container_id: int
    item_id: int
    lot_id: int | None
    status: ContentStatus
    wip_step: str | None
    quantity: Decimal
    unit_cost: Decimal


#: The columns a `Held` is made of, in its fields' order.
HELD_COLUMNS = tuple(CONTENT_TABLE.c[name] for name in Held._fields)


class Place(NamedTuple):
    """A location as an event needs it, read with Core beside the containers it holds."""

    id: int
    code: str
    site_id: int | None
    active: bool


#: A location from master data (ORM) or read beside a container (`Place`): both serve.
Where = Location | Place


@dataclass(slots=True)
class Line:
    """One signed quantity at a container or a virtual place."""

    item_id: int
    lot_id: int | None
    status: ContentStatus
    quantity: Decimal
    unit_cost: Decimal
    container_id: int | None = None
    place: str | None = None
    wip_step: str | None = None


@dataclass(slots=True)
class Move:
    """A container's new location, parent or status."""

    container: Box
    to_location_id: int | None
    to_parent_id: int | None
    to_status: ContainerStatus | None = None


@dataclass(slots=True)
class Edge:
    """A genealogy edge."""

    item_id: int
    quantity: Decimal
    from_lot_id: int | None = None
    from_container_id: int | None = None
    to_lot_id: int | None = None
    to_container_id: int | None = None


def recorded(kind: type[Line | Edge], source: object) -> dict[str, Any]:
    """A line's or an edge's fields read off `source`: itself, or the row it was written as."""
    return {name: getattr(source, name) for name in _FIELDS[kind]}


_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (Line, Edge)}


@dataclass
class Posting:
    """Everything an event changes, gathered before anything is written."""

    lines: list[Line] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    containers: dict[int, Box] = field(default_factory=dict)
    subtrees: dict[int, list[int]] = field(default_factory=dict)
    #: Contents of the containers read with their subtree (locked): posting reads them no more.
    held: dict[int, list[Held]] = field(default_factory=dict)
    sites: dict[int, int | None] = field(default_factory=dict)
    locations: dict[int, Where] = field(default_factory=dict)
    new_containers: set[int] = field(default_factory=set)  # made by this event: still empty
    labels: dict[str, dict[int, str]] = field(
        default_factory=lambda: {"item": {}, "lot": {}, "location": {}, "container": {}}
    )

    def note_location(self, location: Where) -> None:
        """Remember a location's code and site, so posting needs no look-up for them."""
        self.locations[location.id] = location
        self.labels["location"][location.id] = location.code
        self.sites[location.id] = location.site_id

    def transfer(
        self,
        *,
        item_id: int,
        lot_id: int | None,
        quantity: Decimal,
        unit_cost: Decimal,
        source: Box | str,
        target: Box | str,
        source_status: ContentStatus,
        target_status: ContentStatus,
        source_wip: str | None = None,
        target_wip: str | None = None,
    ) -> None:
        """A balanced pair of lines: `quantity` leaves `source` and arrives at `target`."""
        for place, sign, status, wip in (
            (source, -1, source_status, source_wip),
            (target, 1, target_status, target_wip),
        ):
            line = Line(
                item_id=item_id,
                lot_id=lot_id,
                status=status,
                quantity=quantity * sign,
                unit_cost=unit_cost,
                wip_step=wip,
            )
            if isinstance(place, Box):
                line.container_id = place.id
                self.containers[place.id] = place
            else:
                line.place = place
            self.lines.append(line)

    def move_line(
        self,
        row: LineHeld,
        quantity: Decimal,
        source: Box | str,
        target: Box | str,
        *,
        status: ContentStatus | None = None,
        step: str | None = None,
    ) -> None:
        """`quantity` of a content line goes from `source` to `target` with its lot and cost;
        it keeps its status and WIP step unless `status` or `step` says otherwise."""
        self.transfer(
            item_id=row.item_id,
            lot_id=row.lot_id,
            quantity=quantity,
            unit_cost=row.unit_cost,
            source=source,
            target=target,
            source_status=row.status,
            target_status=status or row.status,
            source_wip=row.wip_step,
            target_wip=step or row.wip_step,
        )


class LineHeld(Protocol):
    """A content line as read (`Held`) or as an ORM row: what moving part of it needs."""

    @property
    def item_id(self) -> int: ...
    @property
    def lot_id(self) -> int | None: ...
    @property
    def status(self) -> ContentStatus: ...
    @property
    def wip_step(self) -> str | None: ...
    @property
    def unit_cost(self) -> Decimal: ...


def avg_cost(q0: Decimal, c0: Decimal, dq: Decimal, dc: Decimal) -> Decimal:
    """The quantity-weighted unit cost of two quantities merged into one line."""
    total = q0 + dq
    if total == 0:
        return c0
    return ((q0 * c0 + dq * dc) / total).quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN)


def plain(value: Decimal) -> str:
    """A decimal as plain text without trailing zeros: '10.5', never '10.500000' or '1E+1'."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
