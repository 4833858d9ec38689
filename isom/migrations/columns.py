"""The tables the migrations make, each described once as text, its constraints named after it.

A migration states the schema it makes; this only shortens how it says so, and imports nothing
from the domains (an old migration must not change when a model does). A description is the
table's name, then a row a column (`name  kind [argument...] [null]`) or a constraint in
capitals, in the order they are made; a row indented under another continues it:

    ledger_lot
    id           integer
    code         string 64
    status       enum lotstatus open closed
    expiry_date  date null
    CHECK code_set: code <> ''
    REF item_id md_item ON DELETE CASCADE
    UNIQUE item_id code
    KEY id                      (the primary key: `id` unless said)
    INDEX item_id expiry_date   (a plain index on each)
    INDEX ix_lot_expiry: item_id expiry_date   (one index on both, named)
"""

import textwrap
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

import isom.types
from isom.migrations.helpers import enum_type, foreign_key, indexes, json_type

Column = sa.Column[Any]

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


def create_tables(descriptions: tuple[str, ...]) -> None:
    """Create the tables the descriptions state, in their order."""
    for description in descriptions:
        _create(description)


def drop_tables(descriptions: tuple[str, ...]) -> None:
    """Drop the tables the descriptions state, in the reverse of the order they were made in."""
    for description in reversed(descriptions):
        op.drop_table(_rows(description)[0])


def _create(description: str) -> None:
    name, *rows = _rows(description)
    made: list[Any] = []
    key: list[str] = ["id"]
    index: list[str] = []
    for row in rows:
        word, _, rest = row.partition(" ")
        if word == "KEY":
            key = rest.split()
        elif word == "INDEX":
            index.append(rest)
        elif word.isupper():
            made.append(_constraint(name, word, rest))
        else:
            made.append(_column(word, *rest.split()))
    op.create_table(name, *made, sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    for columns in index:
        _index(name, columns)


def _rows(description: str) -> list[str]:
    """The description's rows, a long row's indented continuation joined to it."""
    rows: list[str] = []
    for line in textwrap.dedent(description).strip().splitlines():
        if line[:1].isspace():
            rows[-1] += " " + line.strip()
        else:
            rows.append(line)
    return rows


def _index(table: str, rest: str) -> None:
    """A plain index on each column named, or one index `label: column...` on them together."""
    label, _, together = rest.partition(": ")
    if together:
        op.create_index(label, table, together.split(), unique=False)
    else:
        indexes(table, *rest.split())


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


def _constraint(table: str, word: str, rest: str) -> sa.Constraint:
    """REF, UNIQUE or CHECK, named as the models' naming convention names them."""
    if word == "CHECK":
        label, _, condition = rest.partition(": ")
        return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{label}"))
    names = rest.split()
    if word == "UNIQUE":
        return sa.UniqueConstraint(*names, name=op.f(f"uq_{table}_{'_'.join(names)}"))
    if word != "REF":
        raise ValueError(f"{table}: {word} is not a constraint")
    column, target, *on_delete = names
    if on_delete[:2] not in ([], ["ON", "DELETE"]):
        raise ValueError(f"{table}: {rest} is not `column target [ON DELETE action]`")
    return foreign_key(table, column, target, ondelete=" ".join(on_delete[2:]) or None)
