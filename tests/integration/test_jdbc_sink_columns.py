"""The JDBC sink's column path (put_columns) against its record path (put) on PostgreSQL, MariaDB and SQLite: the same
JsonConverter envelopes written both ways leave identical rows, for every type the sink maps, NULLs, logical types,
unicode and hostile names and values, in insert and upsert mode; batches the column path cannot read the same way
are refused (and then written record by record)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.jdbc_sink_db import Db, db_for
from helpers.sink_columns import batches, table_rows, task_for, value, write_by_columns, write_by_records

from miniconnect.converters.json import JsonConverter
from miniconnect.converters.string import StringConverter
from miniconnect.data.schema import (
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
)
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.transport.base import RecordBatch


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    return db_for(request, tmp_path)


def envelopes(values: list[Struct]) -> list[bytes]:
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    return [conv.from_connect_data("t", v.schema, v) for v in values]


def key_envelopes(ids: list[str]) -> list[bytes]:
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, True)
    return [conv.from_connect_data("t", STRING_SCHEMA, k) for k in ids]


def converters(string_keys: bool = False) -> tuple[Any, JsonConverter]:
    key: Any = StringConverter() if string_keys else JsonConverter()
    key.configure({"schemas.enable": "true"}, True)
    value = JsonConverter()
    value.configure({"schemas.enable": "true"}, False)
    return key, value


async def by_records(db: Db, table: str, raw: list[RecordBatch], string_keys: bool = False, **config: str) -> None:
    await write_by_records(db, table, raw, *converters(string_keys), **config)


async def by_columns(db: Db, table: str, raw: list[RecordBatch], string_keys: bool = False, **config: str) -> bool:
    """put_columns() of the batch read as columns; False when the reader or the task refused it."""
    return await write_by_columns(db, table, raw, *converters(string_keys), **config)


async def test_every_type_the_same_both_ways(db: Db) -> None:
    raw = batches("t", envelopes([value(i) for i in range(200)]))
    await by_records(db, "by_records", raw)
    assert await by_columns(db, "by_columns", raw)
    expected = await table_rows(db, "by_records")
    assert len(expected) == 200
    assert await table_rows(db, "by_columns") == expected
    assert await db.columns("by_columns") == await db.columns("by_records")


async def test_upsert_the_same_both_ways(db: Db) -> None:
    """pk.mode record_value: keys repeated within the batch and across batches, the last value wins."""
    first = [value(i) for i in range(120)]
    again = [value(i + 1000) for i in range(150)]
    for v, i in zip(again, range(150)):
        v.values[0] = f"id-{i % 90:04d}"  # 90 keys, 60 of them twice in this batch
    config = {"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id"}
    for part in (first, again):
        raw = batches("t", envelopes(part))
        await by_records(db, "up_records", raw, **config)
        assert await by_columns(db, "up_columns", raw, **config)
    expected = await table_rows(db, "up_records")
    assert len(expected) == 120
    assert await table_rows(db, "up_columns") == expected


@pytest.mark.parametrize("string_keys", [False, True])
async def test_upsert_by_record_key_the_same_both_ways(db: Db, string_keys: bool) -> None:
    ids = [f"k{i % 70}" for i in range(200)]
    keys = [k.encode() for k in ids] if string_keys else key_envelopes(ids)
    raw = batches("t", envelopes([value(i) for i in range(200)]), keys)
    config = {"insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "k"}
    await by_records(db, "key_records", raw, string_keys, **config)
    assert await by_columns(db, "key_columns", raw, string_keys, **config)
    expected = await table_rows(db, "key_records", '"k"')
    assert len(expected) == 70
    assert await table_rows(db, "key_columns", '"k"') == expected


async def test_kafka_coordinates_the_same_both_ways(db: Db) -> None:
    raw = batches("t", envelopes([value(i) for i in range(90)]))
    config = {"pk.mode": "kafka", "insert.mode": "upsert"}
    await by_records(db, "kafka_records", raw, **config)
    assert await by_columns(db, "kafka_columns", raw, **config)
    order = '"__connect_partition", "__connect_offset"'
    assert await table_rows(db, "kafka_columns", order) == await table_rows(db, "kafka_records", order)


async def test_upsert_leaves_what_inserting_each_keys_last_record_leaves(db: Db) -> None:
    """Upserts onto existing and new keys, repeated within a put, by both paths: the table ends as an insert of only
    the last record of each key leaves it, in every column type (NULLs replacing values and values NULLs)."""
    first = [value(i) for i in range(100)]
    again = [value(i + 500) for i in range(160)]
    for j, v in enumerate(again):
        v.values[0] = f"id-{(j * 7) % 130:04d}"  # 100 keys already there, 30 new; 30 of them twice in the put
    last = {v.values[0]: v for v in first + again}
    config = {"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id", "batch.size": "50"}
    for part in (first, again):
        raw = batches("t", envelopes(part))
        await by_records(db, "last_records", raw, **config)
        assert await by_columns(db, "last_columns", raw, **config)
    await by_records(db, "last_expected", batches("t", envelopes(list(last.values()))))
    expected = await table_rows(db, "last_expected")
    assert len(expected) == 130
    assert await table_rows(db, "last_records") == expected
    assert await table_rows(db, "last_columns") == expected


async def test_upsert_of_redelivered_kafka_coordinates(db: Db) -> None:
    """pk.mode kafka (a three-column key): a put that redelivers the coordinates of an earlier one with other values,
    and new ones after them, leaves the later values, by both paths."""
    config = {"pk.mode": "kafka", "insert.mode": "upsert"}
    later = batches("t", envelopes([value(i + 300) for i in range(130)]))
    for raw in (batches("t", envelopes([value(i) for i in range(90)])), later):
        await by_records(db, "redelivered_records", raw, **config)
        assert await by_columns(db, "redelivered_columns", raw, **config)
    await by_records(db, "redelivered_expected", later, **config)
    order = '"__connect_partition", "__connect_offset"'
    expected = await table_rows(db, "redelivered_expected", order)
    assert len(expected) == 130
    assert await table_rows(db, "redelivered_records", order) == expected
    assert await table_rows(db, "redelivered_columns", order) == expected


async def test_postgres_upsert_matches_keys_as_the_unique_index_does(pg_db: Any) -> None:
    """A key column with a case-insensitive collation of its own: an upsert of "K1" updates the row of "k1", as the
    unique index finds it, by both paths."""
    db = Db("postgresql", pg_db.connection_config(), pg_db)
    await db.execute(
        "CREATE COLLATION IF NOT EXISTS \"ci\" (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
    )
    config = {"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "order_id"}
    for table, by in (("ci_records", by_records), ("ci_columns", by_columns)):
        await db.execute(f'CREATE TABLE "{table}" ("order_id" text COLLATE "ci" PRIMARY KEY, "qty" int)')
        await by_records(
            db, table, batches("t", [(SEED % f'{{"order_id":"k{i}","qty":{i}}}').encode() for i in range(60)])
        )
        keys = [f"K{i}" if i % 2 else f"k{i}" for i in range(90)]
        changed = [(SEED % f'{{"order_id":"{k}","qty":{i + 1000}}}').encode() for i, k in enumerate(keys)]
        assert await by(db, table, batches("t", changed), **config) is not False
        rows = await table_rows(db, table, '"qty"')
        assert rows == [(f"k{i}" if i < 60 else keys[i], i + 1000) for i in range(90)]


SEED = (
    '{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"order_id"},'
    '{"type":"int32","optional":true,"field":"qty"}],"optional":false,"name":"orders"},"payload":%s}'
)


@pytest.mark.parametrize(
    "payload",
    [
        '{"order_id":"a","qty":1.0}',  # a float for an integer: JsonConverter truncates
        '{"order_id":"a","qty":1e2}',
        '{"order_id":"a","order_id":"b","qty":1}',  # duplicate key: the last wins
        '{"order_id":5,"qty":1}',  # a number for a string: an error
        '{"order_id":"a","qty":99999999999999999999}',
        "null",  # a null struct
        '{"order_id":"a"} {"order_id":"b"}',  # two objects in one record
        '{"order_id":"a","x":',  # unclosed: the JSON reader would take in the next record's payload
    ],
)
def test_refused_when_record_by_record_could_differ(payload: str) -> None:
    good = (SEED % '{"order_id":"x","qty":2}').encode()
    bad = (SEED % payload).encode()
    columns = ColumnConverter(*converters())
    units = columns.plan(batches("t", [good, bad, good]))
    assert units is not None
    assert columns.read(units) is None
    assert columns.read(columns.plan(batches("t", [good, good]))) is not None  # type: ignore[arg-type]


def test_invalid_utf8_and_required_nulls_are_refused() -> None:
    good = (SEED % '{"order_id":"x","qty":2}').encode()
    columns = ColumnConverter(*converters())
    bad = (SEED % '{"order_id":"\xff","qty":2}').encode("latin-1")
    assert columns.read(columns.plan(batches("t", [good, bad]))) is None  # type: ignore[arg-type]
    required = SEED.replace('"optional":true,"field":"qty"', '"optional":false,"field":"qty"')
    units = columns.plan(batches("t", [(required % '{"order_id":"x","qty":2}').encode(), (required % "{}").encode()]))
    assert units is not None and columns.read(units) is None


async def test_postgres_refusals_write_nothing_and_records_then_do(pg_db: Any, tmp_path: Any) -> None:
    """A value PostgreSQL rejects in COPY (a NUL in text) rolls the column transaction back; a column type without a
    binary COPY form here (jsonb) is refused before anything is sent. put() then does what it always did."""
    db = Db("postgresql", pg_db.connection_config(), pg_db)
    schema = Schema.struct([("id", STRING_SCHEMA), ("doc", OPTIONAL_STRING_SCHEMA)], name="doc")
    good = [Struct(schema, [f"id-{i}", f'{{"a": {i}}}']) for i in range(50)]
    nul = [*good[:10], Struct(schema, ["id-nul", "a\x00b"]), *good[10:]]
    task = await task_for(db, "docs")
    try:
        columns = ColumnConverter(*converters())
        assert not await task.put_columns(columns.read(columns.plan(batches("t", envelopes(nul)))))  # type: ignore[arg-type]
        assert await db.rows('SELECT COUNT(*) FROM "docs"') == [(0,)]
        await db.execute('ALTER TABLE "docs" ALTER COLUMN "doc" TYPE jsonb USING "doc"::jsonb')
        raw = batches("t", envelopes(good))
        assert not await task.put_columns(columns.read(columns.plan(raw)))  # type: ignore[arg-type]
        assert await db.rows('SELECT COUNT(*) FROM "docs"') == [(0,)]
    finally:
        await task.stop()
    await by_records(db, "docs", raw)
    assert await db.rows('SELECT COUNT(*) FROM "docs"') == [(50,)]
