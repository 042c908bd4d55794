"""Runs one SourceTask: poll, convert, send to the log, and flush source offsets only for acknowledged records."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from ..connector import OffsetStorageReader, SourceTask, SourceTaskContext
from ..converters.base import Converter, reads_headers
from ..data.records import SourceRecord, field_getter
from ..metrics.groups import SourceTaskMetrics
from ..storage.offsets import FileOffsetStore, partition_key
from ..transforms.chain import TransformationChain
from ..transport.base import ProducerRecord, Transport, producer_records
from .error_handling import KEY_CONVERTER, TRANSFORMATION, VALUE_CONVERTER, ErrorHandler
from .runner import (  # noqa: F401 (GC_GEN0_THRESHOLD, relax_gc re-exported)
    GC_GEN0_THRESHOLD,
    TaskRunner,
    all_null,
    headers_column,
    relax_gc,
    worker_metrics_window,
)
from .states import TaskId

_TOPIC, _PARTITION, _TIMESTAMP, _HEADERS, _KEY, _KEY_SCHEMA, _VALUE, _VALUE_SCHEMA, _SOURCE_PARTITION = (
    field_getter(SourceRecord, n)
    for n in (
        "topic",
        "kafka_partition",
        "timestamp",
        "headers",
        "key",
        "key_schema",
        "value",
        "value_schema",
        "source_partition",
    )
)

log = logging.getLogger(__name__)


class _Partial(list):
    """Converted records of a batch in which some failed to convert (None in their place)."""


class StoreOffsetReader(OffsetStorageReader):
    def __init__(self, store: FileOffsetStore, connector: str):
        self.store, self.connector = store, connector

    async def offsets(self, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        await self.store.refresh()  # in distributed mode, another worker may have written them since
        return self.store.get(self.connector, partitions)


class SourceTaskRunner(TaskRunner):
    metrics: SourceTaskMetrics

    def __init__(
        self,
        task_id: TaskId,
        task: SourceTask,
        task_config: dict[str, str],
        connector_config: dict[str, str],
        worker: Any,
        key_converter: Converter,
        value_converter: Converter,
        transport: Transport,
        offsets: FileOffsetStore,
        producer_config: dict[str, Any],
        topic_creation: Any,
        chain: TransformationChain | None = None,
    ):
        self.reader = StoreOffsetReader(offsets, task_id.connector)
        self.metrics = SourceTaskMetrics(task_id, worker_metrics_window(worker))
        super().__init__(task_id, task, task_config, worker)
        self.task: SourceTask = task
        self.connector_config = connector_config
        self.key_converter, self.value_converter = key_converter, value_converter
        self.headers_wanted = reads_headers(key_converter) or reads_headers(value_converter)
        self.transport = transport
        self.offset_store = offsets
        self.producer = transport.producer(producer_config)
        self.topic_creation = topic_creation
        self.known_topics: set[str] = set()
        self.acked: dict[str, dict[str, Any] | None] = {}  # partition key -> offset of acknowledged records
        self.flush_interval = worker.config["offset.flush.interval.ms"] / 1000
        self.last_flush = time.monotonic()
        self._flush_lock = asyncio.Lock()
        # SourceTask.commit_record is a no-op unless overridden: skip an await per record when it is not
        self._commits_records = type(task).commit_record is not SourceTask.commit_record
        self.chain = chain  # None without transforms: polled records then go to the converters as they are
        self.errors = ErrorHandler(task_id, connector_config, sink=False)

    def make_context(self) -> SourceTaskContext:
        return SourceTaskContext(self.id.connector, self.id.task, self.task_config, self.reader)

    async def execute(self) -> None:
        await self.producer.start()
        in_flight: asyncio.Task[None] | None = None
        try:
            while not self.context.stopping.is_set():
                if not await self.wait_if_paused():
                    break
                started = time.monotonic()
                records = await self.task.poll()
                if records is not None:  # per batch, as AbstractWorkerSourceTask.recordPollReturned
                    self.metrics.record_poll(len(records), (time.monotonic() - started) * 1000)
                    self.metrics.record_batch(len(records))
                if records:
                    polled = records
                    if self.chain is not None:
                        records = self._transform(records)
                    batch = await self._convert(records) if records else []
                    if in_flight is not None:
                        await in_flight  # keep one batch in flight: poll the next while this one is acked
                    in_flight = asyncio.create_task(self._send(records, batch, polled))
                if time.monotonic() - self.last_flush >= self.flush_interval:
                    if in_flight is not None:
                        await in_flight
                        in_flight = None
                    await self.flush_offsets()
            if in_flight is not None:
                await in_flight
        finally:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()

    def _transform(self, records: list[SourceRecord]) -> list[SourceRecord]:
        """The chain after poll (Kafka's AbstractWorkerSourceTask): dropped or skipped records are not sent, their
        offsets still count as processed (see _send)."""

        def on_error(i: int, transformation: Any, error: BaseException) -> None:
            self.errors.failed(TRANSFORMATION, transformation.class_name, error, None, records[i])

        assert self.chain is not None
        return [r for r in self.chain.apply_batch(records, on_error) if r is not None]

    async def _convert(self, records: list[SourceRecord]) -> list[ProducerRecord]:
        try:
            return await self._convert_batch(records)
        except Exception:
            if not self.errors.tolerate_all:
                raise
        out = _Partial()  # the error path: record by record, failures reported and skipped (None in their place)
        for r in records:
            try:
                out += await self._convert_batch([r])
            except Exception as e:
                stage, conv = KEY_CONVERTER, self.key_converter
                try:
                    conv.from_connect_data(r.topic, r.key_schema, r.key, r.headers)
                except Exception:
                    pass
                else:
                    stage, conv = VALUE_CONVERTER, self.value_converter
                self.errors.failed(stage, conv.class_name, e, None, r)
                out.append(None)  # type: ignore[arg-type]
        return out

    async def _convert_batch(self, records: list[SourceRecord]) -> list[ProducerRecord]:
        topics = set(map(_TOPIC, records))
        for topic in topics - self.known_topics:
            await self._new_topic(topic)
        kc, vc = self.key_converter, self.value_converter
        if len(topics) == 1:  # the usual case: one converter call per batch
            topic = records[0].topic
            headers = headers_column(records, _HEADERS, self.headers_wanted)
            keys = self._null_keys(topic, records) if headers is None else None
            if keys is None:
                keys = kc.from_connect_batch(topic, list(map(_KEY_SCHEMA, records)), list(map(_KEY, records)), headers)
            values = vc.from_connect_batch(
                topic, list(map(_VALUE_SCHEMA, records)), list(map(_VALUE, records)), headers
            )
        else:
            keys = [kc.from_connect_data(r.topic, r.key_schema, r.key, r.headers) for r in records]
            values = [vc.from_connect_data(r.topic, r.value_schema, r.value, r.headers) for r in records]
        return producer_records(
            map(_TOPIC, records),
            keys,
            values,
            map(_PARTITION, records),
            map(_TIMESTAMP, records),
            map(_HEADERS, records),
        )

    def _null_keys(self, topic: str, records: list[SourceRecord]) -> list[bytes | None] | None:
        """Keyless batches (JDBC source, FileStream): the key converter's answer for a null key, once per batch
        instead of once per record; None when some record has a key or key schema."""
        if not (all_null(map(_KEY, records)) and all_null(map(_KEY_SCHEMA, records))):
            return None
        return [self.key_converter.from_connect_data(topic, None, None)] * len(records)

    async def _new_topic(self, topic: str) -> None:
        if self.topic_creation is not None:
            new = self.topic_creation.new_topic_for(topic)
            if new is not None:
                created = await self.transport.create_topics([new])
                if created:
                    log.info(
                        "Created topic %s with %d partitions for connector %s", topic, new.partitions, self.id.connector
                    )
        self.known_topics.add(topic)
        self.worker.topic_used(self.id.connector, topic, self.id.task)

    async def _send(
        self, records: list[SourceRecord], batch: list[ProducerRecord], polled: list[SourceRecord] | None = None
    ) -> None:
        """Sends the batch; then the source offsets of every polled record (`polled`, when transforms or errors
        left out some of `records`) count as acknowledged."""
        if type(batch) is _Partial:  # records skipped after a conversion error
            records = [r for r, b in zip(records, batch) if b is not None]
            batch = [b for b in batch if b is not None]
        metadata = await self.producer.send_batch(batch) if batch else []
        self.metrics.record_write(len(polled if polled is not None else records), len(batch))
        if self._commits_records:
            for r, m in zip(records, metadata):
                await self.task.commit_record(r, (m.topic, m.partition, m.offset))
        if polled is not None:
            records = polled
        acked = self.acked
        partitions = list(map(_SOURCE_PARTITION, records))
        first = partitions[0] if partitions else None
        if partitions.count(first) == len(partitions):  # the usual batch: one source partition (a table, a file)
            if first is not None:
                acked[partition_key(first)] = records[-1].source_offset
        else:
            last_partition: Any = None
            key = ""
            for sp, r in zip(partitions, records):
                if sp is not None:
                    if sp is not last_partition:  # connectors usually share one partition map per table
                        last_partition, key = sp, partition_key(sp)
                    acked[key] = r.source_offset

    async def flush_offsets(self) -> None:
        async with self._flush_lock:
            started = self.last_flush = time.monotonic()
            if not self.acked:
                self.metrics.record_commit(0.0, True)  # nothing new is a successful commit, as in WorkerSourceTask
                return
            pending, self.acked = self.acked, {}
            try:
                await self.offset_store.put(self.id.connector, pending)
            except BaseException:
                self.metrics.record_commit((time.monotonic() - started) * 1000, False)
                raise
            self.metrics.record_commit((time.monotonic() - started) * 1000, True)
        await self.task.commit()

    async def shutdown(self) -> None:
        try:
            await self.flush_offsets()
        finally:
            await self.producer.stop()
            if self.chain is not None:
                self.chain.close()
