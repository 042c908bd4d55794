"""The JDBC source's Avro column plan against AvroConverter's record encoder, without a database: Arrow columns of the
types ADBC gives (with NULLs, extremes, unicode, long strings) encode to the datums compile_encoder writes for the same
Structs, and the zigzag varints to Avro's for every byte length."""

from __future__ import annotations

import datetime as dt
import decimal

import fastavro
import numpy as np
import pyarrow as pa
import pytest
from miniconnect_plugins.jdbc.source.avro_columns import AvroColumnPlan, varints

from miniconnect.converters.avro_codec import compile_encoder, write_long
from miniconnect.converters.avro_data import from_connect_schema
from miniconnect.data.schema import (
    INT64_SCHEMA,
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT16_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    date_schema,
    decimal_schema,
    timestamp_schema,
)

EDGES = [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 2**31 - 1, -(2**31), 2**62, 2**63 - 1, -(2**63)]
EDGES += [s * (1 << (7 * k)) + d for k in range(1, 10) for s in (1, -1) for d in (-1, 0, 1)]


def test_varints_are_avro_longs() -> None:
    values = [v for v in EDGES if -(2**63) <= v < 2**63]
    assert varints(np.array(values, dtype=np.int64)).to_pylist() == [write_long(v) for v in values]


def decimal_precision(p: int, scale: int, optional: bool = True) -> Schema:
    s = decimal_schema(scale, optional=optional)
    return s.with_(parameters={**(s.parameters or {}), "connect.decimal.precision": str(p)})


SCHEMA = Schema.struct(
    [
        ("id", INT64_SCHEMA),
        ("s", OPTIONAL_INT16_SCHEMA),
        ("i", OPTIONAL_INT32_SCHEMA),
        ("name", STRING_SCHEMA),
        ("t", OPTIONAL_STRING_SCHEMA),
        ("b", OPTIONAL_BOOLEAN_SCHEMA),
        ("d", OPTIONAL_FLOAT64_SCHEMA),
        ("n", decimal_precision(10, 2)),
        ("big", decimal_precision(30, 5)),
        ("day", date_schema(optional=True)),
        ("ts", timestamp_schema()),
    ],
    name="types",
)
TEXTS = ["", "plain", "é ü 中文 😀", "x" * 200, "ctl \x01 \x1f \t \n"]


def row(i: int) -> list:
    big = decimal.Decimal(-123456789012345678901234567 + i * 98765).scaleb(-5)
    values = [
        EDGES[i % len(EDGES)] if abs(EDGES[i % len(EDGES)]) < 2**62 else i,
        [-32768, 32767, 0, -1][i % 4],
        [-(2**31), 2**31 - 1, 5, -64][i % 4],
        TEXTS[i % len(TEXTS)] + str(i),
        TEXTS[(i + 2) % len(TEXTS)],
        i % 2 == 0,
        [1.5, -0.0, 1e308, float("nan"), float("inf"), 5e-324][i % 6],
        decimal.Decimal(i * 1234 - 99999).scaleb(-2),
        big,
        dt.date(1970, 1, 1) + dt.timedelta(days=i * 997 - 700_000),
        dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=i * 123_457 - 25_000_000),  # sub-ms, before 1970 too
    ]
    for j in (1, 2, 4, 5, 6, 7, 8, 9):
        if (i + j) % 5 == 0:
            values[j] = None
    return values


def batch(rows: list[list]) -> pa.RecordBatch:
    cols = list(zip(*rows, strict=True))
    return pa.record_batch(
        [
            pa.array(cols[0], pa.int64()),
            pa.array(cols[1], pa.int16()),
            pa.array(cols[2], pa.int32()),
            pa.array(cols[3], pa.string()),
            pa.array(cols[4], pa.string()),
            pa.array(cols[5], pa.bool_()),
            pa.array(cols[6], pa.float64()),
            pa.array([None if v is None else str(v) for v in cols[7]], pa.string()),  # ADBC's numeric text
            pa.array([None if v is None else str(v) for v in cols[8]], pa.string()),
            pa.array(cols[9], pa.date32()),
            pa.array(cols[10], pa.timestamp("us")),
        ],
        names=[f.name for f in SCHEMA.fields],
    )


def test_datums_are_the_record_encoders() -> None:
    rows = [row(i) for i in range(400)]
    arrow = batch(rows)
    header = b"\x00\x00\x00\x00\x07"
    plan = AvroColumnPlan.build(SCHEMA, list(range(11)), [None] * 11, arrow.schema, header)
    assert plan is not None
    named: dict = {}
    encode = compile_encoder(fastavro.parse_schema(from_connect_schema(SCHEMA), named_schemas=named), named, SCHEMA)
    assert plan.encode(arrow) == [encode(Struct(SCHEMA, r), header) for r in rows]


def test_a_null_in_a_required_column_fails_as_the_record_path() -> None:
    rows = [row(i) for i in range(3)]
    rows[1][3] = None
    arrow = batch(rows)
    plan = AvroColumnPlan.build(SCHEMA, list(range(11)), [None] * 11, arrow.schema, b"\x00\x00\x00\x00\x01")
    assert plan is not None
    with pytest.raises(DataError, match='"name"'):
        plan.encode(arrow)


def test_columns_without_a_form_keep_the_row_path() -> None:
    schema = Schema.struct([("f", OPTIONAL_FLOAT64_SCHEMA)], name="f")
    arrow = pa.record_batch([pa.array([1.5], pa.float32())], names=["f"])
    assert AvroColumnPlan.build(schema, [0], [None], arrow.schema, b"\x00\x00\x00\x00\x01") is None
