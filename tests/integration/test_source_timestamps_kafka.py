"""Source record timestamps on a real Kafka broker, as WorkerSourceTask sends them
(AbstractWorkerSourceTask.convertTransformedRecord: ProducerRecord(..., record.timestamp(), ...), the producer stamps a
null one at send): a SourceRecord's own timestamp reaches the broker as the record's CreateTime, one without gets the
time it was sent; EncodedRecords (no timestamp by definition), framed into record batches from a column of values,
get the time they were sent."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from helpers.kafka_topics import read_records
from helpers.worker import Listener, eventually, start_connector

from miniconnect.config.worker_config import WorkerConfig
from miniconnect.connector import EncodedRecords, SourceConnector, SourceTask
from miniconnect.data.records import SourceRecord
from miniconnect.data.schema import STRING_SCHEMA
from miniconnect.data.value_column import ValueColumn
from miniconnect.plugins import Plugins
from miniconnect.runtime.states import State
from miniconnect.runtime.worker import Worker
from miniconnect.storage.offsets import FileOffsetStore
from miniconnect.transport.kafka import KafkaTransport

OWN = 1_600_000_000_000  # the even records' own timestamps: OWN + i
COUNT = 10
FRAMED: list[bool] = []  # whether the encoded task was offered a ValueColumn (the framed path)


class StampedTask(SourceTask):
    async def start(self, props: dict[str, str]) -> None:
        self.topic, self.encoded, self.done = props["topic"], props.get("encoded") == "true", False

    async def poll(self) -> Any:
        if self.done:
            await self.context.wait(0.05)
            return None
        self.done = True
        values = [b"v%d" % i for i in range(COUNT)]
        if self.encoded:
            FRAMED.append(self.context.value_columns)
            column = ValueColumn.from_list(values) if self.context.value_columns else values
            return EncodedRecords(self.topic, {"s": self.topic}, {"n": COUNT}, column)
        return [
            SourceRecord(
                {"s": self.topic},
                {"n": i + 1},
                self.topic,
                value_schema=STRING_SCHEMA,
                value=v.decode(),
                timestamp=OWN + i if i % 2 == 0 else None,
            )
            for i, v in enumerate(values)
        ]


class StampedSource(SourceConnector):
    task_class = StampedTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


async def test_source_record_timestamps_reach_the_broker(tmp_path: Path, kafka_bootstrap: str) -> None:
    uid = uuid.uuid4().hex[:8]
    config = WorkerConfig(
        {
            "bootstrap.servers": kafka_bootstrap,
            "offset.storage.file.filename": str(tmp_path / "offsets"),
            "offset.flush.interval.ms": "100",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        }
    )
    plugins = Plugins(config)
    plugins.register(StampedSource)
    transport, offsets, listener = (
        KafkaTransport(kafka_bootstrap),
        FileOffsetStore(str(tmp_path / "offsets")),
        Listener(),
    )
    await transport.start()
    await offsets.start()
    worker = Worker(config, plugins, transport, offsets, listener)
    await worker.start()
    FRAMED.clear()
    before = int(time.time() * 1000)
    try:
        for name, encoded in ((f"records-{uid}", "false"), (f"encoded-{uid}", "true")):
            for tid in await start_connector(
                worker, name, {"connector.class": "StampedSource", "topic": name, "encoded": encoded}
            ):
                await eventually(lambda tid=tid: listener.tasks.get(tid, (None,))[0] == State.RUNNING, 30)
        records = await asyncio.to_thread(read_records, kafka_bootstrap, f"records-{uid}", COUNT, 60)
        encoded = await asyncio.to_thread(read_records, kafka_bootstrap, f"encoded-{uid}", COUNT, 60)
    finally:
        await worker.stop()
        await offsets.stop()
        await transport.stop()
    after = int(time.time() * 1000)
    assert [r.value for r in records] == [b"v%d" % i for i in range(COUNT)]
    assert {r.timestamp_type for r in records + encoded} == {"CreateTime"}
    assert [r.timestamp for r in records[::2]] == [OWN + i for i in range(0, COUNT, 2)]
    assert all(before <= r.timestamp <= after for r in records[1::2])
    assert FRAMED == [True]
    assert [r.value for r in encoded] == [b"v%d" % i for i in range(COUNT)]
    assert all(before <= r.timestamp <= after for r in encoded)
