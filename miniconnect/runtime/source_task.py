"""Runs one SourceTask: poll, convert, send to the log, and flush source offsets only for acknowledged records."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from functools import partial
from itertools import repeat
from typing import Any

from ..connector import EncodedRecords, OffsetStorageReader, SourceTask, SourceTaskContext, partition_key
from ..converters.base import Converter, reads_headers
from ..converters.simple_header import SimpleHeaderConverter
from ..data.records import Header, SourceRecord, field_getter
from ..data.value_column import ValueColumn
from ..errors import RetriableError
from ..metrics.groups import SourceTaskMetrics
from ..retry import Backoff, describe, retry
from ..schema_registry.pending import converted
from ..storage.base import OffsetBackingStore
from ..transforms.chain import TransformationChain
from ..transport.base import ProducerRecord, Transport, producer_records
from .error_handling import HEADER_CONVERTER, KEY_CONVERTER, TRANSFORMATION, VALUE_CONVERTER, ErrorHandler
from .runner import (  # noqa: F401 (GC_GEN0_THRESHOLD, relax_gc re-exported)
    GC_GEN0_THRESHOLD,
    TaskRunner,
    all_null,
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
SEND_BACKOFF = Backoff(initial=0.5, maximum=10.0)  # resending a batch (or offsets) after an outage
PROMPT_FLUSHES_PER_S = 10  # offset flushes right after acknowledgements, spaced at most this often
SLOW_ACK_S = 10.0  # a batch not acknowledged after this long shows in the task's status
_LATE = "Waiting for the log to acknowledge"


class _Partial(list):
    """Converted records of a batch in which some failed to convert (None in their place)."""


class StoreOffsetReader(OffsetStorageReader):
    def __init__(self, store: OffsetBackingStore, connector: str):
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
        offsets: OffsetBackingStore,
        producer_config: dict[str, Any],
        topic_creation: Any,
        chain: TransformationChain | None = None,
        header_converter: Converter | None = None,
    ):
        self.reader = StoreOffsetReader(offsets, task_id.connector)
        self.metrics = SourceTaskMetrics(task_id, worker_metrics_window(worker))
        super().__init__(task_id, task, task_config, worker)
        self.task: SourceTask = task
        self.connector_config = connector_config
        self.key_converter, self.value_converter = key_converter, value_converter
        self.header_converter = header_converter or SimpleHeaderConverter()
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
        self._flusher: asyncio.Task[None] | None = None
        self._flush_error: BaseException | None = None
        self._poll_failures = 0
        # SourceTask.commit_record is a no-op unless overridden: skip an await per record when it is not
        self._commits_records = type(task).commit_record is not SourceTask.commit_record
        self.chain = chain  # None without transforms: polled records then go to the converters as they are
        self.errors = ErrorHandler(task_id, connector_config, sink=False)
        self.errors.stopping = self.context.stopping
        # Records the task serializes itself skip transforms, conversion and commit_record: only when none applies
        if chain is None and not self._commits_records:
            self.context.value_envelope = value_converter.json_struct_envelope
            self.context.value_avro_header = value_converter.avro_struct_header
            # a transport that frames records from a column of values (Kafka) takes them as one (see _encoded)
            self.context.value_columns = getattr(self.producer, "frames_values", False)

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
                records = await self._poll()
                if records is not None:  # per batch, as AbstractWorkerSourceTask.recordPollReturned
                    count = len(records.values) if type(records) is EncodedRecords else len(records)
                    self.metrics.record_poll(count, (time.monotonic() - started) * 1000)
                    self.metrics.record_batch(count)
                if records:
                    polled = records
                    if type(records) is EncodedRecords:
                        batch = await self._encoded(records)
                    else:
                        if self.chain is not None:
                            records = await self._transform(records)
                        batch = await self._convert(records) if records else []
                    if in_flight is not None:
                        await in_flight  # keep one batch in flight: poll the next while this one is acked
                    in_flight = asyncio.create_task(self._send(records, batch, polled))
                elif in_flight is not None and in_flight.done():
                    await in_flight  # an idle source: its last batch's offsets are committed now
                    in_flight = None
                if self._flush_error is not None:
                    raise self._flush_error
            if in_flight is not None:
                await in_flight
        finally:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()

    async def _poll(self) -> list[SourceRecord] | None:
        """SourceTask.poll(); after a RetriableError polls again with back-off, as Kafka's AbstractWorkerSourceTask
        does (its status trace naming the error meanwhile)."""
        try:
            records = await self.task.poll()
        except RetriableError as e:
            self._poll_failures += 1
            delay = SEND_BACKOFF.delay(self._poll_failures - 1)
            what = f"Waiting for the source after a retriable error in poll() (retry in {delay:.1f} s): {describe(e)}"
            log.warning("Task %s: %s", self.id, what)
            self.waiting(what)
            await self.context.wait(delay)
            return None
        if self._poll_failures:
            self._poll_failures = 0
            self.waiting(None)
        return records

    async def _transform(self, records: list[SourceRecord]) -> list[SourceRecord]:
        """The chain after poll (Kafka's AbstractWorkerSourceTask): dropped or skipped records are not sent, their
        offsets still count as processed (see _send). A failure sends the batch record by record through the error
        handler (retried if retriable, then skipped or failing the task)."""
        assert self.chain is not None
        try:
            return [r for r in self.chain.apply_batch(records) if r is not None]
        except Exception:
            pass
        out = []
        for r in records:
            transformed = await self.chain.apply_each(r, partial(self._execute_transformation, r))
            if transformed is not None:
                out.append(transformed)
        return out

    def _execute_transformation(self, record: SourceRecord, operation: Any, transformation: Any) -> Any:
        return self.errors.execute(operation, TRANSFORMATION, transformation.class_name, None, record)

    async def _convert(self, records: list[SourceRecord]) -> list[ProducerRecord]:
        """The records serialized; the Schema Registry requests this needs are made off the event loop (see
        schema_registry.pending), waiting while the registry is down."""
        wait, waiting = self.context.wait, self.waiting
        try:
            where = f"the records of task {self.id} for topic '{records[0].topic}'"
            return await converted(partial(self._convert_batch, records), where, wait, waiting)
        except Exception:
            if not self.errors.handles_errors or self.context.stopping.is_set():
                raise
        # the error path, as AbstractWorkerSourceTask.convertTransformedRecord: record by record, each conversion
        # through the error handler; a skipped record leaves None in its place
        out = _Partial()
        hc, kc, vc = self.header_converter, self.key_converter, self.value_converter

        def execute(operation: Any, *args: Any) -> Any:
            return converted(
                partial(self.errors.execute, operation, *args), f"a record of task {self.id}", wait, waiting
            )

        for r in records:
            if r.topic not in self.known_topics:
                await self._new_topic(r.topic)
            ok, headers = True, r.headers
            if headers:
                convert_headers = partial(self._serialized_headers, r.topic, headers)
                ok, headers = await execute(convert_headers, HEADER_CONVERTER, hc.class_name, None, r)
            if ok:
                convert_key = partial(kc.from_connect_data, r.topic, r.key_schema, r.key, headers)
                ok, key = await execute(convert_key, KEY_CONVERTER, kc.class_name, None, r)
            if ok:
                convert_value = partial(vc.from_connect_data, r.topic, r.value_schema, r.value, headers)
                ok, value = await execute(convert_value, VALUE_CONVERTER, vc.class_name, None, r)
            out.append(ProducerRecord(r.topic, key, value, r.kafka_partition, r.timestamp, headers) if ok else None)
        return out

    async def _convert_batch(self, records: list[SourceRecord]) -> list[ProducerRecord]:
        topics = set(map(_TOPIC, records))
        for topic in topics - self.known_topics:
            await self._new_topic(topic)
        kc, vc = self.key_converter, self.value_converter
        has_headers = any(map(_HEADERS, records))
        headers: Any = map(_HEADERS, records)
        if has_headers:  # the header.converter first, as AbstractWorkerSourceTask.convertTransformedRecord
            headers = [self._serialized_headers(r.topic, h) if h else h for r, h in zip(records, headers, strict=True)]
        if len(topics) == 1:  # the usual case: one converter call per batch
            topic = records[0].topic
            given = headers if has_headers and self.headers_wanted else None
            keys = self._null_keys(topic, records) if given is None else None
            if keys is None:
                keys = kc.from_connect_batch(topic, list(map(_KEY_SCHEMA, records)), list(map(_KEY, records)), given)
            values = vc.from_connect_batch(topic, list(map(_VALUE_SCHEMA, records)), list(map(_VALUE, records)), given)
        else:
            headers = list(headers)
            pairs = zip(records, headers, strict=True)
            keys = [kc.from_connect_data(r.topic, r.key_schema, r.key, h) for r, h in pairs]
            pairs = zip(records, headers, strict=True)
            values = [vc.from_connect_data(r.topic, r.value_schema, r.value, h) for r, h in pairs]
        return producer_records(
            map(_TOPIC, records), keys, values, map(_PARTITION, records), map(_TIMESTAMP, records), headers
        )

    def _serialized_headers(self, topic: str, headers: Any) -> list[tuple[str, bytes | None]]:
        """A record's headers as bytes by the header.converter (AbstractWorkerSourceTask.convertHeaderFor); a plain
        (key, bytes) pair is already serialized."""
        hc, out = self.header_converter, []
        for h in headers:
            if type(h) is Header:
                out.append((h.key, hc.from_connect_header(topic, h.key, h.schema, h.value)))
            elif h[1] is None or isinstance(h[1], (bytes, bytearray)):
                out.append((h[0], h[1]))
            else:
                out.append((h[0], hc.from_connect_header(topic, h[0], None, h[1])))
        return out

    async def _encoded(self, records: EncodedRecords) -> list[ProducerRecord] | Any:
        """The records to send: framed by the producer (on its thread, while the batch before is on its way) when
        it takes a column of values, else one ProducerRecord each."""
        topic = records.topic
        if topic not in self.known_topics:
            await self._new_topic(topic)
        key = self.key_converter.from_connect_data(topic, None, None)
        values = records.values
        if type(values) is ValueColumn:
            if key is None and getattr(self.producer, "frames_values", False):
                return await self.producer.prepare_values(topic, values)  # type: ignore[attr-defined]
            values = values.to_list()
        return producer_records(repeat(topic), repeat(key), values, repeat(None), repeat(None), repeat(()))

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
        self,
        records: list[SourceRecord] | EncodedRecords,
        batch: list[ProducerRecord],
        polled: list[SourceRecord] | EncodedRecords | None = None,
    ) -> None:
        """Sends the batch; then the source offsets of every polled record (`polled`, when transforms or errors
        left out some of `records`) count as acknowledged."""
        if type(records) is EncodedRecords:
            await self._send_batch(batch)
            self.metrics.record_write(len(records.values), len(batch))
            self.acked[partition_key(records.source_partition)] = records.source_offset
            self._flush_soon()
            return
        if type(batch) is _Partial:  # records skipped after a conversion error
            records = [r for r, b in zip(records, batch) if b is not None]
            batch = [b for b in batch if b is not None]
        metadata = await self._send_batch(batch) if batch else []
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
        self._flush_soon()

    async def _send_batch(self, batch: list[ProducerRecord] | Any) -> list[Any] | None:
        """send_batch, the same batch sent again after an outage (a broker restarting, a full disk under the
        embedded log) until it is acknowledged: nothing is lost, a batch partly written before the failure may be
        duplicated (at least once)."""
        # a client that retries by itself (aiokafka while the broker is away) raises nothing: the status names the
        # wait once an acknowledgement is late
        late = asyncio.get_running_loop().call_later(SLOW_ACK_S, self._late_ack, len(batch))
        try:
            send = self.producer.send_batch if isinstance(batch, list) else self.producer.send_prepared  # type: ignore
            return await retry(
                lambda: send(batch),
                f"the log to take {len(batch)} records of task {self.id}",
                backoff=SEND_BACKOFF,
                sleep=self.context.wait,
                on_wait=self.waiting,
                logger=log,
            )
        finally:
            late.cancel()
            if self._waiting is not None and self._waiting.startswith(_LATE):
                log.info("Task %s: the log acknowledges records again", self.id)
                self.waiting(None)

    def _late_ack(self, count: int) -> None:
        what = f"{_LATE} {count} records, sent {SLOW_ACK_S:g} s ago (the log or Kafka unavailable?)"
        log.warning("Task %s: %s", self.id, what)
        self.waiting(what)

    def _flush_soon(self) -> None:
        """Commits the acknowledged offsets in the background, at once: a crash replays only the batches in
        flight. One flush at a time, at most PROMPT_FLUSHES_PER_S; those acknowledged meanwhile go with the next."""
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop(), name=f"offsets-{self.id}")

    async def _flush_loop(self) -> None:
        try:
            while self.acked:
                started = time.monotonic()
                await self.flush_offsets()
                if self.acked:  # acknowledged meanwhile: under load, one flush covers several batches
                    await self.context.wait(max(0.0, 1 / PROMPT_FLUSHES_PER_S - (time.monotonic() - started)))
        except Exception as e:
            self._flush_error = e

    async def flush_offsets(self) -> None:
        async with self._flush_lock:
            started = self.last_flush = time.monotonic()
            if not self.acked:
                self.metrics.record_commit(0.0, True)  # nothing new is a successful commit, as in WorkerSourceTask
                return
            pending, self.acked = self.acked, {}
            try:
                await retry(
                    lambda: self.offset_store.put(self.id.connector, pending),
                    f"the offset store to take the offsets of task {self.id}",
                    backoff=SEND_BACKOFF,
                    sleep=self.context.wait,
                    on_wait=self.waiting,
                    logger=log,
                )
            except BaseException:
                self.acked = {**pending, **self.acked}  # kept for the next flush: newer offsets win
                self.metrics.record_commit((time.monotonic() - started) * 1000, False)
                raise
            self.metrics.record_commit((time.monotonic() - started) * 1000, True)
        await self.task.commit()

    async def shutdown(self) -> None:
        try:
            if self._flusher is not None:
                await asyncio.wait([self._flusher])
            await self.flush_offsets()
        finally:
            await self.producer.stop()
            if self.chain is not None:
                self.chain.close()
