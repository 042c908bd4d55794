"""Connect schema → SQL column types per dialect, DEFAULT literals, and CREATE/ALTER TABLE text (reference 8.6).

Names and literals are written by the writer's SqlText (sqltext: the one place that escapes them)."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from miniconnect.data.schema import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    Schema,
    Type,
    days_to_date,
    decimal_from_bytes,
    decimal_scale,
    millis_to_time,
    millis_to_timestamp,
)
from miniconnect.errors import ConnectError

from ..sqltext import SqlText


class TableAlterOrCreateError(ConnectError):
    """The table cannot be created or changed to fit the records (not retried, like the Java connector)."""


class Column(NamedTuple):
    name: str
    schema: Schema
    is_key: bool
    timestamp_field: bool = False  # listed in timestamp.fields.list: epoch micros/nanos written as TIMESTAMP

    def describe(self) -> str:
        """How the Java connector prints a SinkRecordField in its messages."""
        return (
            f"SinkRecordField{{schema=Schema{{{_schema_name(self.schema)}}}, name='{self.name}', "
            f"isPrimaryKey={'true' if self.is_key else 'false'}}}"
        )


def _schema_name(s: Schema) -> str:
    return f"{s.name}:{s.type.name}" if s.name else s.type.name


_PG = {
    Type.INT8: "SMALLINT",
    Type.INT16: "SMALLINT",
    Type.INT32: "INT",
    Type.INT64: "BIGINT",
    Type.FLOAT32: "REAL",
    Type.FLOAT64: "DOUBLE PRECISION",
    Type.BOOLEAN: "BOOLEAN",
    Type.STRING: "TEXT",
    Type.BYTES: "BYTEA",
}
_MYSQL = {
    Type.INT8: "TINYINT",
    Type.INT16: "SMALLINT",
    Type.INT32: "INT",
    Type.INT64: "BIGINT",
    Type.FLOAT32: "FLOAT",
    Type.FLOAT64: "DOUBLE",
    Type.BOOLEAN: "TINYINT",
    Type.STRING: "TEXT",
    Type.BYTES: "VARBINARY(1024)",
}
_SQLITE = {
    Type.INT8: "INTEGER",
    Type.INT16: "INTEGER",
    Type.INT32: "INTEGER",
    Type.INT64: "INTEGER",
    Type.FLOAT32: "REAL",
    Type.FLOAT64: "REAL",
    Type.BOOLEAN: "INTEGER",
    Type.STRING: "TEXT",
    Type.BYTES: "BLOB",
}
_PRIMITIVE = {"postgresql": _PG, "mysql": _MYSQL, "sqlite": _SQLITE}
# SQLite: DATE/TIME/TIMESTAMP declarations have NUMERIC affinity (so storage is what Java's NUMERIC gives) but
# let the JDBC source map the columns back to Date/Timestamp.
_LOGICAL = {
    "postgresql": {DATE: "DATE", TIME: "TIME", TIMESTAMP: "TIMESTAMP"},
    "mysql": {DATE: "DATE", TIME: "TIME(3)", TIMESTAMP: "DATETIME(3)"},
    "sqlite": {DATE: "DATE", TIME: "TIME", TIMESTAMP: "TIMESTAMP"},
}
_TS_FIELD = {"postgresql": "TIMESTAMP", "mysql": "DATETIME(6)", "sqlite": "TIMESTAMP"}


def sql_type(dialect: str, col: Column) -> str:
    s = col.schema
    if col.timestamp_field:
        return _TS_FIELD[dialect]
    if s.name == DECIMAL:
        if dialect == "postgresql":
            return "DECIMAL"
        return f"DECIMAL(65,{decimal_scale(s)})" if dialect == "mysql" else "NUMERIC"
    if s.name in (DATE, TIME, TIMESTAMP):
        return _LOGICAL[dialect][s.name]
    if s.type == Type.STRING and dialect == "mysql" and col.is_key:
        # Java's TEXT cannot be a MySQL key ("BLOB/TEXT column used in key specification without a key length")
        return "VARCHAR(255)"
    if (
        s.type == Type.ARRAY
        and dialect == "postgresql"
        and s.value_schema is not None
        and s.value_schema.type.is_primitive
        and not s.value_schema.is_logical
    ):
        return _PG[s.value_schema.type] + "[]"
    t = _PRIMITIVE[dialect].get(s.type)
    if t is None:
        raise TableAlterOrCreateError(
            f"{s.name} ({s.type.name}) type doesn't have a mapping to the SQL database column type"
        )
    return t


def to_python(schema: Schema, value: Any) -> Any:
    """A default as a Python value of the logical type (JSON schemas may carry it in its primitive form)."""
    if value is None:
        return None
    n = schema.name
    if n == DECIMAL and isinstance(value, (bytes, bytearray)):
        return decimal_from_bytes(bytes(value), decimal_scale(schema))
    if n == DATE and isinstance(value, int):
        return days_to_date(value)
    if n == TIME and isinstance(value, int):
        return millis_to_time(value)
    if n == TIMESTAMP and isinstance(value, int):
        return millis_to_timestamp(value)
    return value


def default_literal(text: SqlText, schema: Schema, tz: ZoneInfo) -> str:
    """The DEFAULT clause's literal for a schema's default (times at millisecond precision, as Java writes them)."""
    v = to_python(schema, schema.default)
    if isinstance(v, dt.datetime):
        v = v.astimezone(tz) if v.tzinfo else v
        return text.string(f"{v.strftime('%Y-%m-%d %H:%M:%S')}.{v.microsecond // 1000:03d}")
    if isinstance(v, dt.time):
        return text.string(f"{v.strftime('%H:%M:%S')}.{v.microsecond // 1000:03d}")
    return text.literal(v)


def column_spec(text: SqlText, col: Column, tz: ZoneInfo) -> str:
    spec = f"{text.identifier(col.name)} {sql_type(text.kind, col)}"
    if col.schema.default is not None:
        return f"{spec} DEFAULT {default_literal(text, col.schema, tz)}"
    if col.schema.optional and not col.is_key:
        return f"{spec} NULL"
    return f"{spec} NOT NULL"


def create_table_sql(text: SqlText, table_sql: str, columns: list[Column], tz: ZoneInfo) -> str:
    """`table_sql`: the table as the writer renders it (through the same SqlText)."""
    parts = [f"\n{column_spec(text, c, tz)}" for c in columns]
    keys = [text.identifier(c.name) for c in columns if c.is_key]
    if keys:
        parts.append(f"\nPRIMARY KEY({','.join(keys)})")
    return f"CREATE TABLE {table_sql} ({','.join(parts)})"


def alter_table_sql(text: SqlText, table_sql: str, columns: list[Column], tz: ZoneInfo) -> list[str]:
    if text.kind == "sqlite" or len(columns) == 1:
        return [f"ALTER TABLE {table_sql} ADD {column_spec(text, c, tz)}" for c in columns]
    return [f"ALTER TABLE {table_sql} " + ",".join(f"\nADD {column_spec(text, c, tz)}" for c in columns)]
