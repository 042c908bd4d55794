"""The JDBC sink's column path against its record path: rows of every type the sink maps, the records as the transport
hands them over, and both ways of writing them (shared by the JsonConverter and AvroConverter comparisons)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from miniconnect_plugins.jdbc.sink import JdbcSinkTask

from miniconnect.connector import SinkTaskContext
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT32_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT8_SCHEMA,
    OPTIONAL_INT16_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.schema_registry.pending import converted, sleep
from miniconnect.transport.base import RecordBatch

from .jdbc_sink_db import Db

HOSTILE = "we\"ird `name`; DROP TABLE x; --'"
ALL_TYPES = Schema.struct(
    [
        ("id", STRING_SCHEMA),
        ("i8", OPTIONAL_INT8_SCHEMA),
        ("i16", OPTIONAL_INT16_SCHEMA),
        ("i32", OPTIONAL_INT32_SCHEMA),
        ("i64", OPTIONAL_INT64_SCHEMA),
        ("f32", OPTIONAL_FLOAT32_SCHEMA),
        ("f64", OPTIONAL_FLOAT64_SCHEMA),
        ("flag", OPTIONAL_BOOLEAN_SCHEMA),
        ("text", OPTIONAL_STRING_SCHEMA),
        ("raw", OPTIONAL_BYTES_SCHEMA),
        ("amount", decimal_schema(3, optional=True)),
        ("day", date_schema(optional=True)),
        ("at", time_schema(optional=True)),
        ("ts", timestamp_schema(optional=True)),
        (HOSTILE, OPTIONAL_STRING_SCHEMA),
    ],
    name="everything",
)
TEXTS = [
    "plain",
    "ünïcödé ✓ 😀 𝔘 e\u0301",
    "quote ' double \" backslash \\ end\\",
    "'); DROP TABLE everything; --",
    "tab\tnewline\nreturn\r",
    "",
    "\\N",
    "NULL",
]


def value(i: int) -> Struct:
    """Row i: every field set, except that row i leaves field i % 15 null (the required id excepted)."""
    values: list[Any] = [
        f"id-{i:04d}",
        (i % 256) - 128,
        i * 37 - 30000,
        i * 1_000_003 - 2**31 + 7,
        (i - 50) * 2**40 + 3,
        [0.0, -1.5, 3.25, 1e-3, 123456.78][i % 5],
        [0.0, -0.0, 1e308, -2.2250738585072014e-308, 0.1 + 0.2, 1 / 3][i % 6],
        i % 3 == 0,
        TEXTS[i % len(TEXTS)] + str(i),
        bytes([i % 256, 0, 255, 39, 92]) * (i % 3),
        decimal.Decimal(i * 1234567 - 500000).scaleb(-3),
        dt.date(1970, 1, 1) + dt.timedelta(days=(i % 200) * 97 - 20000),
        dt.time(i % 24, i % 60, (i * 7) % 60, (i % 1000) * 1000),
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=(i % 200) * 987_654_321_123 - 10**13),
        HOSTILE + TEXTS[(i + 3) % len(TEXTS)],
    ]
    if i % 15:
        values[i % 15] = None
    return Struct(ALL_TYPES, values)


def batches(topic: str, values: list[bytes], keys: list[bytes | None] | None = None) -> list[RecordBatch]:
    """The records as the transport hands them over: two partitions, a RecordBatch per run of 40."""
    keys = keys or [None] * len(values)
    out = []
    for lo in range(0, len(values), 40):
        n = len(values[lo : lo + 40])
        out.append(
            RecordBatch(
                topic,
                (lo // 40) % 2,
                list(range(lo, lo + n)),
                [1_700_000_000_000] * n,
                keys[lo : lo + n],
                values[lo : lo + n],
                [()] * n,
                "CreateTime",
            )
        )
    return out


async def task_for(db: Db, table: str, **overrides: str) -> JdbcSinkTask:
    props = {
        "name": "columns-test",
        "topics": "t",
        "auto.create": "true",
        "table.name.format": table,
        **db.config,
        **overrides,
    }
    task = JdbcSinkTask()
    task.context = SinkTaskContext("columns-test", 0, props)
    await task.start(props)
    return task


async def write_by_records(db: Db, table: str, raw: list[RecordBatch], kc: Any, vc: Any, **config: str) -> None:
    """put() of the records converted one by one."""

    def convert() -> list[SinkRecord]:
        records = []
        for b in raw:
            for o, k, v in zip(b.offsets, b.keys, b.values):
                ks, key = kc.to_connect_data(b.topic, k)
                vs, val = vc.to_connect_data(b.topic, v)
                records.append(SinkRecord(b.topic, b.partition, ks, key, vs, val, o))
        return records

    records = await converted(convert, "the test's records", sleep)  # as the runner: registry requests off the loop
    task = await task_for(db, table, **config)
    try:
        await task.put(records)
    finally:
        await task.stop()


async def write_by_columns(db: Db, table: str, raw: list[RecordBatch], kc: Any, vc: Any, **config: str) -> bool:
    """put_columns() of the batch read as columns; False when the reader or the task refused it."""
    columns = ColumnConverter(kc, vc)
    units = columns.plan(raw)
    batch = columns.read(units) if units is not None else None
    if batch is None:
        return False
    task = await task_for(db, table, **config)
    try:
        return await task.put_columns(batch)
    finally:
        await task.stop()


async def table_rows(db: Db, table: str, order: str = '"id"') -> list[tuple]:
    rows = await db.rows(f'SELECT * FROM "{table}" ORDER BY {order}')
    return [tuple(bytes(v) if isinstance(v, (memoryview, bytearray)) else v for v in r) for r in rows]
