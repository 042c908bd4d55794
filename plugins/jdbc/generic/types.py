"""Type mapping of the generic dialect: reflected SQLAlchemy types → the source's JDBC Column, and Connect schemas →
SQLAlchemy types for auto.create / auto.evolve.

DDL follows Confluent's GenericDatabaseDialect.getSqlType (INT16 SMALLINT, INT32 INTEGER, INT64 BIGINT, FLOAT32
REAL, FLOAT64 DOUBLE PRECISION, BOOLEAN, STRING TEXT, BYTES BLOB, Decimal DECIMAL, Date DATE, Time TIME, Timestamp
TIMESTAMP) through SQLAlchemy's portable types, so each database gets its own spelling (BYTEA for BLOB on
PostgreSQL). Two departures: INT8 is SMALLINT (SQLAlchemy has no portable TINYINT and PostgreSQL none at all), and
DECIMAL carries precision 38 and the schema's scale where a bare DECIMAL would mean a fixed scale (DuckDB's is
(18,3)), unconstrained NUMERIC where the database has one.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from miniconnect.data.schema import DATE, DECIMAL, TIME, TIMESTAMP, Type, decimal_scale

from ..column_types import Column
from ..sink.ddl import Column as SinkColumn
from ..sink.ddl import TableAlterOrCreateError

_UNCONSTRAINED_NUMERIC = ("postgresql", "sqlite")


def jdbc_column(name: str, t: Any, nullable: bool | None = None, auto_increment: bool = False) -> Column:
    """The JDBC view of a reflected column type (what a JDBC driver's ResultSetMetaData would report)."""
    type_name = _type_name(t)
    jdbc, precision, scale, aware = "OTHER", 0, 0, False
    if isinstance(t, sa.Boolean):
        jdbc = "BOOLEAN"
    elif isinstance(t, sa.Integer):
        up = f"{type_name} {type(t).__name__}".upper()  # dialect types (DuckDB's TinyInteger) print as INTEGER
        jdbc = (
            "TINYINT"
            if "TINY" in up
            else "SMALLINT"
            if isinstance(t, sa.SmallInteger) or "INT2" in up
            else "BIGINT"
            if isinstance(t, sa.BigInteger) or any(k in up for k in ("BIG", "HUGE", "INT8", "LONG"))
            else "INTEGER"
        )
    elif isinstance(t, sa.Float):  # before Numeric: Float is one
        jdbc = "REAL" if isinstance(t, sa.REAL) or type_name.upper() in ("REAL", "FLOAT4", "FLOAT") else "DOUBLE"
    elif isinstance(t, sa.Numeric):
        jdbc, precision = "DECIMAL", t.precision or 0
        scale = t.scale if t.scale is not None else -127  # unconstrained: every digit kept
    elif isinstance(t, (sa.String, sa.Enum, sa.JSON, sa.Uuid)):
        jdbc = "CHAR" if isinstance(t, sa.CHAR) else "VARCHAR"
    elif isinstance(t, sa.LargeBinary) or isinstance(t, sa.types._Binary):
        jdbc = "BLOB"
    elif isinstance(t, sa.DateTime):
        jdbc, aware = "TIMESTAMP", bool(getattr(t, "timezone", False))
    elif isinstance(t, sa.Date):
        jdbc = "DATE"
    elif isinstance(t, sa.Time):
        jdbc = "TIME"
    elif isinstance(t, sa.ARRAY):
        jdbc = "ARRAY"
    return Column(name, jdbc, type_name.lower(), precision, scale, True, nullable, auto_increment, aware)


def _type_name(t: Any) -> str:
    try:
        return str(t)
    except Exception:
        return type(t).__name__


_SAMPLED: list[tuple[type | tuple[type, ...], str]] = [
    (bool, "BOOLEAN"),
    (int, "BIGINT"),
    (float, "DOUBLE"),
    (decimal.Decimal, "DECIMAL"),
    (str, "VARCHAR"),
    ((bytes, bytearray, memoryview), "BLOB"),
    (dt.datetime, "TIMESTAMP"),
    (dt.date, "DATE"),
    (dt.time, "TIME"),
]


def sampled_column(name: str, values: list[Any]) -> Column:
    """A query column's type from the first non-null value the driver returned (a query's result has no
    reflected types); VARCHAR when every sampled value is null."""
    v = next((x for x in values if x is not None), None)
    if v is None:
        return Column(name, "VARCHAR")
    for cls, jdbc in _SAMPLED:
        if isinstance(v, cls):
            if jdbc == "DECIMAL":  # the scale the driver gives the values (a DECIMAL(p,s) column's s)
                exps = [x.as_tuple().exponent for x in values if isinstance(x, decimal.Decimal)]
                scale = max(-e for e in exps if isinstance(e, int)) if any(isinstance(e, int) for e in exps) else 0
                return Column(name, jdbc, "decimal", 0, max(0, scale))
            aware = isinstance(v, dt.datetime) and v.tzinfo is not None
            return Column(name, jdbc, jdbc.lower(), aware=aware)
    return Column(name, "VARCHAR", type(v).__name__.lower())


def sql_type(dialect: Dialect, col: SinkColumn) -> Any:
    """The SQLAlchemy type of a sink column (see the module doc for the mapping)."""
    s = col.schema
    if col.timestamp_field or s.name == TIMESTAMP:
        return sa.TIMESTAMP()
    if s.name == DECIMAL:
        if dialect.name in _UNCONSTRAINED_NUMERIC:
            return sa.Numeric()
        return sa.Numeric(38, decimal_scale(s))
    if s.name == DATE:
        return sa.Date()
    if s.name == TIME:
        return sa.Time()
    t = {
        Type.INT8: sa.SmallInteger,
        Type.INT16: sa.SmallInteger,
        Type.INT32: sa.Integer,
        Type.INT64: sa.BigInteger,
        Type.FLOAT32: sa.REAL,
        Type.FLOAT64: sa.Double,
        Type.BOOLEAN: sa.Boolean,
        Type.STRING: sa.Text,
        Type.BYTES: sa.LargeBinary,
    }.get(s.type)
    if t is None:
        raise TableAlterOrCreateError(
            f"{s.name} ({s.type.name}) type doesn't have a mapping to the SQL database column type"
        )
    if t is sa.Text and col.is_key and dialect.name in ("mysql", "mariadb", "mssql", "oracle"):
        return sa.String(255)  # TEXT cannot be a key there
    return t()
