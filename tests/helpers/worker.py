"""A Worker on the real embedded log in a temp dir, with a counting source and a recording sink: the building blocks
of the worker tests (tests/unit/conftest.py's `worker` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from miniconnect.config.worker_config import WorkerConfig
from miniconnect.connector import SinkConnector, SinkTask, SourceConnector, SourceTask, TopicPartition
from miniconnect.data.records import SinkRecord, SourceRecord
from miniconnect.data.schema import INT64_SCHEMA, STRING_SCHEMA
from miniconnect.plugins import Plugins
from miniconnect.runtime.states import State, TargetState, TaskId
from miniconnect.runtime.worker import Worker
from miniconnect.storage.offsets import FileOffsetStore
from miniconnect.transport.base import ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog

SINK_SEEN: list[str] = []
FLUSHED: list[dict[TopicPartition, int]] = []
SINK_KEYS: set[tuple[Any, Any]] = set()


class CountingSourceTask(SourceTask):
    async def start(self, props: dict[str, str]) -> None:
        self.topic, self.limit = props["topic"], int(props["count"])
        self.keyless = props.get("keyless") == "true"
        self.headers = props.get("headers") == "true"  # from the 2nd batch on, even records have a header
        stored = await self.context.offset_storage_reader.offset({"source": self.topic})
        self.next = stored["n"] if stored else 0
        if props.get("fail") == "start":
            raise RuntimeError("boom in start")

    async def poll(self) -> list[SourceRecord] | None:
        if self.next >= self.limit:
            await self.context.wait(0.05)
            return None
        batch = []
        for n in range(self.next, min(self.next + 100, self.limit)):
            key_schema, key = (None, None) if self.keyless else (STRING_SCHEMA, str(n))
            headers = [("h", b"x")] if self.headers and n >= 100 and n % 2 == 0 else None
            batch.append(
                SourceRecord(
                    {"source": self.topic},
                    {"n": n + 1},
                    self.topic,
                    None,
                    key_schema,
                    key,
                    INT64_SCHEMA,
                    n,
                    headers=headers,
                )
            )
        self.next += len(batch)
        return batch


class CountingSource(SourceConnector):
    task_class = CountingSourceTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props)]


class RecordingSinkTask(SinkTask):
    async def start(self, props: dict[str, str]) -> None:
        self.buffer: list[str] = []
        self.fail_at = int(props.get("fail.at", "-1"))

    async def put(self, records: list[SinkRecord]) -> None:
        for r in records:
            if r.value == self.fail_at:
                raise RuntimeError(f"cannot write {r.coordinates}")
            self.buffer.append(f"{r.key}={r.value}")
            SINK_KEYS.add((r.key_schema, r.key))

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        SINK_SEEN.extend(self.buffer)
        self.buffer.clear()
        FLUSHED.append(dict(current_offsets))


class RecordingSink(SinkConnector):
    task_class = RecordingSinkTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props) for _ in range(max_tasks)]


class Listener:
    def __init__(self) -> None:
        self.connectors: dict[str, tuple[State, str | None]] = {}
        self.tasks: dict[TaskId, tuple[State, str | None]] = {}
        self.topics: set[tuple[str, str]] = set()
        self.topic_tasks: set[tuple[str, str, int]] = set()

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        self.connectors[connector] = (state, trace)

    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None:
        self.tasks[task] = (state, trace)

    def on_topic_used(self, connector: str, topic: str, task: int = 0) -> None:
        self.topics.add((connector, topic))
        self.topic_tasks.add((connector, topic, task))

    def on_reconfigure_request(self, connector: str) -> None:
        pass


async def eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def produce(w: Worker, records: list[ProducerRecord]) -> None:
    """Writes records into the worker's log, as another client would."""
    producer = w.transport.producer()
    await producer.start()
    await producer.send_batch(records)
    await producer.stop()


async def start_connector(w: Worker, name: str, config: dict[str, str]) -> list[TaskId]:
    await w.start_connector(name, config, TargetState.STARTED)
    ids = []
    for i, tc in enumerate(await w.task_configs(name)):
        tid = TaskId(name, i)
        await w.start_task(tid, config, tc, TargetState.STARTED)
        ids.append(tid)
    return ids


SOURCE = {
    "connector.class": "CountingSource",
    "topic": "numbers",
    "count": "1000",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
}
SINK = {
    "connector.class": "RecordingSink",
    "topics": "numbers",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
}


@contextlib.asynccontextmanager
async def started_worker(tmp_path: Path, **settings: str) -> AsyncIterator[Worker]:
    """A started Worker with CountingSource and RecordingSink registered, its log and offsets under tmp_path;
    `settings`: more worker properties."""
    config = WorkerConfig(
        {
            "offset.storage.file.filename": str(tmp_path / "offsets"),
            "embedded.log.dir": str(tmp_path / "log"),
            "offset.flush.interval.ms": "100",
            "task.shutdown.graceful.timeout.ms": "2000",
            **settings,
        }
    )
    plugins = Plugins(config)
    plugins.register(CountingSource)
    plugins.register(RecordingSink)
    log = EmbeddedLog(str(tmp_path / "log"))
    offsets = FileOffsetStore(str(tmp_path / "offsets"))
    await log.start()
    await offsets.start()
    w = Worker(config, plugins, log, offsets, Listener())
    await w.start()
    SINK_SEEN.clear()
    FLUSHED.clear()
    SINK_KEYS.clear()
    yield w
    await w.stop()
    await log.stop()
