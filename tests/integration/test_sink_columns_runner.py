"""The sink runner's column path on the embedded log: a task that takes columns (SinkTask.put_columns) gets each batch
as ColumnBatches, parsed in a worker thread while the previous put runs; a batch it refuses, or one the reader cannot
read the same way as record by record, reaches put() as SinkRecords instead. Every record arrives once, each
partition's in order, with the same values either way, and positions are committed only after the put."""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.embedded_worker import embedded_worker, eventually

from miniconnect.connector import SinkConnector, SinkTask, TopicPartition
from miniconnect.data.records import SinkRecord
from miniconnect.runtime import sink_task
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.runtime.sink_task import sink_group_id
from miniconnect.runtime.states import TargetState, TaskId
from miniconnect.runtime.worker import Worker
from miniconnect.transport.base import ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog

SCHEMA = (
    '{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},'
    '{"type":"int32","optional":true,"field":"qty"}],"optional":false,"name":"row"}'
)
FLOAT_AT = 2001
PUTS: list[tuple[str, list[tuple[int, int, str, int | None]]]] = []  # (path, [(partition, offset, id, qty)])


class ColumnsRecordingTask(SinkTask):
    accepts_columns = True

    async def start(self, props: dict[str, str]) -> None:
        self.refuse = int(props.get("refuse.every", "0"))  # refuse every n-th column batch
        self.calls = 0

    async def put_columns(self, batches: list[Any]) -> bool:
        self.calls += 1
        if self.refuse and self.calls % self.refuse == 0:
            return False
        rows = []
        for b in batches:
            ids, qtys = b.values.column("id").to_pylist(), b.values.column("qty").to_pylist()
            rows += list(zip(b.partitions, b.offsets, ids, qtys))
        PUTS.append(("columns", rows))
        await asyncio.sleep(0.005)  # a database round trip
        return True

    async def put(self, records: list[SinkRecord]) -> None:
        if records:
            PUTS.append(
                (
                    "records",
                    [(r.kafka_partition, r.kafka_offset, r.value.get("id"), r.value.get("qty")) for r in records],
                )
            )


class ColumnsRecordingSink(SinkConnector):
    task_class = ColumnsRecordingTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


@pytest.fixture
async def setup(tmp_path: Path) -> Any:
    async with embedded_worker(tmp_path, ColumnsRecordingSink, partitions=2) as started:
        PUTS.clear()
        yield started


def envelope(i: int) -> bytes:
    # record 2001 carries its qty as a float, which JsonConverter truncates: no column form for its batch
    qty = f"{i % 50}.0" if i == FLOAT_AT else str(i % 50)
    return f'{{"schema":{SCHEMA},"payload":{{"id":"r{i}","qty":{qty}}}}}'.encode()


async def run(worker: Worker, log: EmbeddedLog, n: int, **extra: str) -> dict[int, list[tuple[int, str, int | None]]]:
    producer = log.producer({})
    await producer.start()
    await producer.send_batch([ProducerRecord("t", None, envelope(i), partition=i % 2) for i in range(n)])
    await producer.stop()
    config = {
        **extra,
        "connector.class": "ColumnsRecordingSink",
        "topics": "t",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    }
    await worker.start_connector("cols", config, TargetState.STARTED)
    tc = (await worker.task_configs("cols"))[0]
    await worker.start_task(TaskId("cols", 0), config, tc, TargetState.STARTED)
    await eventually(lambda: sum(len(rows) for _, rows in PUTS) >= n)
    group = sink_group_id("cols", {})
    for _ in range(500):
        committed = await log.committed_offsets(group)
        if committed.get(TopicPartition("t", 0)) == n // 2 and committed.get(TopicPartition("t", 1)) == n // 2:
            break
        await asyncio.sleep(0.02)
    assert committed == {TopicPartition("t", 0): n // 2, TopicPartition("t", 1): n // 2}
    by_partition: dict[int, list[tuple[int, str, int | None]]] = {0: [], 1: []}
    for _, rows in PUTS:
        for partition, offset, id_, qty in rows:
            by_partition[partition].append((offset, id_, qty))
    return by_partition


def expected(n: int, partition: int) -> list[tuple[int, str, int]]:
    return [(offset, f"r{i}", i % 50) for offset, i in enumerate(range(partition, n, 2))]


async def test_columns_then_records_where_columns_cannot_go(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch holding the float goes record by record; after such a batch the next ones are converted as records
    ahead of put(), and every COLUMNS_RETRY_EVERY-th of them tries columns again."""
    monkeypatch.setattr(sink_task, "COLUMNS_RETRY_EVERY", 2)
    monkeypatch.setattr(sink_task, "PUT_BATCH_POLLS", 8)  # put() batches of 4,000: the float's is not the first
    worker, log = setup
    n = 6000
    got = await run(worker, log, n)
    assert got[0] == expected(n, 0) and got[1] == expected(n, 1)  # once each, in order, the same values
    paths = [path for path, _ in PUTS]
    with_float = next(i for i, (_, rows) in enumerate(PUTS) if any(id_ == f"r{FLOAT_AT}" for _, _, id_, _ in rows))
    assert paths[0] == "columns" and paths[with_float] == "records"
    assert "columns" in paths[with_float + 1 :]  # back to columns


async def test_a_refused_batch_is_put_as_records(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sink_task, "PUT_BATCH_POLLS", 8)  # put() batches of 4,000: several in 4,000 records
    worker, log = setup
    n = 4000
    got = await run(worker, log, n, **{"refuse.every": "2"})
    assert got[0] == expected(n, 0) and got[1] == expected(n, 1)
    assert sum(1 for path, _ in PUTS if path == "records") >= 3


async def test_turned_off_by_the_environment(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINICONNECT_SINK_COLUMNS", "0")
    worker, log = setup
    n = 2000
    got = await run(worker, log, n)
    assert got[0] == expected(n, 0) and got[1] == expected(n, 1)
    assert {path for path, _ in PUTS} == {"records"}


async def test_the_next_batch_is_read_while_the_one_before_is_parsed(
    setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse of a batch read ahead runs in its thread while the runner goes on: the put() that waits for it
    reads the batch after it meanwhile. Here the parse of the second batch waits until the third one is planned
    (plan runs on the event loop when a batch has been read); a runner that waited for that parse before reading
    further would plan nothing more, and the parse would go on only after its deadline."""
    monkeypatch.setattr(sys.modules[__name__], "FLOAT_AT", -1)  # every batch has a column form
    plans = 0
    third_planned = threading.Event()
    waited: list[bool] = []
    stock_plan, stock_read = ColumnConverter.plan, ColumnConverter.read

    def plan(self: ColumnConverter, raw: list[Any]) -> Any:
        nonlocal plans
        plans += 1
        if plans == 3:
            third_planned.set()
        return stock_plan(self, raw)

    reads = itertools.count(1)

    def read(units: list[Any]) -> Any:
        if next(reads) == 2:  # the parse of the first batch read ahead
            waited.append(third_planned.wait(30))
        return stock_read(units)

    monkeypatch.setattr(ColumnConverter, "plan", plan)
    monkeypatch.setattr(ColumnConverter, "read", staticmethod(read))
    worker, log = setup
    n = 4 * 500 * sink_task.PUT_BATCH_POLLS  # four put() batches of max.poll.records (500) x PUT_BATCH_POLLS
    got = await run(worker, log, n)
    assert got[0] == expected(n, 0) and got[1] == expected(n, 1)
    assert waited == [True]
    assert {path for path, _ in PUTS} == {"columns"}
