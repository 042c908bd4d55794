"""A test helper for plugin authors: runs a connector's tasks in a real Worker on the embedded log in a temp dir.

    async with ConnectorHarness(MySourceConnector, {"topic": "numbers"}) as h:
        records = await h.consume("numbers", 10)      # SinkRecords, decoded by the connector's converters

    async with ConnectorHarness(MySinkConnector, {"topics": "in", "file": path}) as h:
        await h.produce("in", ["a", "b"], schema=STRING_SCHEMA)
        await h.wait_for(lambda: len(read(path)) == 2)

The worker is the one `miniconnect standalone` runs (its task runners, converters, transforms, offset commits), so a
test sees what a deployment sees. A task that fails makes wait_for and consume raise at once with its trace.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .api import Connector, Schema, SinkRecord
from .config.worker_config import WorkerConfig
from .plugins import Plugins
from .runtime.converting import converter_for
from .runtime.states import State, TargetState, TaskId
from .runtime.worker import Worker
from .schema_registry.pending import converted, sleep
from .storage.offsets import FileOffsetStore
from .transport.base import ProducerRecord
from .transport.embedded import EmbeddedLog

__all__ = ["ConnectorHarness", "TaskFailed"]


class TaskFailed(AssertionError):
    """A task or the connector under test FAILED; the message carries its trace."""


class ConnectorHarness:
    """One connector named `name` with `config` (connector.class and tasks.max are filled in), its tasks running
    in a Worker on an embedded log in `directory` (a fresh temp dir, removed on stop, when None)."""

    def __init__(
        self,
        connector: type[Connector],
        config: Mapping[str, str],
        *,
        name: str = "under-test",
        worker_config: Mapping[str, str] | None = None,
        directory: str | Path | None = None,
    ):
        self.connector = connector
        self.name = name
        self.config = {"connector.class": connector.class_name, "tasks.max": "1"}
        self.config.update(config)
        self._worker_overrides = dict(worker_config or {})
        self._directory = Path(directory) if directory is not None else None
        self._own_directory = directory is None
        self.worker: Worker | None = None
        self.connector_state: tuple[State, str | None] | None = None
        self.task_states: dict[int, tuple[State, str | None]] = {}

    # -- lifecycle ----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="miniconnect-test-"))
        d = self._directory
        config = WorkerConfig(
            {
                "offset.storage.file.filename": str(d / "connect.offsets"),
                "embedded.log.dir": str(d / "log"),
                "offset.flush.interval.ms": "100",
                "task.shutdown.graceful.timeout.ms": "5000",
                **self._worker_overrides,
            }
        )
        plugins = Plugins(config)
        plugins.register(self.connector)
        log = EmbeddedLog(str(d / "log"))
        offsets = FileOffsetStore(str(d / "connect.offsets"))
        await log.start()
        await offsets.start()
        self.worker = Worker(config, plugins, log, offsets, self)
        await self.worker.start()
        await self.worker.start_connector(self.name, self.config, TargetState.STARTED, wait=None)
        self._raise_if_failed()
        for i, task_config in enumerate(await self.worker.task_configs(self.name)):
            await self.worker.start_task(TaskId(self.name, i), self.config, task_config, TargetState.STARTED)
        self._raise_if_failed()

    async def stop(self) -> None:
        """Stops the tasks (flushing offsets and committing positions, as a worker does) and the log."""
        worker, self.worker = self.worker, None
        if worker is not None:
            await worker.stop()
            await worker.transport.stop()
        if self._own_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    async def __aenter__(self) -> ConnectorHarness:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def directory(self) -> Path:
        assert self._directory is not None, "start() first"
        return self._directory

    # -- records in and out ---------------------------------------------------------------------------------------
    async def produce(
        self,
        topic: str,
        values: Sequence[Any],
        *,
        schema: Schema | None = None,
        keys: Sequence[Any] | None = None,
        key_schema: Schema | None = None,
        partition: int | None = None,
    ) -> None:
        """Writes values (and keys) into `topic`, serialized by the connector's converters, as a producer would."""
        worker = self._require()
        key_conv = converter_for(worker.plugins, worker.config, self.config, "key")
        value_conv = converter_for(worker.plugins, worker.config, self.config, "value")
        keys = keys if keys is not None else [None] * len(values)

        def serialize() -> list[ProducerRecord]:
            return [
                ProducerRecord(
                    topic,
                    key_conv.from_connect_data(topic, key_schema, k),
                    value_conv.from_connect_data(topic, schema, v),
                    partition,
                )
                for k, v in zip(keys, values, strict=True)
            ]

        records = await converted(serialize, f"records for topic {topic}", sleep)
        producer = worker.transport.producer()
        await producer.start()
        try:
            await producer.send_batch(records)
        finally:
            await producer.stop()

    async def consume(self, topic: str, count: int, timeout_s: float = 30.0) -> list[SinkRecord]:
        """The first `count` records of `topic` (every partition, in offset order per partition), deserialized by
        the connector's converters; waits for them up to `timeout_s` seconds."""
        worker = self._require()
        key_conv = converter_for(worker.plugins, worker.config, self.config, "key")
        value_conv = converter_for(worker.plugins, worker.config, self.config, "value")
        consumer = worker.transport.consumer(f"miniconnect-testing-{uuid.uuid4().hex}")
        await consumer.start()
        out: list[SinkRecord] = []
        try:
            await consumer.subscribe([topic])
            deadline = asyncio.get_running_loop().time() + timeout_s
            while len(out) < count:
                self._raise_if_failed()
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(
                        f"{len(out)} of {count} records in topic {topic} after {timeout_s:g}s; tasks: {self.task_states}"
                    )
                for r in await consumer.poll(max_records=count - len(out), timeout_ms=200):

                    def deserialize(r: Any = r) -> tuple[Any, ...]:
                        return (
                            *key_conv.to_connect_data(r.topic, r.key, list(r.headers)),
                            *value_conv.to_connect_data(r.topic, r.value, list(r.headers)),
                        )

                    ks, k, vs, v = await converted(deserialize, f"a record of topic {r.topic}", sleep)
                    out.append(SinkRecord(r.topic, r.partition, ks, k, vs, v, r.offset, r.timestamp, headers=r.headers))
        finally:
            await consumer.stop()
        return out[:count]

    async def wait_for(self, check: Callable[[], Any], timeout_s: float = 30.0, what: str = "condition") -> Any:
        """Polls `check` until it returns something true (returned); raises TaskFailed as soon as a task fails,
        AssertionError after `timeout_s` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            self._raise_if_failed()
            result = check()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what} not reached in {timeout_s:g}s; tasks: {self.task_states}")
            await asyncio.sleep(0.05)

    def offsets(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The source offsets flushed so far: (source partition, source offset) pairs."""
        return self._require().offsets.all(self.name)

    # -- the worker's status listener ------------------------------------------------------------------------------
    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        self.connector_state = (state, trace)

    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None:
        self.task_states[task.task] = (state, trace)

    def on_topic_used(self, connector: str, topic: str, task: int = 0) -> None:
        pass

    def on_reconfigure_request(self, connector: str) -> None:
        pass

    def _raise_if_failed(self) -> None:
        if self.connector_state is not None and self.connector_state[0] == State.FAILED:
            raise TaskFailed(f"connector {self.name} FAILED:\n{self.connector_state[1]}")
        for task, (state, trace) in sorted(self.task_states.items()):
            if state == State.FAILED:
                raise TaskFailed(f"task {self.name}-{task} FAILED:\n{trace}")

    def _require(self) -> Worker:
        if self.worker is None:
            raise RuntimeError("ConnectorHarness is not started (use `async with` or start())")
        return self.worker
