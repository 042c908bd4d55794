"""The JDBC source's columnar path (PostgreSQL through ADBC, values encoded from columns) against its row path on a
real PostgreSQL: the same value bytes in the same order and the same source offsets, in every mode, over types,
NULLs, logical types and unicode; columns the columnar path cannot express keep the row path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

import pytest
from miniconnect_plugins.jdbc.source import JdbcSourceTask, querier

from miniconnect.connector import EncodedRecords, OffsetStorageReader, SourceTaskContext
from miniconnect.converters.json import JsonConverter
from miniconnect.data.value_column import ValueColumn

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def columns_for_small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tables are small: take the columnar path for them all the same, in batches of batch.max.rows so that
    the offsets of many batch ends are compared."""
    monkeypatch.setattr(querier, "COLUMNAR_MIN_ROWS", 0)
    monkeypatch.setattr(querier, "COLUMNAR_CHUNK", 1)


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


class NoOffsets(OffsetStorageReader):
    async def offsets(self, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        return {}


async def polls(config: dict[str, str], conv: JsonConverter | None, value_columns: bool = False) -> AsyncIterator[Any]:
    """A started task's non-empty polls for up to two minutes; columnar when `conv` gives it the envelope (values as
    a ValueColumn if `value_columns`, as for the Kafka transport)."""
    task = JdbcSourceTask()
    task.context = SourceTaskContext("src", 0, config, NoOffsets())
    if conv is not None:
        task.context.value_envelope = conv.json_struct_envelope
        task.context.value_columns = value_columns
    await task.start(config)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while loop.time() < deadline:
            batch = await task.poll()
            if batch:
                yield batch
    finally:
        task.context.stopping.set()
        await task.stop()


async def read_all(
    config: dict[str, str], columnar: bool, want: int, value_columns: bool = False
) -> tuple[list[bytes], list[tuple[int, Any]]]:
    """Every value the task sends (JsonConverter with schemas) and (records so far, source offset) after each poll."""
    conv = JsonConverter()
    values: list[bytes] = []
    marks: list[tuple[int, Any]] = []
    encoded = columns = 0
    async with aclosing(polls(config, conv if columnar else None, value_columns)) as batches:
        async for batch in batches:
            if type(batch) is EncodedRecords:
                encoded += 1
                if type(batch.values) is ValueColumn:
                    columns += 1
                    values += batch.values.to_list()
                else:
                    values += batch.values
                marks.append((len(values), batch.source_offset))
            else:
                values += conv.from_connect_batch(
                    batch[0].topic, [r.value_schema for r in batch], [r.value for r in batch]
                )
                marks += [(len(values) - len(batch) + i + 1, r.source_offset) for i, r in enumerate(batch)]
            if len(values) >= want:
                break
    assert (encoded > 0) == columnar
    # values as a column when asked, except in timestamp mode (each batch's last row waits for the next one)
    assert (columns > 0) == (columnar and value_columns and config["mode"] != "timestamp")
    return values, marks


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


async def same_records(config: dict[str, str], want: int) -> list[bytes]:
    rows, row_marks = await read_all(config, columnar=False, want=want)
    assert len(rows) == want
    by_count = dict(row_marks)
    for value_columns in (False, True):
        cols, col_marks = await read_all(config, columnar=True, want=want, value_columns=value_columns)
        assert cols == rows
        for count, offset in col_marks:  # each columnar batch ends on a record: the row path's offset there
            assert by_count[count] == offset, count
        assert col_marks[-1] == row_marks[-1]
    return cols


@pytest.mark.parametrize(
    "mode",
    [
        {"mode": "bulk"},
        {"mode": "incrementing", "incrementing.column.name": "id"},
        {"mode": "timestamp", "timestamp.column.name": "ts"},
        {"mode": "timestamp", "timestamp.column.name": "ts2,ts"},
        {"mode": "timestamp+incrementing", "timestamp.column.name": "ts", "incrementing.column.name": "id"},
    ],
    ids=["bulk", "incrementing", "timestamp", "timestamp-coalesce", "timestamp+incrementing"],
)
async def test_columnar_matches_rows(pg_db, mode: dict[str, str]) -> None:
    await create(pg_db, "types", TYPES, ROWS)
    values = await same_records(source_config(pg_db, "types", **mode), len(ROWS))
    assert b"\\u001F" in b"".join(values)  # control characters escaped as Jackson does
    assert "😀".encode() in b"".join(values)


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
