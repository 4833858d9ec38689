"""What customer and purchase orders do alike: find the order a command names, number a new
one, add or change the command's lines, change one line as its own command, answer.

Each kind keeps what is its own (a customer line's reservations, a purchase line's price) in
the callables it passes; the numbering, look-ups and refusals are written once here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from isom.errors import Conflict, IsomError, WrongState
from isom.ledger import services as ledger
from isom.masterdata import services as md
from isom.masterdata.models import Item
from isom.orders.events import next_number, run_order_event
from isom.orders.queries import (
    Line,
    Order,
    line_reference,
    order_by_number,
    order_line,
    order_lines,
)
from isom.orders.schemas import ChangeLine, OrderResult
from isom.types import utcnow

Actor = ledger.Actor


class Named(Protocol):
    """A create command's keys to an existing order: its number, else its source's reference."""

    @property
    def number(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def external_ref(self) -> str | None: ...


class Numbered(Protocol):
    """An order of any kind (customer, purchase, ship): its number and its status."""

    @property
    def number(self) -> str: ...
    @property
    def status(self) -> Enum: ...


def result(order: Numbered, **detail: object) -> OrderResult:
    """The answer of an order command: the order's number and status, and what it did."""
    return OrderResult(number=order.number, status=order.status.value, detail=dict(detail))


