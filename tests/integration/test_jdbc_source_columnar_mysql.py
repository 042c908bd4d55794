"""The JDBC source's columnar path on MariaDB (connectorx reads Arrow, values encoded from columns) against its row path
(aiomysql): the same value bytes in the same order and the same source offsets, in every mode, over MariaDB's types,
NULLs, unsigned integers, TINYINT(1), DECIMAL, DATETIME(6), charsets and unicode; results read in pages; columns it
cannot read as the row path does keep the row path, and so do values it cannot convert (zero dates)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest
from helpers.columnar_source import MODES, columns_for_small_tables, polls, read_all, same_records
from miniconnect_plugins.jdbc.source import mysql_arrow

from miniconnect.connector import EncodedRecords
from miniconnect.converters.json import JsonConverter

pytestmark = pytest.mark.mysql


@pytest.fixture(autouse=True)
def small_tables_as_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    columns_for_small_tables(monkeypatch)


TYPES = """
    id bigint PRIMARY KEY, ti tinyint, flag tinyint(1), tu tinyint unsigned, si smallint, su smallint unsigned,
    mi mediumint, i int, iu int unsigned, bi bigint, d double, n decimal(10,2), big decimal(30,5), n0 decimal(5,0),
    t text, v varchar(20), c char(3), lat varchar(20) CHARACTER SET latin1, e enum('a','b'), day date,
    ts datetime(6) NOT NULL, tz timestamp(3) NULL, ts2 datetime(3) NULL
