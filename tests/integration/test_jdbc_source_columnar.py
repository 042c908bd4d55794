"""The JDBC source's columnar path (PostgreSQL through ADBC, values encoded from columns) against its row path on a
real PostgreSQL: the same value bytes in the same order and the same source offsets, in every mode, over types,
NULLs, logical types and unicode; columns the columnar path cannot express keep the row path."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest
from helpers.columnar_source import MODES, columns_for_small_tables, polls, read_all, same_records
from registry_testkit import running_registry

from miniconnect.connector import EncodedRecords
from miniconnect.converters.avro import AvroConverter
from miniconnect.converters.json import JsonConverter
from miniconnect.schema_registry.pending import converted, sleep

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def small_tables_as_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    columns_for_small_tables(monkeypatch)


TYPES = """
    id bigint PRIMARY KEY, s smallint, i integer, t text, v varchar(20), c char(3), b boolean, d double precision,
    n numeric(10,2), big numeric(30,5), day date, ts timestamp NOT NULL, tz timestamptz, ts2 timestamp
"""
ROWS = [
    "1, 1, 10, 'plain', 'v', 'abc', true, 1.5, 12.34, 1.5, '2024-02-29', '2024-01-01 00:00:00', "
    "'2024-01-01 00:00:00+00', NULL",
    "2, -32768, -2147483648, 'é ü 中文 😀', '\"quoted\" \\\\ back', 'x', false, 1e7, -0.01, "
    "-123456789012345678901234.56789, '1969-12-31', '1970-01-01 00:00:00.000001', '1960-06-01 12:00:00.5+02', NULL",
    "3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-01-01 00:00:00', NULL, NULL",
    "4, 32767, 2147483647, E'ctl \\x01 \\x1f \\t \\n \\r \\b \\f end', E'\\u2028 \\x7f', '', true, 1e-5, 99999999.99, "
    "0, '0001-01-01', '2024-01-01 00:00:00.001', '2262-04-11 23:47:16.854775+00', '2024-01-01 00:00:00.5'",
    "5, 0, 0, '', 'ab', NULL, NULL, 'NaN', 0, NULL, '9999-12-31', '2024-01-02 00:00:00', NULL, NULL",
    "6, 7, 7, 'seven', 'v', 'v', false, '-Infinity', -128, NULL, NULL, '2024-01-02 00:00:00', NULL, NULL",
    "7, 8, 8, 'eight', 'v', 'v', false, -0.0, -129, NULL, NULL, '2024-01-03 00:00:00', NULL, NULL",
    "8, 9, 9, 'nine', 'v', 'v', false, 0.30000000000000004, 327.67, NULL, NULL, '2024-01-03 00:00:00', NULL, NULL",
]


async def create(pg_db, table: str, columns: str, rows: list[str]) -> None:
    conn = await pg_db.connect()
    try:
        await conn.execute(f"CREATE TABLE {table} ({columns})")
        for r in rows:
            await conn.execute(f"INSERT INTO {table} VALUES ({r})")
    finally:
        await conn.close()


def source_config(pg_db, table: str, **extra: str) -> dict[str, str]:
    return {
        **pg_db.connection_config(),
        "tables": f'"public"."{table}"',
        "tables.fetched": "true",
        "topic.prefix": "col-",
        "poll.interval.ms": "600000",
        "batch.max.rows": "3",
        **extra,
    }


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
async def test_columnar_matches_rows(pg_db, mode: dict[str, str]) -> None:
    await create(pg_db, "types", TYPES, ROWS)
    values = await same_records(source_config(pg_db, "types", **mode), len(ROWS))
    assert b"\\u001F" in b"".join(values)  # control characters escaped as Jackson does
    assert "😀".encode() in b"".join(values)


@pytest.fixture(scope="module")
def avro(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """AvroConverters on the Schema Registry the worker serves."""
    with running_registry(tmp_path_factory.mktemp("registry") / "log") as server:

        def make() -> AvroConverter:
            conv = AvroConverter()
            conv.configure({"schema.registry.url": server.urls[0]}, False)
            return conv

        yield make


@pytest.mark.parametrize(
    "mode",
    [
        {"mode": "bulk"},
        {"mode": "incrementing", "incrementing.column.name": "id"},
        {"mode": "timestamp", "timestamp.column.name": "ts2,ts"},
        {"mode": "timestamp+incrementing", "timestamp.column.name": "ts", "incrementing.column.name": "id"},
    ],
    ids=["bulk", "incrementing", "timestamp-coalesce", "timestamp+incrementing"],
)
async def test_avro_columnar_matches_rows(pg_db, avro, mode: dict[str, str]) -> None:
    """AvroConverter: the datums built per column are the bytes of the row path's records, framed with the id of
    the schema the row path registers."""
    await create(pg_db, "types", TYPES, ROWS)
    values = await same_records(source_config(pg_db, "types", **mode), len(ROWS), avro)
    assert all(v[:1] == b"\x00" for v in values)
    assert "😀".encode() in b"".join(values)
    conv = avro()
    decoded = await converted(lambda: [conv.to_connect_data("col-types", v)[1] for v in values], "the test", sleep)
    assert sorted(r.get("id") for r in decoded) == list(range(1, len(ROWS) + 1))
    assert "plain" in [r.get("t") for r in decoded]


async def test_avro_columnar_many_batches(pg_db, avro) -> None:
    conn = await pg_db.connect()
    try:
        await conn.execute(
            "CREATE TABLE many (id bigint PRIMARY KEY, name text, amount numeric(10,2), at timestamp NOT NULL)"
        )
        await conn.execute(
            "INSERT INTO many SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'name-' || repeat('é', g % 90) END, "
            "(g % 1000 - 500) / 7.0, timestamp '2024-01-01' + (g / 3) * interval '1 second' "
            "FROM generate_series(1, 40000) g"
        )
    finally:
        await conn.close()
    config = source_config(pg_db, "many", mode="incrementing", **{"incrementing.column.name": "id"})
    await same_records({**config, "batch.max.rows": "997"}, 40000, avro)


async def test_columnar_many_batches(pg_db) -> None:
    """Over many Arrow batches and odd batch sizes, with a stored offset to start from."""
    conn = await pg_db.connect()
    try:
        await conn.execute(
            "CREATE TABLE many (id bigint PRIMARY KEY, name text, amount numeric(10,2), at timestamp NOT NULL)"
        )
        await conn.execute(
            "INSERT INTO many SELECT g, 'name-' || g, (g % 1000 - 500) / 7.0, "
            "timestamp '2024-01-01' + (g / 3) * interval '1 second' FROM generate_series(1, 120000) g"
        )
    finally:
        await conn.close()
    await same_records(
        source_config(
            pg_db, "many", mode="incrementing", **{"incrementing.column.name": "id", "batch.max.rows": "997"}
        ),
        120000,
    )
    await same_records(
        source_config(pg_db, "many", mode="timestamp", **{"timestamp.column.name": "at", "batch.max.rows": "5000"}),
        120000,
    )


async def test_inexpressible_columns_keep_the_row_path(pg_db) -> None:
    await create(
        pg_db,
        "odd",
        "id bigint PRIMARY KEY, f real, u uuid, j jsonb, raw bytea",
        ["1, 1.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": 1}', '\\x00ff'"],
    )
    config = source_config(pg_db, "odd", mode="incrementing", **{"incrementing.column.name": "id"})
    rows, _ = await read_all(config, columnar=False, want=1)
    conv = JsonConverter()
    async with aclosing(polls(config, conv)) as batches:
        batch = await anext(batches)
    assert type(batch) is list
    assert conv.from_connect_batch(batch[0].topic, [r.value_schema for r in batch], [r.value for r in batch]) == rows


async def test_columnar_read_cut_off_is_retried(pg_db) -> None:
    """The COPY connection dies mid-stream (pg_terminate_backend): the task retries on the next poll from the last
    emitted row, so every row arrives once, in order."""
    n = 300_000
    conn = await pg_db.connect()
    try:
        await conn.execute("CREATE TABLE cut (id bigint PRIMARY KEY, name text NOT NULL)")
        await conn.execute(f"INSERT INTO cut SELECT g, 'name-' || g FROM generate_series(1, {n}) g")
        config = source_config(pg_db, "cut", mode="incrementing", **{"incrementing.column.name": "id"})
        config["poll.interval.ms"] = "100"
        ids: list[int] = []
        terminated = 0
        async with aclosing(polls(config, JsonConverter())) as batches:
            async for batch in batches:
                assert type(batch) is EncodedRecords
                ids += [int(v.rsplit(b'"id":', 1)[1].split(b",", 1)[0]) for v in batch.values]
                if not terminated:
                    terminated = await conn.fetchval(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'COPY%' "
                        "AND state = 'active' AND pid <> pg_backend_pid()"
                    )
                if len(ids) >= n:
                    break
    finally:
        await conn.close()
    assert terminated == 1
    assert ids == list(range(1, n + 1))


async def test_columnar_timestamp_read_cut_off_loses_no_row(pg_db) -> None:
    """Timestamp mode holds back each batch's last row until a later timestamp follows: when the COPY connection
    dies mid-stream, the retry resumes from the last emitted timestamp, so that held-back row is read again rather
    than skipped (duplicates only)."""
    n = 300_000
    conn = await pg_db.connect()
    try:
        await conn.execute("CREATE TABLE cut_ts (id bigint PRIMARY KEY, at timestamp NOT NULL)")
        await conn.execute(
            f"INSERT INTO cut_ts SELECT g, timestamp '2024-01-01' + g * interval '1 second' "
            f"FROM generate_series(1, {n}) g"
        )
        config = source_config(pg_db, "cut_ts", mode="timestamp", **{"timestamp.column.name": "at"})
        config["poll.interval.ms"] = "100"
        ids: set[int] = set()
        terminated = 0
        async with aclosing(polls(config, JsonConverter())) as batches:
            async for batch in batches:
                assert type(batch) is EncodedRecords
                ids.update(int(v.rsplit(b'"id":', 1)[1].split(b",", 1)[0]) for v in batch.values)
                if not terminated:
                    terminated = await conn.fetchval(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'COPY%' "
                        "AND state = 'active' AND pid <> pg_backend_pid()"
                    )
                if len(ids) >= n:
                    break
    finally:
        await conn.close()
    assert terminated >= 1
    assert sorted(ids) == list(range(1, n + 1))
