"""Connect's data model: Schema, Field, Struct and the logical types Decimal, Date, Time, Timestamp."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any


class Type(str, Enum):
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    STRING = "string"
    BYTES = "bytes"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"

    @property
    def is_primitive(self) -> bool:
        return self not in (Type.ARRAY, Type.MAP, Type.STRUCT)


class DataError(ValueError):
    """A value does not fit its schema (Connect's DataException)."""


DECIMAL = "org.apache.kafka.connect.data.Decimal"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
SCALE_FIELD = "scale"


class Field:
    __slots__ = ("index", "name", "schema")

    def __init__(self, name: str, index: int, schema: Schema):
        self.name, self.index, self.schema = name, index, schema

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Field)
            and self.name == other.name
            and self.index == other.index
            and self.schema == other.schema
        )

    def __hash__(self) -> int:
        return hash((self.name, self.index, self.schema))

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.index}, {self.schema!r})"


class Schema:
    """An immutable Connect schema. Equal schemas hash equal, so they can key caches."""

    __slots__ = (
        "_by_name",
        "_hash",
        "default",
        "doc",
        "fields",
        "key_schema",
        "name",
        "optional",
        "parameters",
        "type",
        "value_schema",
        "version",
    )

    def __init__(
        self,
        type: Type,
        optional: bool = False,
        default: Any = None,
        name: str | None = None,
        version: int | None = None,
        doc: str | None = None,
        parameters: Mapping[str, str] | None = None,
        fields: Iterable[Field] = (),
        key_schema: Schema | None = None,
        value_schema: Schema | None = None,
    ):
        self.type = Type(type)
        self.optional = optional
        self.default = default
        self.name = name
        self.version = version
        self.doc = doc
        self.parameters = dict(parameters) if parameters else None
        self.fields = tuple(fields)
        self.key_schema = key_schema
        self.value_schema = value_schema
        self._by_name = {f.name: f for f in self.fields}
        self._hash = hash(
            (
                self.type,
                self.optional,
                self.name,
                self.version,
                self.fields,
                self.key_schema,
                self.value_schema,
                tuple(sorted(self.parameters.items())) if self.parameters else None,
            )
        )

    # -- builders -----------------------------------------------------------------------------
    @staticmethod
    def struct(
        fields: Iterable[tuple[str, Schema]],
        name: str | None = None,
        optional: bool = False,
        version: int | None = None,
        doc: str | None = None,
    ) -> Schema:
        return Schema(
            Type.STRUCT,
            optional=optional,
            name=name,
            version=version,
            doc=doc,
            fields=[Field(n, i, s) for i, (n, s) in enumerate(fields)],
        )

    @staticmethod
    def array(value_schema: Schema, optional: bool = False, name: str | None = None) -> Schema:
        return Schema(Type.ARRAY, optional=optional, name=name, value_schema=value_schema)

    @staticmethod
    def map(key_schema: Schema, value_schema: Schema, optional: bool = False, name: str | None = None) -> Schema:
        return Schema(Type.MAP, optional=optional, name=name, key_schema=key_schema, value_schema=value_schema)

    def with_(self, **changes: Any) -> Schema:
        """A copy with some attributes replaced (optional=True, default=..., ...)."""
        attrs = {
            a: getattr(self, a)
            for a in (
                "type",
                "optional",
                "default",
                "name",
                "version",
                "doc",
                "parameters",
                "fields",
                "key_schema",
                "value_schema",
            )
        }
        attrs.update(changes)
        return Schema(**attrs)

    # -- access -------------------------------------------------------------------------------
    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def is_logical(self) -> bool:
        return self.name in (DECIMAL, DATE, TIME, TIMESTAMP)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Schema) or self._hash != other._hash:
            return False
        return (
            self.type == other.type
            and self.optional == other.optional
            and self.name == other.name
            and self.version == other.version
            and self.doc == other.doc
            and self.parameters == other.parameters
            and self.fields == other.fields
            and self.key_schema == other.key_schema
            and self.value_schema == other.value_schema
            and _default_eq(self.default, other.default)
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        parts = [self.type.value]
        if self.name:
            parts.append(f"name={self.name!r}")
        if self.optional:
            parts.append("optional")
        if self.fields:
            parts.append("fields=[" + ", ".join(f"{f.name}:{f.schema!r}" for f in self.fields) + "]")
        return f"Schema({', '.join(parts)})"


def _default_eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return a is b


# -- ready-made schemas (Connect's Schema.*_SCHEMA constants) ---------------------------------------
INT8_SCHEMA = Schema(Type.INT8)
INT16_SCHEMA = Schema(Type.INT16)
INT32_SCHEMA = Schema(Type.INT32)
INT64_SCHEMA = Schema(Type.INT64)
FLOAT32_SCHEMA = Schema(Type.FLOAT32)
FLOAT64_SCHEMA = Schema(Type.FLOAT64)
BOOLEAN_SCHEMA = Schema(Type.BOOLEAN)
STRING_SCHEMA = Schema(Type.STRING)
BYTES_SCHEMA = Schema(Type.BYTES)
OPTIONAL_INT8_SCHEMA = Schema(Type.INT8, optional=True)
OPTIONAL_INT16_SCHEMA = Schema(Type.INT16, optional=True)
OPTIONAL_INT32_SCHEMA = Schema(Type.INT32, optional=True)
OPTIONAL_INT64_SCHEMA = Schema(Type.INT64, optional=True)
OPTIONAL_FLOAT32_SCHEMA = Schema(Type.FLOAT32, optional=True)
OPTIONAL_FLOAT64_SCHEMA = Schema(Type.FLOAT64, optional=True)
OPTIONAL_BOOLEAN_SCHEMA = Schema(Type.BOOLEAN, optional=True)
OPTIONAL_STRING_SCHEMA = Schema(Type.STRING, optional=True)
OPTIONAL_BYTES_SCHEMA = Schema(Type.BYTES, optional=True)


def decimal_schema(scale: int, optional: bool = False, precision: int | None = None) -> Schema:
    params = {SCALE_FIELD: str(scale)}
    if precision is not None:
        params["connect.decimal.precision"] = str(precision)
    return Schema(Type.BYTES, optional=optional, name=DECIMAL, version=1, parameters=params)


def date_schema(optional: bool = False) -> Schema:
    return Schema(Type.INT32, optional=optional, name=DATE, version=1)


def time_schema(optional: bool = False) -> Schema:
    return Schema(Type.INT32, optional=optional, name=TIME, version=1)


def timestamp_schema(optional: bool = False) -> Schema:
    return Schema(Type.INT64, optional=optional, name=TIMESTAMP, version=1)


# -- logical type conversions (Python value <-> the primitive Connect stores) ------------------------
EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# scaleb rounds to the context's precision (28 digits by default); NUMERIC columns hold up to 1000 digits.
EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def decimal_to_bytes(value: decimal.Decimal, scale: int) -> bytes:
    """Unscaled two's-complement big-endian bytes, as java.math.BigInteger.toByteArray()."""
    scaled = value.scaleb(scale, EXACT)
    unscaled = int(scaled)
    if scaled != unscaled:  # more fractional digits than the scale: round (rare, so checked rather than always done)
        unscaled = int(scaled.to_integral_value(rounding=decimal.ROUND_HALF_UP))
    length = (unscaled + (unscaled < 0)).bit_length() // 8 + 1
    return unscaled.to_bytes(length, "big", signed=True)


def decimal_from_bytes(data: bytes, scale: int) -> decimal.Decimal:
    """The Decimal of an unscaled value's two's complement bytes; ValueError for none (Java's BigInteger refuses them,
    and Connect's Decimal.toLogical with it)."""
    if not data:
        raise ValueError("Zero length BigInteger")
    return decimal.Decimal(int.from_bytes(data, "big", signed=True)).scaleb(-scale, EXACT)


def date_to_days(value: dt.date) -> int:
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - EPOCH_DATE).days


