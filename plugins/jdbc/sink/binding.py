"""Per-column value converters for binding Connect values to each driver (reference 8.8).

Only columns that need work get a converter, so rows of plain primitives go to the driver untouched.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from miniconnect.data.schema import DATE, DECIMAL, TIME, TIMESTAMP, Type

from ..sqltext import MySqlBinary, MySqlText
from .ddl import Column, to_python

Conv = Callable[[Any], Any]
UTC = dt.UTC
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


def _naive_in(tz: ZoneInfo) -> Conv:
    if tz.key == "UTC":
        return lambda v: v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo is not None else v
    return lambda v: (
        v.astimezone(tz).replace(tzinfo=None)
        if v.tzinfo is not None
        else v.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    )


def _time_in(tz: ZoneInfo) -> Conv | None:
    if tz.key == "UTC":
        return None
    return lambda t: dt.datetime.combine(dt.date(1970, 1, 1), t, UTC).astimezone(tz).time()


def _ms_text(v: dt.datetime | dt.time) -> str:
    base = v.strftime("%Y-%m-%d %H:%M:%S" if isinstance(v, dt.datetime) else "%H:%M:%S")
    return f"{base}.{v.microsecond // 1000:03d}"


def _epoch_fraction(nanos: bool, tz: ZoneInfo) -> Conv:
    naive = _naive_in(tz)

    def conv(v: Any) -> dt.datetime:
        n = int(v)
        micros = n // 1000 if nanos else n
        return naive((_EPOCH_NAIVE + dt.timedelta(microseconds=micros)).replace(tzinfo=UTC))

    return conv


def _register_mysql_binary() -> None:
    try:
        from pymysql.converters import encoders
    except ImportError:  # pragma: no cover - aiomysql depends on PyMySQL
        return
    text = MySqlText()
    encoders[MySqlBinary] = lambda v, mapping=None: text.literal(v)  # for executemany (UPDATE, DELETE)


_register_mysql_binary()


def converter(dialect: str, col: Column, db_type: str | None, tz: ZoneInfo, nanos: bool = False) -> Conv | None:
    """The converter for a column, or None when the driver takes the Connect value as it is.
    `db_type` is the existing column's type name as the database reports it (lower-case)."""
    s = col.schema
    db_type = (db_type or "").lower()
    if col.timestamp_field:
        conv = _epoch_fraction(nanos, tz)
        if dialect == "sqlite":
            return lambda v: _ms_text(conv(v))
        return conv
    if s.name == TIMESTAMP:
        if dialect == "postgresql" and "with time zone" in db_type:
            return None  # timestamptz takes the instant
        naive = _naive_in(tz)
        if dialect == "sqlite":
            return lambda v: _ms_text(naive(v))
        return naive
    if s.name == TIME:
        shift = _time_in(tz)
        if dialect == "sqlite":
            return (lambda v: _ms_text(shift(v))) if shift else _ms_text
        return shift
    if s.name == DATE:
        return dt.date.isoformat if dialect == "sqlite" else None
    if s.name == DECIMAL:
        return str if dialect == "sqlite" else None
    if dialect == "postgresql":
        if s.type == Type.INT8 and db_type == "boolean":
            return bool
        if s.type == Type.BOOLEAN and db_type in ("smallint", "integer", "bigint"):
            return int
        if s.type == Type.STRING and db_type in ("json", "jsonb", "uuid"):
            return None
    if dialect == "mysql" and s.type == Type.BOOLEAN:
        return int
    if dialect == "mysql" and s.type == Type.BYTES:
        return MySqlBinary
    return None


def with_default(col: Column, conv: Conv | None) -> tuple[Any, Conv | None]:
    """The value a null takes (replace.null.with.default) after conversion."""
    d = to_python(col.schema, col.schema.default)
    if d is not None and conv is not None:
        d = conv(d)
    return d, conv


# -- schemaless values: coerce to the inferred column type -----------------------------------------------------
def _to_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list, tuple)):
        return orjson.dumps(v, default=str).decode()
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _to_int(v: Any) -> int:
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        return int(v)
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} into an integer column")


def _to_float(v: Any) -> float:
    if isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        return float(v)
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} into a floating point column")


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    raise TypeError(f"cannot write {type(v).__name__} value {v!r} into a boolean column")


_COERCE = {
    Type.STRING: (str, _to_text),
    Type.INT64: (int, _to_int),
    Type.FLOAT64: (float, _to_float),
    Type.BOOLEAN: (bool, _to_bool),
}


def schemaless_converter(dialect: str, t: Type) -> Conv:
    exact, coerce = _COERCE.get(t, (bytes, bytes))
    post: Conv | None = int if (t == Type.BOOLEAN and dialect != "postgresql") else None
    if t == Type.BYTES and dialect == "mysql":
        post = MySqlBinary

    def conv(v: Any) -> Any:
        if type(v) is not exact:
            v = coerce(v)
        return post(v) if post is not None else v

    return conv
