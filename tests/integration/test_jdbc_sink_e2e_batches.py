"""How the worker sizes put() batches for sinks such as JDBC (one transaction per put): while records are already
waiting, a full poll is followed by more non-waiting polls, up to PUT_BATCH_POLLS × max.poll.records; a trickle is
delivered as it comes. Every record is delivered once, in order, and positions are committed after put()."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpers.embedded_worker import embedded_worker, eventually

from miniconnect.connector import SinkConnector, SinkTask, TopicPartition
from miniconnect.data.records import SinkRecord
from miniconnect.runtime.sink_task import PUT_BATCH_POLLS, sink_group_id
from miniconnect.runtime.states import TargetState, TaskId
from miniconnect.runtime.worker import Worker
from miniconnect.transport.base import ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog

PUTS: list[list[int]] = []


class BatchRecordingTask(SinkTask):
    async def start(self, props: dict[str, str]) -> None:
        self.rewind_at = int(props.get("rewind.at", "-1"))  # at this offset: rewind to 0 (once)

    async def put(self, records: list[SinkRecord]) -> None:
        if records:
            PUTS.append([r.kafka_offset for r in records])
            if self.rewind_at in PUTS[-1]:
                self.rewind_at = -1
                self.context.offset({TopicPartition("t", 0): 0})
            await asyncio.sleep(0.01)  # a database round trip

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        pass


class BatchRecordingSink(SinkConnector):
    task_class = BatchRecordingTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


@pytest.fixture
async def setup(tmp_path: Path) -> Any:
    async with embedded_worker(tmp_path, BatchRecordingSink) as started:
        PUTS.clear()
        yield started


async def produce(log: EmbeddedLog, n: int, start: int = 0) -> None:
    producer = log.producer({})
    await producer.start()
    await producer.send_batch(
        [ProducerRecord("t", None, str(i).encode(), partition=0) for i in range(start, start + n)]
    )
    await producer.stop()


async def run_sink(worker: Worker, **extra: str) -> None:
    config = {
        **extra,
        "connector.class": "BatchRecordingSink",
        "topics": "t",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    await worker.start_connector("batches", config, TargetState.STARTED)
    tc = (await worker.task_configs("batches"))[0]
    await worker.start_task(TaskId("batches", 0), config, tc, TargetState.STARTED)


async def test_waiting_records_reach_put_in_bigger_batches(setup: Any) -> None:
    worker, log = setup
    await produce(log, 5000)
    await run_sink(worker)
    await eventually(lambda: sum(map(len, PUTS)) >= 5000)
    sizes = [len(p) for p in PUTS]
    assert [o for p in PUTS for o in p] == list(range(5000))  # once each, in order
    assert 100 < max(sizes) <= 100 * PUT_BATCH_POLLS  # bigger than one poll (max.poll.records=100), and bounded
    assert len(PUTS) <= 5000 // (100 * PUT_BATCH_POLLS) + 1
    # positions follow put(): the whole topic is committed
    tp = TopicPartition("t", 0)
    for _ in range(500):
        if (await log.committed_offsets(sink_group_id("batches", {}))).get(tp) == 5000:
            break
        await asyncio.sleep(0.02)
    assert (await log.committed_offsets(sink_group_id("batches", {}))).get(tp) == 5000


async def test_a_trickle_is_delivered_as_it_comes(setup: Any) -> None:
    worker, log = setup
    await run_sink(worker)
    for i in range(5):
        await produce(log, 30, i * 30)
        await eventually(lambda: sum(map(len, PUTS)) >= (i + 1) * 30)
    assert [o for p in PUTS for o in p] == list(range(150))
    assert all(len(p) <= 30 for p in PUTS)  # nothing waited for more records


async def test_a_rewind_in_put_restarts_from_the_rewound_offset(setup: Any) -> None:
    """put() rewinds to 0 in the middle of the stream, with batches of several polls: the next put() starts at 0
    again and nothing is skipped (and no records polled before the rewind are delivered after it)."""
    worker, log = setup
    await produce(log, 3000)
    await run_sink(worker, **{"rewind.at": "1000"})
    await eventually(lambda: PUTS and PUTS[-1][-1] == 2999 and sum(map(len, PUTS)) > 3000)
    offsets = [o for p in PUTS for o in p]
    restart = offsets.index(0, 1)
    assert 1000 in offsets[:restart] and offsets[restart - 1] < 1000 + 100 * PUT_BATCH_POLLS
    assert offsets[:restart] == list(range(restart))  # in order up to the rewind
    assert offsets[restart:] == list(range(3000))  # then everything again from 0
