"""Database column → Connect schema mapping for the source, as Confluent's dialects do it (reference §5).

Each driver's metadata is first reduced to a `Column` carrying the JDBC type category the Java driver would
report (§5.3–5.5), then `TypeMapper.map` applies the generic rules (§5.1, §5.2) and returns the field schema
and a per-value converter (None when the driver's Python value is already what the Struct holds).
Struct values use Python objects for logical types: Decimal, date, time, datetime (aware, or naive = UTC).
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from miniconnect.data import schema as S
from miniconnect.data.schema import DataError, Schema, Type

log = logging.getLogger(__name__)

Converter = Callable[[Any], Any]
UTC = dt.UTC

# Java's short zone ids (ZoneId.SHORT_IDS) that zoneinfo does not know.
_SHORT_IDS = {
    "EST": "-05:00",
    "MST": "-07:00",
    "HST": "-10:00",
    "ACT": "Australia/Darwin",
    "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo",
    "AST": "America/Anchorage",
    "BET": "America/Sao_Paulo",
    "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare",
    "CNT": "America/St_Johns",
    "CST": "America/Chicago",
    "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa",
    "ECT": "Europe/Paris",
    "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia",
    "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi",
    "PNT": "America/Phoenix",
    "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles",
    "SST": "Pacific/Guadalcanal",
    "VST": "Asia/Ho_Chi_Minh",
}


def parse_zone(name: str) -> dt.tzinfo:
    """A Java zone id (region, `UTC`, `Z`, `+02:00`, `GMT+2`, short ids like `PST`) as a tzinfo; ValueError if bad."""
    name = _SHORT_IDS.get(name, name)
    if name in ("UTC", "Z", "GMT", "UT"):
        return UTC
    m = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?", name)
    if m:
        delta = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return dt.timezone(-delta if m.group(1) == "-" else delta)
    try:
        return ZoneInfo(name)
    except Exception:
        raise ValueError(name) from None


@dataclass(frozen=True)
class Column:
    """What the Java driver would tell about a result column."""

    name: str
    jdbc: str  # BOOLEAN BIT TINYINT SMALLINT INTEGER BIGINT REAL FLOAT DOUBLE NUMERIC DECIMAL
    # CHAR VARCHAR BINARY DATE TIME TIMESTAMP OTHER ARRAY ...
    type_name: str = ""  # native type name (json, uuid, money, tinyint(1), ...)
    precision: int = 0
    scale: int = 0
    signed: bool = True
    nullable: bool | None = None  # None = unknown → optional
    auto_increment: bool = False
    aware: bool = False  # PostgreSQL timestamptz: values are instants, not wall-clock


# -- value conversions -------------------------------------------------------------------------------


def _rescale(scale: int) -> Converter:
    quantum = decimal.Decimal(1).scaleb(-scale)

    def conv(v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, decimal.Decimal):
            v = decimal.Decimal(str(v))
        return v.quantize(quantum, decimal.ROUND_HALF_UP, S.EXACT)

    return conv


def _to_int(type_name: str) -> Converter:
    def conv(v: Any) -> Any:
        if v is None or type(v) is int:
            return v
        if isinstance(v, decimal.Decimal):
            if v != v.to_integral_value():
                raise DataError(f"Bad value for type {type_name} : {v}")
            return int(v)
        if isinstance(v, (bytes, bytearray)):
            return int.from_bytes(v, "big")
        return int(v)

    conv.keeps_ints = True  # type: ignore[attr-defined]  # ints pass unchanged (the columnar path reads that)
    return conv


def _to_float(v: Any) -> Any:
    return v if v is None or type(v) is float else float(v)


def _to_bool(v: Any) -> Any:
    if v is None or type(v) is bool:
        return v
    if isinstance(v, (bytes, bytearray)):
        return any(v)
    if hasattr(v, "to_int"):  # asyncpg BitString
        return bool(v.to_int())
    return bool(int(v)) if not isinstance(v, str) else v.lower() in ("1", "true", "t", "yes")


def _to_str(v: Any) -> Any:
    return v if v is None or type(v) is str else (v.decode() if isinstance(v, (bytes, bytearray)) else str(v))


def _to_bytes(v: Any) -> Any:
    if v is None or type(v) is bytes:
        return v
    if isinstance(v, str):
        return v.encode()
    if hasattr(v, "to_int") and hasattr(v, "__len__"):  # asyncpg BitString
        n = len(v)
        return v.to_int().to_bytes((n + 7) // 8, "big")
    return bytes(v)


def _money(v: Any) -> Any:
    if v is None or isinstance(v, float):
        return v
    return float(re.sub(r"[^0-9.\-]", "", str(v)) or 0)


def _to_date(v: Any) -> Any:
    if v is None or type(v) is dt.date:
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, int):  # MySQL YEAR, or SQLite epoch millis
        return dt.date(v, 1, 1) if 0 < v < 10000 else S.millis_to_timestamp(v).date()
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None  # MySQL zero dates read as NULL (zeroDateTimeBehavior=CONVERT_TO_NULL)
    return v


def _to_time(v: Any) -> Any:
    if v is None or type(v) is dt.time:
        return v if v is None or v.tzinfo is None else v.replace(tzinfo=None)
    if isinstance(v, dt.timedelta):  # MySQL TIME
        ms = v // dt.timedelta(milliseconds=1)
        return S.millis_to_time(ms) if 0 <= ms < 86_400_000 else S.millis_to_time(ms % 86_400_000)
    if isinstance(v, str):
        return dt.time.fromisoformat(v)
    return v


def _naive_ts(v: Any) -> dt.datetime | None:
    """Driver value → datetime (naive means wall-clock)."""
    if v is None or isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        try:
            return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return None  # MySQL zero datetime
    if isinstance(v, int):
        return S.millis_to_timestamp(v)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    return v


def to_instant(tz: dt.tzinfo) -> Converter:
    """Driver timestamp value → aware UTC datetime, zone-less values read as wall-clock in `tz` (db.timezone)."""

    def conv(v: Any) -> Any:
        v = _naive_ts(v)
        if v is None:
            return None
        if v.tzinfo is None:
            return v.replace(tzinfo=tz) if tz is not UTC else v.replace(tzinfo=UTC)
        return v

    return conv


def epoch_nanos(v: dt.datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (naive = UTC)."""
    if v.tzinfo is not None:
        v = v.astimezone(UTC).replace(tzinfo=None)
    d = v - _EPOCH_NAIVE
    return (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000


_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


def _granular(granularity: str, tz: dt.tzinfo) -> tuple[Schema, Schema, Converter]:
    inst = to_instant(tz)
    if granularity in ("micros_long", "nanos_long", "micros_string", "nanos_string"):
        div = 1000 if granularity.startswith("micros") else 1
        as_str = granularity.endswith("_string")

        def conv(v: Any) -> Any:
            v = inst(v)
            if v is None:
                return None
            n = epoch_nanos(v) // div
            return str(n) if as_str else n

        t = Type.STRING if as_str else Type.INT64
        return Schema(t), Schema(t, optional=True), conv
    if granularity in ("micros_iso_datetime_string", "nanos_iso_datetime_string"):
        digits = 6 if granularity.startswith("micros") else 9

        def iso(v: Any) -> Any:
            v = inst(v)
            if v is None:
                return None
            local = v.astimezone(tz)
            frac = f"{local.microsecond:06d}" + ("000" if digits == 9 else "")
            return local.strftime("%Y-%m-%dT%H:%M:%S.") + frac

        return Schema(Type.STRING), Schema(Type.STRING, optional=True), iso
    return S.timestamp_schema(), S.timestamp_schema(True), (None if tz is UTC else inst)


def _int_for_precision(p: int) -> Type:
    return Type.INT64 if p > 9 else Type.INT32 if p > 4 else Type.INT16 if p > 2 else Type.INT8


_NATIVE_OK = {Type.INT8, Type.INT16, Type.INT32, Type.INT64, Type.FLOAT32, Type.FLOAT64, Type.STRING, Type.BOOLEAN}
_PRIMITIVE = {t: (Schema(t), Schema(t, optional=True)) for t in Type if t.is_primitive}


class TypeMapper:
    """Maps Columns to (field schema, converter) under numeric.mapping, timestamp.granularity and db.timezone."""

    def __init__(
        self,
        numeric_mapping: str = "none",
        granularity: str = "connect_logical",
        tz: str = "UTC",
        dialect: str = "generic",
    ):
        self.numeric_mapping = (numeric_mapping or "none").lower()
        self.granularity = granularity or "connect_logical"
        self.tz = parse_zone(tz or "UTC")
        self.dialect = dialect
        self._ts = _granular(self.granularity, self.tz)

    def map(self, col: Column) -> tuple[Schema, Converter | None] | None:
        """The field schema and value converter for a column, or None when the type is unsupported (dropped)."""
        optional = col.nullable is not False
        j = col.jdbc

        native = self.dialect in ("postgresql", "mysql") and col.type_name not in ("money", "uuid", "bit")

        def prim(t: Type, conv: Converter | None = None) -> tuple[Schema, Converter | None]:
            if native and t in _NATIVE_OK:  # asyncpg/aiomysql already return int, float, str, bool
                conv = None
            return _PRIMITIVE[t][1 if optional else 0], conv

        if self.dialect == "postgresql" and j == "BIT":  # PG override: bit(1)/boolean → BOOLEAN
            if col.precision <= 1:
                return prim(Type.BOOLEAN, _to_bool)
            if col.precision <= 8:
                return prim(Type.INT8, _to_int("byte"))
            return prim(Type.BYTES, _to_bytes)
        if self.dialect == "postgresql" and j == "OTHER" and col.type_name in ("json", "jsonb", "uuid"):
            return prim(Type.STRING, None if col.type_name != "uuid" else _to_str)
        if j == "BOOLEAN":
            return prim(Type.BOOLEAN, _to_bool if self.dialect in ("sqlite", "generic") else None)
        if j == "BIT":  # MySQL BIT(1) arrives as bytes, TINYINT(1) as int
            return _PRIMITIVE[Type.INT8][1 if optional else 0], _to_int("byte")
        if j == "TINYINT":
            return prim(Type.INT8 if col.signed else Type.INT16, _to_int("byte"))
        if j == "SMALLINT":
            return prim(Type.INT16 if col.signed else Type.INT32, _to_int("short"))
        if j == "INTEGER":
            return prim(Type.INT32 if col.signed else Type.INT64, _to_int("int"))
        if j == "BIGINT":
            return prim(Type.INT64, _to_int("long"))
        if j == "REAL":
            return prim(Type.FLOAT32, _to_float)
        if j in ("FLOAT", "DOUBLE"):
            return prim(Type.FLOAT64, _money if col.type_name == "money" else _to_float)
        if j == "NUMERIC":
            return self._numeric(col, optional)
        if j == "DECIMAL":
            return self._decimal(col, optional)
        if j in ("CHAR", "VARCHAR", "LONGVARCHAR", "NCHAR", "NVARCHAR", "LONGNVARCHAR", "CLOB", "NCLOB", "SQLXML"):
            return prim(Type.STRING, _to_str)
        if j in ("BINARY", "VARBINARY", "LONGVARBINARY", "BLOB"):
            return prim(Type.BYTES, _to_bytes)
        if j == "DATE":
            return S.date_schema(optional), _to_date
        if j == "TIME":
            return S.time_schema(optional), _to_time
        if j == "TIMESTAMP":
            req, opt, conv = self._ts
            if conv is None and self.dialect in ("sqlite", "generic"):  # text, or zone-less wall-clock values
                conv = to_instant(self.tz)
            return (opt if optional else req), conv
        return None

    def _decimal(self, col: Column, optional: bool) -> tuple[Schema, Converter]:
        scale = 127 if col.scale == -127 else col.scale
        if self.dialect == "postgresql" and col.precision == 0 and col.scale == 0:
            scale = 127  # unconstrained numeric
        # PostgreSQL numeric(p,s) and MySQL DECIMAL(p,s) text always carries exactly s digits after the point, so
        # the driver's Decimal already has the schema scale: no per-value rescale needed
        exact = self.dialect in ("postgresql", "mysql") and col.precision > 0 and scale == col.scale
        return S.decimal_schema(scale, optional, col.precision), None if exact else _rescale(scale)

    def _numeric(self, col: Column, optional: bool) -> tuple[Schema, Converter]:
        p, s, mode = col.precision, col.scale, self.numeric_mapping
        if mode == "precision_only" and s == 0 and p <= 18:
            t = _int_for_precision(p)
        elif mode in ("best_fit", "best_fit_eager_double") and -84 <= s <= 0 and p <= 18:
            t = _int_for_precision(p)
        elif (mode == "best_fit" and p <= 18 and s > 0) or (mode == "best_fit_eager_double" and s > 0):
            return _PRIMITIVE[Type.FLOAT64][1 if optional else 0], _to_float
        else:
            return self._decimal(col, optional)
        names = {Type.INT8: "byte", Type.INT16: "short", Type.INT32: "int", Type.INT64: "long"}
        return _PRIMITIVE[t][1 if optional else 0], _to_int(names[t])


# -- per-dialect native type → JDBC category ---------------------------------------------------------------
_PG_JDBC = {
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "oid": "BIGINT",
    "float4": "REAL",
    "float8": "DOUBLE",
    "money": "DOUBLE",
    "numeric": "NUMERIC",
    "bool": "BIT",
    "bit": "BIT",
    "bpchar": "CHAR",
    "char": "CHAR",
    "varchar": "VARCHAR",
    "text": "VARCHAR",
    "name": "VARCHAR",
    "json": "OTHER",
    "jsonb": "OTHER",
    "uuid": "OTHER",
    "xml": "SQLXML",
    "bytea": "BINARY",
    "date": "DATE",
    "time": "TIME",
    "timetz": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMP",
}


def pg_column(
    name: str,
    type_name: str,
    type_kind: str,
    typmod: int = -1,
    nullable: bool | None = None,
    auto_increment: bool = False,
) -> Column:
    """From asyncpg attribute type info (name, kind) plus pg_attribute's atttypmod and attnotnull."""
    if type_kind == "array" or type_name.startswith("_"):
        jdbc = "ARRAY"
    elif type_kind == "enum":
        jdbc = "VARCHAR"
    elif type_kind == "domain":
        jdbc = "DISTINCT"
    else:
        jdbc = _PG_JDBC.get(type_name, "OTHER")
    precision = scale = 0
    if type_name == "numeric" and typmod >= 4:
        precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    elif type_name == "bool":
        precision = 1
    elif type_name == "bit":
        precision = typmod if typmod > 0 else 1
    return Column(
        name, jdbc, type_name, precision, scale, True, nullable, auto_increment, aware=type_name == "timestamptz"
    )


_MY_INT = {1: "TINYINT", 2: "SMALLINT", 9: "INTEGER", 3: "INTEGER", 8: "BIGINT"}


def mysql_column(field: Any) -> Column:
    """From a pymysql FieldDescriptorPacket (what Connector/J sees in the result-set metadata)."""
    t, flags, length, scale = field.type_code, field.flags, field.length, field.scale
    binary = field.charsetnr == 63
    signed = not flags & 32
    nullable = not flags & 1
    auto = bool(flags & 512)
    name = field.name
    if t == 1 and length == 1:
        return Column(name, "BIT", "tinyint(1)", 1, 0, True, nullable, auto)
    if t in _MY_INT:
        return Column(name, _MY_INT[t], "", 0, 0, signed, nullable, auto)
    if t in (0, 246):
        precision = max(0, length - (1 if signed else 0) - (1 if scale > 0 else 0))
        return Column(name, "DECIMAL", "decimal", precision, scale, signed, nullable, auto)
    simple = {
        4: "REAL",
        5: "DOUBLE",
        10: "DATE",
        14: "DATE",
        13: "DATE",
        11: "TIME",
        12: "TIMESTAMP",
        7: "TIMESTAMP",
        245: "LONGVARCHAR",
        247: "CHAR",
        248: "CHAR",
        255: "BINARY",
    }
    if t in simple:
        type_name = {245: "json", 13: "year"}.get(t, "")
        return Column(name, simple[t], type_name, 0, 0, signed, nullable, auto)
    if t == 16:
        return Column(name, "BIT" if length <= 1 else "VARBINARY", "bit", length, 0, True, nullable, auto)
    if t in (249, 250, 251, 252):
        return Column(name, "LONGVARBINARY" if binary else "LONGVARCHAR", "", 0, 0, True, nullable, auto)
    if t in (15, 253, 254):
        return Column(name, "VARBINARY" if binary else "VARCHAR", "", 0, 0, True, nullable, auto)
    return Column(name, "OTHER", str(t), 0, 0, True, nullable, auto)


_SQLITE = {
    "BOOLEAN": ("BOOLEAN", True),
    "TINYINT": ("TINYINT", False),
    "SMALLINT": ("SMALLINT", False),
    "INT2": ("SMALLINT", False),
    "INTEGER": ("INTEGER", True),
    "INT": ("INTEGER", False),
    "MEDIUMINT": ("INTEGER", False),
    "BIGINT": ("BIGINT", True),
    "INT8": ("BIGINT", True),
    "UNSIGNED BIG INT": ("BIGINT", True),
    "REAL": ("REAL", True),
    "DOUBLE": ("DOUBLE", True),
    "DOUBLE PRECISION": ("DOUBLE", True),
    "FLOAT": ("FLOAT", True),
    "NUMERIC": ("NUMERIC", True),
    "DECIMAL": ("DECIMAL", True),
    "CHAR": ("CHAR", True),
    "CHARACTER": ("CHAR", True),
    "NCHAR": ("NCHAR", True),
    "VARCHAR": ("VARCHAR", True),
    "NVARCHAR": ("NVARCHAR", True),
    "TEXT": ("VARCHAR", True),
    "CLOB": ("CLOB", True),
    "BLOB": ("BLOB", True),
    "BINARY": ("BINARY", True),
    "DATE": ("DATE", True),
    "DATETIME": ("DATE", True),
    "TIMESTAMP": ("TIMESTAMP", True),
}


def sqlite_column(name: str, declared: str, notnull: bool, auto_increment: bool = False, sample: Any = None) -> Column:
    """From PRAGMA table_info's declared type; without a declaration, from the value's storage class."""
    decl = (declared or "").strip().upper()
    base = decl.split("(")[0].strip()
    precision = scale = 0
    m = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", decl)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2) or 0)
    if base in _SQLITE:
        jdbc, signed = _SQLITE[base]
    elif not base:
        jdbc, signed = (
            {int: "BIGINT", float: "DOUBLE", str: "VARCHAR", bytes: "BLOB"}.get(type(sample), "NUMERIC"),
            True,
        )
    else:  # SQLite affinity rules for other declarations
        signed = True
        jdbc = (
            "BIGINT"
            if "INT" in base
            else "VARCHAR"
            if any(k in base for k in ("CHAR", "CLOB", "TEXT"))
            else "BLOB"
            if "BLOB" in base
            else "DOUBLE"
            if any(k in base for k in ("REAL", "FLOA", "DOUB"))
            else "NUMERIC"
        )
    return Column(name, jdbc, decl.lower(), precision, scale, signed, not notnull, auto_increment)
