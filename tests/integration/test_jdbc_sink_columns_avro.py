"""The JDBC sink's column path for AvroConverter records (one schema id read at once by polars' Avro reader) against
its record path, with the real Schema Registry the worker serves: the same records written both ways leave identical
rows on PostgreSQL, MariaDB and SQLite, for every type the sink maps, NULLs, logical types and unicode; the columns
hold the values to_connect_data gives; records the column path could read otherwise are refused (and then go record
by record, which says what is wrong)."""

from __future__ import annotations

import asyncio
import decimal
from typing import Any

import numpy as np
import pytest
from helpers.jdbc_sink_db import Db, db_for
from helpers.sink_columns import ALL_TYPES, batches, table_rows, value, write_by_columns, write_by_records

from miniconnect.converters.avro import AvroConverter
from miniconnect.converters.avro_codec import write_long
from miniconnect.converters.avro_columns import _varint_sizes
from miniconnect.data.columns import decimal_column
from miniconnect.data.schema import (
    OPTIONAL_INT32_SCHEMA,
    STRING_SCHEMA,
    DataError,
    Schema,
    Struct,
    decimal_schema,
)
from miniconnect.runtime.sink_columns import ColumnConverter


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    return db_for(request, tmp_path)


def avro(url: str, is_key: bool = False) -> AvroConverter:
    conv = AvroConverter()
    conv.configure({"schema.registry.url": url}, is_key)
    return conv


def encoded(
    url: str, values: list[Any], schema: Schema | None = None, is_key: bool = False, topic: str = "t"
) -> list[bytes]:
    """The records AvroConverter writes (a topic per schema: the registry checks a subject's compatibility)."""
    conv = avro(url, is_key)
    return [conv.from_connect_data(topic, schema or v.schema, v) for v in values]  # type: ignore[misc]


# Avro names cannot hold the hostile field name of ALL_TYPES: the same types under plain names
PLAIN = Schema.struct([(f.name if f.index < 14 else "hostile", f.schema) for f in ALL_TYPES.fields], name="plain")


def rows(n: int, offset: int = 0) -> list[Struct]:
    return [Struct(PLAIN, value(i + offset).values) for i in range(n)]


def read(url: str, values: list[bytes], keys: list[bytes | None] | None = None, topic: str = "t") -> Any:
    columns = ColumnConverter(avro(url, True), avro(url))
    units = columns.plan(batches(topic, values, keys))
    return columns.read(units) if units is not None else None


def test_columns_hold_the_values_records_give(registry_url: str) -> None:
    data = encoded(registry_url, rows(300))
    got = read(registry_url, data)
    assert got is not None and len(got) == 1
    conv = avro(registry_url)
    expected = [conv.to_connect_data("t", d) for d in data]
    assert got[0].value_schema == expected[0][0]
    assert got[0].values.column_names == [f.name for f in PLAIN.fields]
    assert got[0].values.to_pylist() == [s.as_dict() for _, s in expected]
    types = {f.name: str(t) for f, t in zip(PLAIN.fields, got[0].values.schema.types)}
    assert types["i8"] == "int64" and types["f32"] == "double" and types["text"] == "string"
    assert types["day"] == "date32[day]" and types["at"] == "time32[ms]" and types["ts"] == "timestamp[ms, tz=UTC]"
    assert types["amount"].startswith("decimal") and types["raw"] == "binary"


async def test_every_type_the_same_both_ways(db: Db, registry_url: str) -> None:
    raw = batches("t", await asyncio.to_thread(encoded, registry_url, rows(200)))
    kc, vc = avro(registry_url, True), avro(registry_url)
    await write_by_records(db, "by_records", raw, kc, vc)
    assert await write_by_columns(db, "by_columns", raw, kc, vc)
    expected = await table_rows(db, "by_records")
    assert len(expected) == 200
    assert await table_rows(db, "by_columns") == expected
    assert await db.columns("by_columns") == await db.columns("by_records")


