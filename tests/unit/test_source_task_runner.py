"""The source runner's batch shortcuts keep the contract: commit_record still sees every acknowledged record with its
log position when a task overrides it, keyless records stay keyless, and the GC tuning respects a user's own."""

from __future__ import annotations

import gc
from typing import Any

from helpers.worker import SOURCE, CountingSource, CountingSourceTask, eventually, start_connector

from miniconnect.connector import TopicPartition
from miniconnect.data.records import SourceRecord
from miniconnect.data.schema import INT64_SCHEMA
from miniconnect.runtime import source_task
from miniconnect.runtime.worker import Worker

COMMITTED: list[tuple[Any, tuple[str, int, int] | None]] = []


class KeylessCommittingTask(CountingSourceTask):
    async def poll(self) -> list[SourceRecord] | None:
        batch = await super().poll()
        return (
            [
                SourceRecord(r.source_partition, r.source_offset, r.topic, None, None, None, INT64_SCHEMA, r.value)
                for r in batch
            ]
            if batch
            else batch
        )

    async def commit_record(self, record: SourceRecord, metadata: tuple[str, int, int] | None) -> None:
        COMMITTED.append((record.value, metadata))


class KeylessCommittingSource(CountingSource):
    task_class = KeylessCommittingTask


async def test_commit_record_sees_each_record_and_keys_stay_null(worker: Worker) -> None:
    COMMITTED.clear()
    worker.plugins.register(KeylessCommittingSource)
    await start_connector(
        worker, "keyless", {**SOURCE, "connector.class": "KeylessCommittingSource", "topic": "keyless", "count": "250"}
    )
    await eventually(lambda: len(COMMITTED) == 250)
    assert COMMITTED == [(n, ("keyless", 0, n)) for n in range(250)]
    consumer = worker.transport.consumer("check-keyless", {})
    await consumer.start()
    try:
        await consumer.subscribe(["keyless"])
        got = []
        while len(got) < 250:
            got += await consumer.poll(1000, 1000)
    finally:
        await consumer.stop()
    assert {r.key for r in got} == {None}  # StringConverter: a null key stays null, for every record
    assert [r.value for r in got[:2]] == [
        b'{"schema":{"type":"int64","optional":false},"payload":0}',
        b'{"schema":{"type":"int64","optional":false},"payload":1}',
    ]
    assert await worker.transport.end_offsets([TopicPartition("keyless", 0)]) == {TopicPartition("keyless", 0): 250}


def test_relax_gc_raises_only_the_default_threshold() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        source_task.relax_gc()
        assert gc.get_threshold() == (source_task.GC_GEN0_THRESHOLD, 10, 10)
        gc.set_threshold(1234, 10, 10)  # someone tuned it: left alone
        source_task.relax_gc()
        assert gc.get_threshold() == (1234, 10, 10)
    finally:
        gc.set_threshold(*before)
