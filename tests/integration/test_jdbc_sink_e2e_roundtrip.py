"""Every Connect type and logical type written by the JDBC sink into a PostgreSQL table (auto.create) and read back by
the JDBC source connector: equal values, and the schema types the Java connectors give (an INT8 field becomes a
SMALLINT column, read back as INT16; everything else keeps its type)."""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from pathlib import Path

from helpers.jdbc_source import Harness
from miniconnect_plugins.jdbc.sink import JdbcSinkTask
from servers import DbServer

from miniconnect.connector import SinkTaskContext
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    Type,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
    timestamp_to_millis,
)

UTC = dt.UTC
FIELDS = [
    ("id", INT32_SCHEMA),
    ("i8", INT8_SCHEMA),
    ("i16", INT16_SCHEMA),
    ("i64", INT64_SCHEMA),
    ("f32", FLOAT32_SCHEMA),
    ("f64", FLOAT64_SCHEMA),
    ("b", BOOLEAN_SCHEMA),
    ("s", STRING_SCHEMA),
    ("by", BYTES_SCHEMA),
    ("dec", decimal_schema(3)),
    ("d", date_schema()),
    ("t", time_schema()),
    ("ts", timestamp_schema()),
    ("opt_s", OPTIONAL_STRING_SCHEMA),
    ("opt_i64", OPTIONAL_INT64_SCHEMA),
    ("opt_f64", OPTIONAL_FLOAT64_SCHEMA),
]
SCHEMA = Schema.struct(FIELDS, name="alltypes")
ROWS = [
    [
        1,
        -128,
        -32768,
        -(2**63),
        1.5,
        2.25,
        True,
        "héllo, 世界 \U0001f600",
        b"\x00\xff\x10",
        decimal.Decimal("123.456"),
        dt.date(2023, 11, 14),
        dt.time(12, 34, 56, 789000),
        dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
        "x",
        2**63 - 1,
        -0.125,
    ],
    [
        2,
        127,
        32767,
        2**63 - 1,
        -3.0e38,
        -1.7976931348623157e308,
        False,
        "",
        b"",
        decimal.Decimal("-0.001"),
        dt.date(1969, 12, 31),
        dt.time(0, 0),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        None,
        None,
        None,
    ],
    [
        3,
        0,
        0,
        0,
        0.0,
        5e-324,
        True,
        "'quotes' \"and\" \\ back\nslash",
        bytes(range(256)),
        decimal.Decimal("99999999999.999"),
        dt.date(9999, 12, 31),
        dt.time(23, 59, 59, 999000),
        dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
        "",
        0,
        1e300,
    ],
]
# what the source reads for each sink field type (PostgreSQL column types of the reference's tables)
EXPECTED_TYPES = {
    "id": Type.INT32,
    "i8": Type.INT16,
    "i16": Type.INT16,
    "i64": Type.INT64,
    "f32": Type.FLOAT32,
    "f64": Type.FLOAT64,
    "b": Type.BOOLEAN,
    "s": Type.STRING,
    "by": Type.BYTES,
    "dec": Type.BYTES,
    "d": Type.INT32,
    "t": Type.INT32,
    "ts": Type.INT64,
    "opt_s": Type.STRING,
    "opt_i64": Type.INT64,
    "opt_f64": Type.FLOAT64,
}
LOGICAL = {
    "dec": "org.apache.kafka.connect.data.Decimal",
    "d": "org.apache.kafka.connect.data.Date",
    "t": "org.apache.kafka.connect.data.Time",
    "ts": "org.apache.kafka.connect.data.Timestamp",
}


async def test_every_type_round_trips_sink_to_source(pg_db: DbServer, tmp_path: Path) -> None:
    props = {
        "name": "rt-sink",
        "topics": "alltypes",
        "auto.create": "true",
        "insert.mode": "upsert",
        "pk.mode": "record_value",
        "pk.fields": "id",
        **pg_db.connection_config(),
    }
    sink = JdbcSinkTask()
    sink.context = SinkTaskContext("rt-sink", 0, props)
    await sink.start(props)
    try:
        await sink.put(
            [SinkRecord("alltypes", 0, None, None, SCHEMA, Struct(SCHEMA, row), i) for i, row in enumerate(ROWS)]
        )
    finally:
        await sink.stop()

    async with Harness(str(tmp_path / "offsets"), "rt-source") as h:
        source = await h.start_task(
            {
                **pg_db.connection_config(),
                "mode": "incrementing",
                "incrementing.column.name": "id",
                "table.whitelist": "alltypes",
                "topic.prefix": "rt-",
                "poll.interval.ms": 50,
                "tables": "alltypes",
            }
        )
        records = await h.poll(source, want=len(ROWS))
    assert len(records) == len(ROWS)
    assert {r.topic for r in records} == {"rt-alltypes"}
    schema = records[0].value_schema
    assert [f.name for f in schema.fields] == [name for name, _ in FIELDS]
    for f in schema.fields:
        assert f.schema.type == EXPECTED_TYPES[f.name], f.name
        assert f.schema.name == LOGICAL.get(f.name), f.name
        assert f.schema.optional == f.name.startswith("opt_"), f.name  # NOT NULL for the required fields
    for rec, row in zip(sorted(records, key=lambda r: r.value.get("id")), ROWS):
        got = {name: rec.value.get(name) for name, _ in FIELDS}
        want = dict(zip((name for name, _ in FIELDS), row))
        want["f32"] = struct.unpack("f", struct.pack("f", want["f32"]))[0]  # REAL: float32 precision
        got["by"] = bytes(got["by"])
        # Timestamp values are instants: the source gives naive UTC datetimes (which the data model reads as UTC)
        got["ts"], want["ts"] = timestamp_to_millis(got["ts"]), timestamp_to_millis(want["ts"])
        assert got == want
