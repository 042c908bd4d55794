"""Shared by the columnar JDBC source tests: run a JdbcSourceTask on its row path and on its columnar path (the
worker's value envelope given) and compare the value bytes and the source offsets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from typing import Any

import pytest
from miniconnect_plugins.jdbc.source import JdbcSourceTask, querier

from miniconnect.connector import EncodedRecords, OffsetStorageReader, SourceTaskContext
from miniconnect.converters.base import Converter
from miniconnect.converters.json import JsonConverter
from miniconnect.data.value_column import ValueColumn
from miniconnect.schema_registry.pending import converted, sleep

# every source mode over a table with columns id and ts (not null), ts2 (nullable)
MODES = {
    "bulk": {"mode": "bulk"},
    "incrementing": {"mode": "incrementing", "incrementing.column.name": "id"},
    "timestamp": {"mode": "timestamp", "timestamp.column.name": "ts"},
    "timestamp-coalesce": {"mode": "timestamp", "timestamp.column.name": "ts2,ts"},
    "timestamp+incrementing": {
        "mode": "timestamp+incrementing",
        "timestamp.column.name": "ts",
        "incrementing.column.name": "id",
    },
}


def columns_for_small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test tables are small: take the columnar path for them all the same, in batches of batch.max.rows so that
    the offsets of many batch ends are compared."""
    monkeypatch.setattr(querier, "COLUMNAR_MIN_ROWS", 0)
    monkeypatch.setattr(querier, "COLUMNAR_CHUNK", 1)


class NoOffsets(OffsetStorageReader):
    async def offsets(self, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        return {}


async def polls(config: dict[str, str], conv: Converter | None, value_columns: bool = False) -> AsyncIterator[Any]:
    """A started task's non-empty polls for up to two minutes; columnar when `conv` takes values written elsewhere
    (as the worker offers them: a JSON envelope, an Avro header), values as a ValueColumn if `value_columns` (as for
    the Kafka transport)."""
    task = JdbcSourceTask()
    task.context = SourceTaskContext("src", 0, config, NoOffsets())
    if conv is not None:
        task.context.value_envelope = conv.json_struct_envelope
        task.context.value_avro_header = conv.avro_struct_header
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
    config: dict[str, str], columnar: bool, want: int, conv: Converter | None = None, value_columns: bool = False
) -> tuple[list[bytes], list[tuple[int, Any]]]:
    """Every value the task sends (JsonConverter with schemas unless `conv`) and (records so far, source offset)
    after each poll."""
    conv = conv or JsonConverter()
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
                values += await converted(  # as the source runner converts: registry requests off the loop
                    lambda b=batch: conv.from_connect_batch(
                        b[0].topic, [r.value_schema for r in b], [r.value for r in b]
                    ),
                    "the test's records",
                    sleep,
                )
                marks += [(len(values) - len(batch) + i + 1, r.source_offset) for i, r in enumerate(batch)]
            if len(values) >= want:
                break
    assert (encoded > 0) == columnar
    # values as a column when asked, except in timestamp mode (each batch's last row waits for the next one)
    assert (columns > 0) == (columnar and value_columns and config["mode"] != "timestamp")
    return values, marks


async def same_records(config: dict[str, str], want: int, conv: Callable[[], Converter] | None = None) -> list[bytes]:
    """The columnar path's values equal the row path's (JsonConverter unless `conv` makes another converter), and its
    offsets the row path's at the same record."""
    rows, row_marks = await read_all(config, columnar=False, want=want, conv=conv() if conv else None)
    assert len(rows) == want
    by_count = dict(row_marks)
    for value_columns in (False, True):
        cols, col_marks = await read_all(
            config, columnar=True, want=want, conv=conv() if conv else None, value_columns=value_columns
        )
        assert cols == rows
        for count, offset in col_marks:  # each columnar batch ends on a record: the row path's offset there
            assert by_count[count] == offset, count
        assert col_marks[-1] == row_marks[-1]
    return cols