async def test_upsert_by_record_key_the_same_both_ways(db: Db, registry_url: str) -> None:
    """Avro keys (a string schema: the one column "k"), keys repeated within the batch: the last value wins."""
    keys: list[bytes | None] = list(
        await asyncio.to_thread(encoded, registry_url, [f"k{i % 70}" for i in range(200)], STRING_SCHEMA, True)
    )
    raw = batches("t", await asyncio.to_thread(encoded, registry_url, rows(200)), keys)
    config = {"insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "k"}
    kc, vc = avro(registry_url, True), avro(registry_url)
    await write_by_records(db, "key_records", raw, kc, vc, **config)
    assert await write_by_columns(db, "key_columns", raw, kc, vc, **config)
    expected = await table_rows(db, "key_records", '"k"')
    assert len(expected) == 70
    assert await table_rows(db, "key_columns", '"k"') == expected


def test_size_check_counts_varints_as_avro_writes_them() -> None:
    edges = [0, 1, -1, 63, -64, 64, -65, 2**62, 2**63 - 1, -(2**63)]
    edges += [s * (1 << (7 * k)) + d for k in range(1, 9) for s in (1, -1) for d in (-1, 0, 1)]
    v = np.array(edges, np.int64)
    assert _varint_sizes(((v << 1) ^ (v >> 63)).view(np.uint64)).tolist() == [len(write_long(e)) for e in edges]


SMALL = Schema.struct([("id", STRING_SCHEMA), ("qty", OPTIONAL_INT32_SCHEMA)], name="small")


@pytest.mark.parametrize(
    ("spoil", "record_gives"),
    [
        (lambda d: d + b"\x00", DataError),  # a byte after the datum
        (lambda d: d[:-1], DataError),  # the datum cut short
        (lambda d: d[:-1] + b"\x84\x00", 2),  # qty 2 as a two-byte varint: the record path reads it
        (lambda d: d.replace("é".encode(), b"\xff\xfe"), DataError),  # invalid UTF-8
        (lambda d: d[:-2] + b"\x04\x04", DataError),  # union branch 2 of ["null", "int"]: polars reads the int
        (lambda d: d[:1] + (int.from_bytes(d[1:5], "big") + 1000).to_bytes(4, "big") + d[5:], DataError),  # no such id
        (lambda d: None, None),  # a tombstone
    ],
    ids=["trailing-byte", "truncated", "long-varint", "invalid-utf8", "bad-branch", "unknown-schema-id", "tombstone"],
)
def test_refused_when_record_by_record_could_differ(registry_url: str, spoil: Any, record_gives: Any) -> None:
    good = encoded(registry_url, [Struct(SMALL, [f"é{i}", 2]) for i in range(3)], topic="small")
    assert good[1].endswith(b"\x02\x04")
    assert read(registry_url, good, topic="small") is not None
    bad = spoil(good[1])
    assert read(registry_url, [good[0], bad, good[2]], topic="small") is None
    conv = avro(registry_url)
    if record_gives is DataError:
        with pytest.raises(DataError):
            conv.to_connect_data("small", bad)
    elif record_gives is not None:
        assert conv.to_connect_data("small", bad)[1].get("qty") == record_gives


def test_nested_schemas_stay_on_the_record_path(registry_url: str) -> None:
    nested = Schema.struct([("id", STRING_SCHEMA), ("inner", SMALL)], name="nested")
    data = encoded(registry_url, [Struct(nested, ["a", Struct(SMALL, ["b", 1])])], topic="nested")
    assert ColumnConverter(avro(registry_url, True), avro(registry_url)).plan(batches("nested", data)) is None


def test_records_that_lend_each_other_a_byte_are_refused(registry_url: str) -> None:
    """The batch's bytes are all there, the boundary between two records is not where their values put it."""
    good = encoded(registry_url, [Struct(SMALL, [f"r{i}", i]) for i in range(3)], topic="small")
    assert read(registry_url, good, topic="small") is not None
    moved = [good[0] + good[1][5:6], good[1][:5] + good[1][6:], good[2]]
    assert read(registry_url, moved, topic="small") is None
    conv = avro(registry_url)
    for bad in moved[:2]:
        with pytest.raises(DataError):
            conv.to_connect_data("small", bad)


DECIMALS = Schema.struct([("id", STRING_SCHEMA), ("amount", decimal_schema(4, optional=True))], name="decimals")
EDGES = [0, 1, -1, 127, -128, 128, -129, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 10**30]


@pytest.mark.parametrize(
    "unscaled",
    [EDGES, EDGES[:11], [None, None], [None, 5, None, -70000], [2**127 - 1, -(2**127)]],
    ids=["up-to-13-bytes", "up-to-8-bytes", "all-null", "some-null", "16-bytes"],
)
def test_decimals_as_columns_as_records_give_them(registry_url: str, unscaled: list[int | None]) -> None:
    """Decimals of up to 8 bytes are read with numpy, longer ones a Decimal each: both give what the record path
    gives, in the decimal128/256 type decimal_column makes of those values."""
    values = [None if u is None else decimal.Decimal(u).scaleb(-4) for u in unscaled]
    data = encoded(registry_url, [Struct(DECIMALS, [f"d{i}", v]) for i, v in enumerate(values)], topic="decimals")
    got = read(registry_url, data, topic="decimals")
    assert got is not None
    conv = avro(registry_url)
    expected = [conv.to_connect_data("decimals", d)[1].get("amount") for d in data]
    assert expected == values
    column = got[0].values.column("amount")
    assert column.to_pylist() == expected
    assert column.type == decimal_column(expected, 4).type