"""
ROWS = [
    "1, 1, 1, 255, 1, 65535, 1, 10, 4294967295, 1, 1.5, 12.34, 1.5, 1, 'plain', 'v', 'abc', 'lätin', 'a', "
    "'2024-02-29', '2024-01-01 00:00:00', '2024-01-01 00:00:00', NULL",
    "2, -128, 0, 0, -32768, 0, -8388608, -2147483648, 0, -9223372036854775808, 1e7, -0.01, "
    "-1234567890123456789012345.12345, -99999, 'é ü 中文 😀', '\"quoted\" \\\\ back', 'x', 'ÿ', 'b', '1969-12-31', "
    "'1970-01-01 00:00:00.000001', '1999-06-01 12:00:00.5', NULL",
    "3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, '2024-01-01 00:00:00', NULL, NULL",
    "4, 127, 1, 7, 32767, 7, 8388607, 2147483647, 7, 9223372036854775807, 1e-5, 99999999.99, 0, 0, "
    "'ctl \x01 \x1f \\t \\n \\r \\b end', '\u2028 \x7f', '', 'é', 'a', '1000-01-01', '2024-01-01 00:00:00.001', "
    "'2001-09-09 01:46:40.999', '2024-01-01 00:00:00.5'",
    "5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, '', 'ab', NULL, '', NULL, '9999-12-31', '2024-01-02 00:00:00', "
    "NULL, NULL",
    "6, 7, 1, 7, 7, 7, 7, 7, 7, 7, -1e300, -128, NULL, NULL, 'seven', 'v', 'v', 'v', 'a', NULL, "
    "'2024-01-02 00:00:00', NULL, NULL",
    "7, 8, 1, 8, 8, 8, 8, 8, 8, 8, 123456789.125, -129, NULL, NULL, 'eight', 'v', 'v', 'v', 'b', NULL, "
    "'2024-01-03 00:00:00', NULL, NULL",
    "8, 9, 1, 9, 9, 9, 9, 9, 9, 9, 0.30000000000000004, 327.67, NULL, NULL, 'nine', 'v', 'v', 'v', 'b', NULL, "
    "'2024-01-03 00:00:00', NULL, NULL",
]


async def execute(db: Any, *statements: str) -> None:
    conn = await db.connect()
    try:
        async with conn.cursor() as cur:
            for s in statements:
                await cur.execute(s)
    finally:
        conn.close()


async def create(db: Any, table: str, columns: str, rows: list[str]) -> None:
    await execute(db, f"CREATE TABLE {table} ({columns})", *(f"INSERT INTO {table} VALUES ({r})" for r in rows))


def source_config(db: Any, table: str | None, **extra: str) -> dict[str, str]:
    config = {
        **db.connection_config(),
        "tables.fetched": "true",
        "topic.prefix": "col-",
        "poll.interval.ms": "600000",
        "batch.max.rows": "3",
        **extra,
    }
    if table is not None:
        config["tables"] = f"`{db.database}`.`{table}`"
    return config


TZ_MODE = {
    "mode": "timestamp+incrementing",
    "timestamp.column.name": "tz",
    "incrementing.column.name": "id",
    "validate.non.null": "false",
}


@pytest.mark.parametrize("mode", [*MODES.values(), TZ_MODE], ids=[*MODES.keys(), "timestamp-column"])
async def test_columnar_matches_rows(mysql_db, mode: dict[str, str]) -> None:
    await create(mysql_db, "types", TYPES, ROWS)
    want = 3 if mode.get("timestamp.column.name") == "tz" else len(ROWS)  # rows 1, 2, 4: a NULL tz is not read
    values = await same_records(source_config(mysql_db, "types", **mode), want)
    assert b"\\u001F" in b"".join(values)  # control characters escaped as Jackson does
    assert "😀".encode() in b"".join(values)


@pytest.mark.parametrize(
    "mode",
    [
        {"mode": "incrementing", "incrementing.column.name": "id"},
        {"mode": "timestamp+incrementing", "timestamp.column.name": "ts", "incrementing.column.name": "id"},
    ],
    ids=["incrementing", "timestamp+incrementing"],
)
async def test_query_mode(mysql_db, mode: dict[str, str]) -> None:
    """A query's columns as they are (a DECIMAL here would need the table's own columns: the row path reads it),
    in pages (a query's size is not known: bulk and timestamp mode read it as rows)."""
    await create(mysql_db, "types", TYPES, ROWS)
    query = "SELECT id, flag, iu, d, t, lat, day, ts, tz FROM types"
    config = source_config(mysql_db, None, query=query, **mode)
    config["topic.prefix"] = "col-query"
    await same_records(config, len(ROWS))


async def test_pages_and_batches(mysql_db, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over many Arrow batches and pages (LIMIT, each after the last row of the one before), and odd batch sizes."""
    monkeypatch.setattr(mysql_arrow.MySqlArrowReader, "page_rows", 7_001)
    monkeypatch.setattr(mysql_arrow, "BATCH_ROWS", 1_000)
    await execute(
        mysql_db,
        "CREATE TABLE many (id bigint PRIMARY KEY, name varchar(40), amount decimal(10,2), at datetime(3) NOT NULL)",
        "INSERT INTO many SELECT seq, CONCAT('name-', seq), (CAST(seq AS SIGNED) % 1000 - 500) / 7.0, "
        "TIMESTAMPADD(SECOND, seq DIV 3, '2024-01-01') FROM seq_1_to_50000",
    )
    await same_records(
        source_config(
            mysql_db, "many", mode="incrementing", **{"incrementing.column.name": "id", "batch.max.rows": "997"}
        ),
        50000,
    )
    await same_records(
        source_config(
            mysql_db,
            "many",
            mode="timestamp+incrementing",
            **{"timestamp.column.name": "at", "incrementing.column.name": "id", "batch.max.rows": "5000"},
        ),
        50000,
    )
    await same_records(
        source_config(mysql_db, "many", mode="timestamp", **{"timestamp.column.name": "at", "batch.max.rows": "5000"}),
        50000,
    )


async def first_poll(config: dict[str, str]) -> tuple[Any, list[bytes]]:
    conv = JsonConverter()
    async with aclosing(polls(config, conv)) as batches:
        batch = await anext(batches)
    if type(batch) is EncodedRecords:
        return batch, batch.values
    return batch, conv.from_connect_batch(batch[0].topic, [r.value_schema for r in batch], [r.value for r in batch])


@pytest.mark.parametrize(
    "column",
    ["tm time", "yr year", "bits bit(8)", "raw blob", "f float", "one bit(1)"],
)
async def test_inexpressible_columns_keep_the_row_path(mysql_db, column: str) -> None:
    await create(mysql_db, "odd", f"id bigint PRIMARY KEY, {column}", ["1, NULL", "2, NULL"])
    config = source_config(mysql_db, "odd", mode="incrementing", **{"incrementing.column.name": "id"})
    rows, _ = await read_all(config, columnar=False, want=2)
    batch, values = await first_poll(config)
    assert type(batch) is list
    assert values == rows[: len(values)]


async def test_unconvertible_values_go_back_to_the_row_path(mysql_db, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zero date (which the row path reads as NULL) stops connectorx mid-read: what was emitted stays, the task
    retries on the next poll, on the row path from the last emitted row: every row once, as the row path gives it."""
    monkeypatch.setattr(mysql_arrow, "BATCH_ROWS", 10)
    await execute(
        mysql_db,
        "SET SESSION sql_mode = ''",
        "CREATE TABLE zero (id bigint PRIMARY KEY, day date)",
        "INSERT INTO zero SELECT seq, '2024-01-01' FROM seq_1_to_100",
    )
    conn = await mysql_db.connect()
    try:
        async with conn.cursor() as cur:
            await cur.execute("SET SESSION sql_mode = ''")
            await cur.execute("UPDATE zero SET day = '0000-00-00' WHERE id = 55")
    finally:
        conn.close()
    config = source_config(mysql_db, "zero", mode="incrementing", **{"incrementing.column.name": "id"})
    rows, _ = await read_all(config, columnar=False, want=100)
    config["poll.interval.ms"] = "100"
    conv = JsonConverter()
    values: list[bytes] = []
    kinds: list[str] = []
    async with aclosing(polls(config, conv)) as batches:
        async for batch in batches:
            if type(batch) is EncodedRecords:
                kinds.append("columns")
                values += batch.values
            else:
                kinds.append("rows")
                values += conv.from_connect_batch(
                    batch[0].topic, [r.value_schema for r in batch], [r.value for r in batch]
                )
            if len(values) >= 100:
                break
    assert values == rows
    assert kinds[0] == "columns" and kinds[-1] == "rows"


async def test_columnar_read_cut_off_is_retried(mysql_db) -> None:
    """The connectorx connection is killed mid-stream (KILL): the task retries on the next poll from the last
    emitted row, so every row arrives once, in order."""
    n = 300_000
    await execute(
        mysql_db,
        "CREATE TABLE cut (id bigint PRIMARY KEY, name varchar(40) NOT NULL)",
        f"INSERT INTO cut SELECT seq, CONCAT('name-', seq) FROM seq_1_to_{n}",
    )
    config = source_config(mysql_db, "cut", mode="incrementing", **{"incrementing.column.name": "id"})
    config["poll.interval.ms"] = "100"
    ids: list[int] = []
    killed = 0
    conn = await mysql_db.connect()
    try:
        async with aclosing(polls(config, JsonConverter())) as batches:
            async for batch in batches:
                assert type(batch) is EncodedRecords
                ids += [int(v.rsplit(b'"id":', 1)[1].split(b",", 1)[0]) for v in batch.values]
                if not killed:
                    async with conn.cursor() as cur:
                        await cur.execute(
                            "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT % LIMIT %' "
                            "AND ID <> CONNECTION_ID()"
                        )
                        for (pid,) in await cur.fetchall():
                            await cur.execute(f"KILL {pid}")
                            killed += 1
                if len(ids) >= n:
                    break
    finally:
        conn.close()
    assert killed == 1
    assert ids == list(range(1, n + 1))


@pytest.mark.parametrize("mode", [MODES["bulk"], MODES["timestamp"]], ids=["bulk", "timestamp"])
async def test_large_unpaged_results_keep_the_row_path(
    mysql_db, mode: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """connectorx would hold a whole bulk or timestamp-mode result in memory: a table over the limit reads rows."""
    monkeypatch.setattr(mysql_arrow.MySqlArrowReader, "whole_rows", len(ROWS) - 1)
    await create(mysql_db, "types", TYPES, ROWS)
    config = source_config(mysql_db, "types", **mode)
    rows, _ = await read_all(config, columnar=False, want=len(ROWS))
    batch, values = await first_poll(config)
    assert type(batch) is list
    assert values == rows[: len(values)]
