"""A struct of every Connect type and logical type for the schema-registry converters' tests: the fields every format
expresses (SCALARS, COLLECTIONS) and their values; each format's test adds the fields only it has (defaults, optional
timestamps, unnamed structs ...)."""

from __future__ import annotations

import datetime as dt
import decimal

from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)

UTC = dt.UTC
ADDRESS = Schema.struct([("city", STRING_SCHEMA), ("zip", OPTIONAL_STRING_SCHEMA)], name="com.acme.Address")
SCALARS: list[tuple[str, Schema]] = [
    ("i8", INT8_SCHEMA),
    ("i16", INT16_SCHEMA),
    ("i32", INT32_SCHEMA),
    ("i64", INT64_SCHEMA),
    ("f32", FLOAT32_SCHEMA),
    ("f64", FLOAT64_SCHEMA),
    ("b", BOOLEAN_SCHEMA),
    ("s", STRING_SCHEMA),
    ("by", BYTES_SCHEMA),
    ("dec", decimal_schema(3)),
    ("dec_p", decimal_schema(2, optional=True, precision=10)),
    ("d", date_schema()),
    ("t", time_schema()),
    ("ts", timestamp_schema()),
    ("opt", OPTIONAL_STRING_SCHEMA),
]
COLLECTIONS: list[tuple[str, Schema]] = [
    ("arr", Schema.array(STRING_SCHEMA)),
    ("arr_structs", Schema.array(ADDRESS)),
    ("m", Schema.map(STRING_SCHEMA, INT64_SCHEMA)),
    ("m_int_keys", Schema.map(INT32_SCHEMA, STRING_SCHEMA)),
    ("home", ADDRESS.with_(optional=True)),
]


def scalar_values(i: int, nulls: bool = False) -> list[object]:
    """Values of SCALARS: extremes, unicode, all 256 bytes, negative dates and timestamps; with `nulls`, the optional
    ones None and the rest empty or at their other extreme."""
    return [
        -128 if nulls else 127,
        -32768,
        -(2**31),
        2**63 - 1 - i,
        1.5,
        -1.7976931348623157e308,
        not nulls,
        "" if nulls else "héllo, 世界 \U0001f600",
        b"" if nulls else bytes(range(256)),
        decimal.Decimal("-123.456") + i,
        None if nulls else decimal.Decimal("12345678.90"),
        dt.date(1969, 12, 31) if nulls else dt.date(9999, 12, 31),
        dt.time(23, 59, 59, 999000),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
        if nulls
        else dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
        None if nulls else "x",
    ]


def collection_values(nulls: bool = False) -> list[object]:
    """Values of COLLECTIONS: empty with `nulls` (the optional struct None), else unicode keys and nested structs."""
    addr = Struct(ADDRESS, ["Zürich", None if nulls else "8001"])
    return [
        [] if nulls else ["a", "b"],
        [] if nulls else [addr, addr],
        {} if nulls else {"k": 1, "ü": -2},
        {} if nulls else {1: "one", -5: "minus five"},
        None if nulls else addr,
    ]


def plain(value: object) -> object:
    """Struct values as nested lists (a struct read back has the optional schema of its field, as in Connect)."""
    if isinstance(value, Struct):
        return [plain(v) for v in value.values]
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