@dataclass(frozen=True)
class Book(Generic[Order, Line]):
    """One kind of order: its tables, its name in messages and events, how a line changes and
    how the statuses roll up."""

    order: type[Order]
    line: type[Line]
    what: str  # "customer order"
    prefix: str  # "SO"
    event: str  # "customer_order"
    change: Callable[[Session, Order, Line, Decimal | None, dt.date | None, str], None]
    roll_up: Callable[[Session, Order, Actor, dt.datetime], None]

    def get(self, session: Session, number: str, *, lock: bool = False) -> Order:
        """The order with this number (locked when `lock`), or 404."""
        return order_by_number(session, self.order, number, what=self.what, lock=lock)

    def lines(self, session: Session, order: Order) -> list[Line]:
        """The order's lines by line number."""
        return order_lines(session, self.line, order.id)

    def get_line(self, session: Session, order: Order, line_no: int) -> Line:
        """One line of the order, or 404."""
        return order_line(session, self.line, order.id, line_no, what=f"{self.what} {order.number}")

    def shown(self, session: Session, number: str) -> tuple[Order, list[Line], dict[int, str]]:
        """An order to show: the order (404 if none), its lines and their items' codes."""
        order = self.get(session, number)
        lines = self.lines(session, order)
        return order, lines, item_codes(session, lines)

    def new(self, session: Session, cmd: Any, actor: Actor, now: dt.datetime, **own: Any) -> Order:
        """A new order as the create command names it (numbered from the counter when it names
        no number), with what is `own` to its kind; added and flushed."""
        order = self.order(
            number=cmd.number or self.fresh_number(session), source=cmd.source,
            external_ref=cmd.external_ref, note=cmd.note, created_at=now, updated_at=now,
            updated_by=actor.name, **own,
        )  # fmt: skip
        session.add(order)
        session.flush()
        return order

    def fresh_number(self, session: Session) -> str:
        """A number from the counter that no order of this kind holds yet."""
        while True:
            number = next_number(session, self.prefix)
            if session.scalar(select(self.order.id).where(self.order.number == number)) is None:
                return number

    def find(self, session: Session, cmd: Named, *, taken: type[IsomError]) -> Order | None:
        """The order the command names by number, else by its source's reference (locked);
        a number given for a reference another order holds is refused with `taken`."""
        model = self.order
        if cmd.number is not None:
            found = session.scalar(
                select(model).where(model.number == cmd.number).with_for_update()
            )
            if found is not None:
                return found
        if cmd.external_ref is None:
            return None
        found = session.scalar(
            select(model)
            .where(model.source == cmd.source, model.external_ref == cmd.external_ref)
            .with_for_update()
        )
        if found is not None and cmd.number is not None:
            raise taken(
                f"{cmd.source} {cmd.external_ref!r} is {self.what} {found.number} already",
                field="number",
                expected=f"{found.number}, or no number",
            )
        return found

    def apply_lines(
        self,
        session: Session,
        order: Order,
        existing: dict[int, Line],
        given: Sequence[Any],
        items: list[Item],
        *,
        created: bool,
        closed: str | None,
        add: Callable[[int, int], Line],
        change: Callable[[int, Line], bool],
    ) -> bool:
        """Add the command's new lines (numbered after the last, or by position on an update)
        and change the ones it names; whether any line changed.

        `closed` is what an order that takes no new lines should be instead (None: it takes
        them); `add(i, line_no)` makes the i-th new line, `change(i, line)` changes a line.
        """
        changed = False
        next_no = max(existing, default=0) + 1
        for i, (line_in, item) in enumerate(zip(given, items, strict=True)):
            line_no = line_in.line_no or (i + 1 if not created and i + 1 in existing else next_no)
            line = existing.get(line_no)
            if line is None:
                if closed is not None:
                    raise WrongState(
                        f"{self.what} {order.number} is {order.status.value}; "
                        "no lines can be added",
                        field=f"lines[{i}]",
                        expected=closed,
                    )
                line = add(i, line_no)
                session.add(line)
                existing[line_no] = line
                next_no = max(next_no, line_no + 1)
                changed = True
            elif line.item_id != item.id:
                raise Conflict(
                    f"line {line_no} of {order.number} is for another item",
                    field=f"lines[{i}].item",
                    expected="the line's item; add a new line for a different item",
                )
            else:
                changed = change(i, line) or changed
        return changed

    def create(
        self,
        session: Session,
        actor: Actor,
        key: str,
        cmd: Any,
        upsert: Callable[[Session, Actor, Any], tuple[Order, bool, bool]],
    ) -> OrderResult:
        """Take in an order once per key: create it, or update the one it names."""

        def build(session: Session, actor: Actor, key: str, cmd: Any) -> OrderResult:
            order, created, changed = upsert(session, actor, cmd)
            return result(order, created=created, changed=changed)

        return run_order_event(session, actor, key, f"{self.event}.create", cmd, build)

    def change_line(self, session: Session, actor: Actor, key: str, cmd: ChangeLine) -> OrderResult:
        """Change one line's quantity (in a unit the item has) or due date, once per key."""

        def build(session: Session, actor: Actor, key: str, cmd: ChangeLine) -> OrderResult:
            order = self.get(session, cmd.order, lock=True)
            line = self.get_line(session, order, cmd.line_no)
            if cmd.quantity is not None:
                item = session.get(Item, line.item_id)
                assert item is not None
                md.to_base_quantity(session, item, cmd.quantity, None, field="quantity")
            self.change(session, order, line, cmd.quantity, cmd.due_date, "line_no")
            session.flush()
            self.roll_up(session, order, actor, utcnow())
            return result(
                order,
                line_no=line.line_no,
                quantity=str(line.quantity),
                due_date=str(line.due_date),
            )

        return run_order_event(session, actor, key, f"{self.event}.change_line", cmd, build)


def amend(
    line: Line,
    quantity: Decimal | None,
    due_date: dt.date | None,
    *,
    floor: Decimal,
    name: str,
    held: str,
    field: str,
    expected: str,
) -> None:
    """Set a line's new quantity (never under `floor`, what it has `held`) and due date, those
    given, and stamp it."""
    if quantity is not None:
        if quantity < floor:
            raise Conflict(
                f"{name} has {held}; it cannot drop to {quantity}",
                field=f"{field}.quantity" if field.startswith("lines") else "quantity",
                expected=expected,
            )
        line.quantity = quantity
    if due_date is not None:
        line.due_date = due_date
    line.updated_at = utcnow()


def line_fields(order: Order, line: Line, codes: dict[int, str]) -> dict[str, Any]:
    """What a view of any order line shows that the line row does not hold as such: its
    reference, its item's code and its status's name."""
    return {
        "reference": line_reference(order.number, line.line_no),
        "item": codes[line.item_id],
        "status": line.status.value,
    }


def item_codes(session: Session, lines: Sequence[Line]) -> dict[int, str]:
    """The codes of the lines' items, by item id."""
    ids = {x.item_id for x in lines}
    return dict(session.execute(select(Item.id, Item.code).where(Item.id.in_(ids))).all())
