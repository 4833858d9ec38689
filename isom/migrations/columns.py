"""The table shape the migrations repeat, spelled once: columns as a table of text, constraints
named after their table.

A migration states the schema it makes; this only shortens how it says so, and imports nothing
from the domains (an old migration must not change when a model does). A column row reads
`name  kind [argument...] [null]`; a row indented under another continues it:

    id            integer
    code          string 64
    status        enum containerstatus active shipped void
    expiry_date   date null
"""

import textwrap
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, indexes, json_type

Column = sa.Column[Any]
# A constraint waits for its table's name (it is named after it), so it is made in its place.
Constraint = Callable[[str], sa.Constraint]

KINDS: dict[str, Callable[[], Any]] = {
    "integer": sa.Integer,
    "big": sa.BigInteger,  # a counter, a cursor
    # A 64-bit id or a reference to one; INTEGER on SQLite so that it is the row id.
    "serial": lambda: sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    "text": sa.Text,
    "flag": sa.Boolean,
    "date": sa.Date,
    "time": sa.Time,
    "exact": isom.types.Exact,  # a quantity or an amount: Decimal, never a float
    "moment": lambda: isom.types.UtcDateTime(timezone=True),
    "document": json_type,
}


def table(
    name: str,
    *parts: str | Column | Constraint,
    key: tuple[str, ...] = ("id",),
    index: tuple[str, ...] = (),
) -> None:
    """Create `name` from its parts in the order given (column rows, columns, constraints), its
    primary key on `key`, and a plain index on each column of `index`."""
    made: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            made.extend(columns(part))
        else:
            made.append(part if isinstance(part, sa.Column) else part(name))
    op.create_table(name, *made, sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    indexes(name, *index)


def drop_tables(names: tuple[str, ...]) -> None:
    """Drop the tables in the reverse of the order they were made in."""
    for name in reversed(names):
        op.drop_table(name)


def columns(rows: str) -> list[Column]:
    """The columns that rows of text describe (see the module's docstring)."""
    joined: list[str] = []
    for line in textwrap.dedent(rows).strip().splitlines():
        if line[:1].isspace():
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
    return [_column(*row.split()) for row in joined]


def _column(name: str, kind: str, *words: str) -> Column:
    null = words[-1:] == ("null",)
    arguments = words[:-1] if null else words
    if kind == "string":
        made: Any = sa.String(length=int(arguments[0]))
    elif kind == "enum":
        made = enum_type(*arguments)
    else:
        made = KINDS[kind]()
    return sa.Column(name, made, nullable=null)


def ref(column: str, target: str, *, ondelete: str | None = None) -> Constraint:
    """`column` points at `target.id`."""
    return lambda name: foreign_key(name, column, target, ondelete=ondelete)


def unique(*names: str) -> Constraint:
    """The columns together are unique, named `uq_<table>_<columns>`."""
    return lambda name: sa.UniqueConstraint(*names, name=op.f(f"uq_{name}_{'_'.join(names)}"))


def check(condition: str, label: str) -> Constraint:
    """A check named `ck_<table>_<label>`."""
    return lambda name: sa.CheckConstraint(condition, name=op.f(f"ck_{name}_{label}"))
