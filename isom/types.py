"""Column types that keep quantities and money exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, BigInteger, DateTime, Enum, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

#: Every quantity and money amount is stored as an integer count of millionths.
SCALE = 6
_QUANTUM = Decimal(1).scaleb(-SCALE)


class InexactValueError(ValueError):
    """A value has more decimals than the store keeps; we refuse rather than round."""


def to_micros(value: Decimal | int) -> int:
    """Turn a decimal into the integer of millionths the database stores, exactly or not at all."""
    dec = Decimal(value)
    scaled = dec.scaleb(SCALE)
    if scaled != scaled.to_integral_value():
        raise InexactValueError(f"{value} has more than {SCALE} decimals")
    return int(scaled)


def from_micros(value: int) -> Decimal:
    """Turn stored millionths back into a normalised decimal."""
    return (Decimal(int(value)).scaleb(-SCALE)).quantize(_QUANTUM).normalize() + Decimal(0)


class Exact(TypeDecorator[Decimal]):
    """A `Decimal` stored as a 64-bit integer of millionths: sums in SQL are exact everywhere.

    SQLite has no decimal type (SQLAlchemy's Numeric goes through float there), so both
    stores keep the same scaled integer and `SUM()` gives the same exact answer on both.
    """

    impl = BigInteger
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[Decimal]):
        """A sum or difference of two Exact columns is still millionths: keep the type, so
        `SUM(a - b)` comes back as a Decimal, not as the raw scaled integer."""

        def _adapt_expression(self, op: Any, other_comparator: Any) -> tuple[Any, Any]:
            if op in (operators.add, operators.sub) and isinstance(other_comparator.type, Exact):
                return op, self.type
            return op, BigInteger()  # a product of millionths is not millionths: stay raw

    comparator_factory = Comparator

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return from_micros(value)


_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def plain_decimal(value: Any) -> Any:
    """A quantity given as a string must be a plain decimal: "1000" or "2.5", never "1e3" (a
    typo or a float printed by a script would otherwise pass as a thousand) nor "NaN"."""
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value.strip()):
        raise PydanticCustomError(
            "plain_decimal",
            "'{value}' is not a plain decimal",
            {
                "value": value[:40],
                "expected": "a JSON number, or a decimal string like 1000 or 2.5",
            },
        )
    return value


#: A decimal at the edges: a JSON number, or a string of plain digits with an optional point.
PlainDecimal = Annotated[Decimal, BeforeValidator(plain_decimal)]


def zoned(value: dt.datetime) -> dt.datetime:
    """A time as given, refused without a time zone (a device's local time is ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-11-27T10:00:00Z")
    return value


#: A time a command or a device reports: zoned, never naive.
ZonedTime = Annotated[dt.datetime, AfterValidator(zoned)]


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp; naive input is refused, SQLite's output tagged UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        converted: dt.datetime = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return converted.replace(tzinfo=None)
        return converted

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        result: dt.datetime = value
        if result.tzinfo is None:
            return result.replace(tzinfo=dt.UTC)
        return result.astimezone(dt.UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    """The current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def enum_column(cls: type[enum.Enum]) -> Enum:
    """A Python enum stored as its value in a short string column, checked on write; the same
    on both stores (no native PostgreSQL enum type to migrate when a value is added)."""
    return Enum(cls, native_enum=False, length=20, validate_strings=True)


class ChangeStamp:
    """Mixin for a table whose rows keep when they last changed and who changed them."""

    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