def days_to_date(days: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=days)


def time_to_millis(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000


def millis_to_time(millis: int) -> dt.time:
    if not 0 <= millis < 86_400_000:
        raise DataError(
            f"Time values must use number of milliseconds greater than 0 and less than 86400000, got {millis}"
        )
    s, ms = divmod(millis, 1000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return dt.time(h, m, s, ms * 1000)


_EPOCH_NAIVE = dt.datetime(1970, 1, 1)


def timestamp_to_millis(value: dt.datetime) -> int:
    # naive = UTC; subtracting the naive epoch skips a replace(tzinfo=) per value (hot in source converters)
    delta = value - (_EPOCH_NAIVE if value.tzinfo is None else EPOCH)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def millis_to_timestamp(millis: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=millis)


def decimal_scale(schema: Schema) -> int:
    try:
        return int((schema.parameters or {})[SCALE_FIELD])
    except (KeyError, ValueError):
        raise DataError("Invalid Decimal schema: scale parameter not found.") from None


class Struct:
    """A structured record value. Values are kept by field index: a list, or any sequence (a driver's row) that
    is copied into a list on the first put()."""

    __slots__ = ("schema", "values")

    def __init__(self, schema: Schema, values: Sequence[Any] | None = None):
        if schema.type is not _STRUCT:  # identity: Enum equality is slow on this per-record path
            raise DataError(f"Not a struct schema: {schema!r}")
        self.schema = schema
        self.values = values if values is not None else [None] * len(schema.fields)

    @staticmethod
    def many(schema: Schema, rows: Iterable[Sequence[Any]]) -> list[Struct]:
        """One Struct per row, all of one struct schema: the per-record constructor call and check left out."""
        if schema.type is not _STRUCT:
            raise DataError(f"Not a struct schema: {schema!r}")
        out = []
        append = out.append
        for row in rows:
            s = _new(Struct)
            s.schema = schema
            s.values = row
            append(s)
        return out

    def put(self, name: str, value: Any) -> Struct:
        f = self.schema.field(name)
        if f is None:
            raise DataError(f"{name} is not a valid field name")
        if self.values.__class__ is not list:
            self.values = list(self.values)
        self.values[f.index] = value  # type: ignore[index]
        return self

    def get(self, name: str) -> Any:
        f = self.schema.field(name)
        if f is None:
            raise DataError(f"{name} is not a valid field name")
        v = self.values[f.index]
        return f.schema.default if v is None else v

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: self.values[f.index] for f in self.schema.fields}

    def validate(self) -> None:
        for f in self.schema.fields:
            validate_value(f.schema, self.values[f.index], f.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Struct) and self.schema == other.schema and list(self.values) == list(other.values)

    def __repr__(self) -> str:
        return f"Struct{{{', '.join(f'{f.name}={self.values[f.index]!r}' for f in self.schema.fields)}}}"


_STRUCT = Type.STRUCT
_new = object.__new__

_PY_TYPES: dict[Type, tuple[type, ...]] = {
    Type.INT8: (int,),
    Type.INT16: (int,),
    Type.INT32: (int,),
    Type.INT64: (int,),
    Type.FLOAT32: (float, int),
    Type.FLOAT64: (float, int),
    Type.BOOLEAN: (bool,),
    Type.STRING: (str,),
    Type.BYTES: (bytes, bytearray, memoryview),
    Type.ARRAY: (list, tuple),
    Type.MAP: (dict,),
    Type.STRUCT: (Struct,),
}
_LOGICAL_PY: dict[str, tuple[type, ...]] = {
    DECIMAL: (decimal.Decimal,),
    DATE: (dt.date,),
    TIME: (dt.time,),
    TIMESTAMP: (dt.datetime,),
}


def validate_value(schema: Schema, value: Any, field: str | None = None) -> None:
    """Raises DataError when value does not fit schema, like ConnectSchema.validateValue."""
    where = f' for field: "{field}"' if field else ""
    if value is None:
        if not schema.optional and schema.default is None:
            raise DataError(f"Invalid value: null used for required field{where}, schema type: {schema.type.name}")
        return
    expected = _LOGICAL_PY.get(schema.name or "") or _PY_TYPES[schema.type]
    if not isinstance(value, expected) or (
        schema.type != Type.BOOLEAN and isinstance(value, bool) and expected[0] is not bool
    ):
        raise DataError(f"Invalid Java object for schema with type {schema.type.name}: {type(value).__name__}{where}")
    if schema.type == Type.STRUCT and value.schema != schema:
        raise DataError(f"Struct schemas do not match{where}.")
    if schema.type == Type.ARRAY and schema.value_schema is not None:
        for v in value:
            validate_value(schema.value_schema, v, field)
    elif schema.type == Type.MAP and schema.key_schema is not None:
        for k, v in value.items():
            validate_value(schema.key_schema, k, field)
            validate_value(schema.value_schema, v, field)  # type: ignore[arg-type]
