"""KafkaProducer: batches of ProducerRecords sent through aiokafka, partitioned as Kafka's client does."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Mapping, Sized
from itertools import count, repeat
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka import errors as kerrors

from ...data.records import field_getter
from ...data.value_column import ValueColumn
from ...errors import ConnectError
from ..base import Producer, ProducerRecord, RecordMetadata
from ..base import new_record_metadata as _new_record_metadata
from ..embedded.partitioner import partition_for_key
from . import patches
from .batches import PrebuiltBatch, RecordSet, record_sets
from .config import PRODUCER_DEFAULTS, PRODUCER_SETTINGS, client_kwargs
from .outage import _retry

_NO_HEADERS_LIST: list = []  # the same for the C batch builder, which takes lists only (and never changes them)
BATCH_OVERHEAD = 61  # a v2 record batch's header
_TIMESTAMP, _KEY, _VALUE, _HEADERS = (field_getter(ProducerRecord, n) for n in ("timestamp", "key", "value", "headers"))


def consume_outcome(f: asyncio.Future) -> None:
    if not f.cancelled():
        f.exception()  # retrieved: no "exception was never retrieved" noise for the records after a failure


class PreparedValues:
    """Records of one topic framed ahead of sending (prepare_values): what send_prepared sends, as often as asked."""

    __slots__ = ("sets", "topic")

    def __init__(self, topic: str, sets: list[RecordSet]):
        self.topic, self.sets = topic, sets

    def __len__(self) -> int:
        return sum(s.count for s in self.sets)


class KafkaProducer(Producer):
    frames_values = True  # prepare_values/send_prepared: keyless records framed from a ValueColumn off the loop

    def __init__(self, bootstrap_servers: str, config: Mapping[str, Any] | None = None):
        self.bootstrap = bootstrap_servers
        kwargs = {**PRODUCER_DEFAULTS, **client_kwargs(config, PRODUCER_SETTINGS, "producer")}
        if kwargs.get("acks") != "all":
            kwargs["enable_idempotence"] = False  # idempotence requires acks=all
        self._kwargs = kwargs
        self._start_timeout = int((config or {}).get("max.block.ms", 60000)) / 1000
        self._producer: AIOKafkaProducer | None = None
        self._ready_topics: set[str] = set()
        self._round_robin = 0
        self._framer: concurrent.futures.ThreadPoolExecutor | None = None

    async def start(self) -> None:
        if self._producer is not None:
            return
        patches.install()

        async def attempt() -> AIOKafkaProducer:
            p = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self._kwargs)
            try:
                await p.start()
            except BaseException:
                await p.stop()
                raise
            return p

        self._producer = await _retry("producer", self.bootstrap, attempt, self._start_timeout)

    async def stop(self) -> None:
        p, self._producer = self._producer, None
        framer, self._framer = self._framer, None
        if framer is not None:
            framer.shutdown(wait=False)
        if p is not None:
            await p.stop()  # flushes pending batches

    async def prepare_values(self, topic: str, values: ValueColumn) -> PreparedValues:
        """Frames keyless, headerless records of these values into record batches on a thread of the producer's
        own (numpy and Arrow outside the GIL), so that the event loop meanwhile sends what it framed before."""
        if self._framer is None:
            self._framer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafka-framer")
        sets = await asyncio.get_running_loop().run_in_executor(
            self._framer,
            record_sets,
            values,
            self._kwargs["max_batch_size"],
            self._kwargs.get("compression_type"),
            int(time.time() * 1000),
        )
        return PreparedValues(topic, sets)

    async def send_prepared(self, prepared: PreparedValues) -> None:
        """Sends prepared records to one partition (the sticky choice of send_batch for keyless records), in
        order; returns once every batch is acknowledged."""
        p = self._producer
        if p is None:
            raise ConnectError("producer is not started")
        topic = prepared.topic
        if topic not in self._ready_topics:
            await p.client._wait_on_metadata(topic)
            self._ready_topics.add(topic)
        partition = self._sticky(p, topic)
        pending: list[tuple[asyncio.Future, RecordSet]] = []
        try:
            for records in prepared.sets:
                pending.append((await p.send_batch(PrebuiltBatch(records), topic, partition=partition), records))
            for future, records in pending:
                await self._acked(future, topic, range(records.count), records.size)
        except BaseException:
            for future, _ in pending:
                if not future.done():
                    future.add_done_callback(consume_outcome)
                else:
                    consume_outcome(future)
            raise

    async def send_batch(self, records: list[ProducerRecord]) -> list[RecordMetadata]:
        """Builds one record batch per partition (aiokafka's BatchBuilder) instead of one send() per record,
        which costs several Python calls and a future per record; offsets follow from each batch's base."""
        p = self._producer
        if p is None:
            raise ConnectError("producer is not started")
        pending: list[tuple[asyncio.Future, str, list[int] | range, int]] = []
        try:
            for (topic, part), indices in (await self._partitioned(p, records)).items():
                batch, start, n = p.create_batch(), 0, 0
                append = batch._builder.append  # the C builder itself: BatchBuilder.append adds a call per record
                if indices.__class__ is range and self._fits_whole(records):
                    # all records, in order, into this one batch: appended by map(), no Python code per record
                    if None in list(
                        map(
                            append,
                            count(),
                            map(_TIMESTAMP, records),
                            map(_KEY, records),
                            map(_VALUE, records),
                            repeat(_NO_HEADERS_LIST),
                        )
                    ):
                        raise ConnectError("Internal error: a record batch refused a record it should have held")
                    n = len(records)
                for i in () if n else indices:
                    r = records[i]
                    headers = r.headers
                    if headers.__class__ is not list:  # the C builder takes lists only
                        headers = list(headers) if headers else _NO_HEADERS_LIST
                    if append(n, r.timestamp, r.key, r.value, headers) is None:
                        batch._relative_offset = n
                        future = await p.send_batch(batch, topic, partition=part)
                        pending.append((future, topic, indices[start : start + n], batch.size()))
                        batch, start, n = p.create_batch(), start + n, 0
                        append = batch._builder.append
                        if append(0, r.timestamp, r.key, r.value, headers) is None:
                            raise ConnectError(
                                f"A record for topic {topic} is larger than the producer's "
                                f"batch.size / max.request.size"
                            )
                    n += 1
                batch._relative_offset = n
                future = await p.send_batch(batch, topic, partition=part)
                pending.append((future, topic, indices[start : start + n], batch.size()))
            if len(pending) == 1 and pending[0][2] == range(len(records)):  # one batch: offsets base, base+1, ...
                future, topic, members, size = pending[0]
                m = await self._acked(future, topic, members, size)
                return list(
                    map(
                        _new_record_metadata,
                        zip(repeat(topic), repeat(m.partition), range(m.offset, m.offset + len(records))),
                    )
                )
            out: list[RecordMetadata | None] = [None] * len(records)
            for future, topic, members, size in pending:
                m = await self._acked(future, topic, members, size)
                base, partition = m.offset, m.partition
                for j, i in enumerate(members):
                    out[i] = RecordMetadata(topic, partition, base + j)
        except BaseException:
            for future, _, _, _ in pending:
                if not future.done():
                    future.add_done_callback(consume_outcome)
                else:
                    consume_outcome(future)
            raise
        return out  # type: ignore[return-value]

    async def _acked(self, future: asyncio.Future, topic: str, members: Sized, size: int) -> Any:
        """The broker's answer for one batch (its base offset and partition)."""
        try:
            return await future
        except kerrors.MessageSizeTooLargeError as e:
            raise ConnectError(
                f"Kafka refused a batch of {len(members)} records ({size} bytes) for topic {topic} as too "
                f"large: the topic's max.message.bytes (or the broker's message.max.bytes) is smaller. "
                f"Set producer.batch.size (worker) or producer.override.batch.size (connector) below it; "
                f"it is now {self._kwargs['max_batch_size']}."
            ) from e

    def _fits_whole(self, records: list[ProducerRecord]) -> bool:
        """Whether these records, none with headers, surely fit one batch: values and keys plus the most a record's
        framing takes (length, attributes, timestamp and offset deltas, key and value lengths, header count)."""
        if any(map(_HEADERS, records)):
            return False
        try:
            size = sum(map(len, map(_VALUE, records))) + sum(map(len, filter(None, map(_KEY, records))))
        except TypeError:  # a null value (tombstone)
            return False
        return size + 32 * len(records) + BATCH_OVERHEAD <= self._kwargs["max_batch_size"]

    async def _partitioned(
        self, p: AIOKafkaProducer, records: list[ProducerRecord]
    ) -> dict[tuple[str, int], list[int] | range]:
        """Record indices per (topic, partition): explicit partition, else murmur2 of the key like Kafka's default
        partitioner, else one partition per call and topic (sticky, round robin across calls)."""
        if not records:
            return {}
        topic = records[0].topic
        for r in records:  # the common batch: one topic, no key, no explicit partition
            if r.key is not None or r.partition is not None or r.topic != topic:
                break
        else:
            if topic not in self._ready_topics:
                await p.client._wait_on_metadata(topic)
                self._ready_topics.add(topic)
            return {(topic, self._sticky(p, topic)): range(len(records))}
        for t in {r.topic for r in records if r.partition is None} - self._ready_topics:
            await p.client._wait_on_metadata(t)
            self._ready_topics.add(t)
        by_partition: dict[tuple[str, int], list[int]] = {}
        sticky: dict[str, int] = {}
        counts: dict[str, int] = {}
        for i, r in enumerate(records):
            part = r.partition
            if part is None:
                if r.key is not None:
                    count = counts.get(r.topic)
                    if count is None:
                        count = counts[r.topic] = len(p.client.cluster.partitions_for_topic(r.topic))
                    part = partition_for_key(r.key, count)
                else:
                    part = sticky.get(r.topic)
                    if part is None:
                        part = sticky[r.topic] = self._sticky(p, r.topic)
            by_partition.setdefault((r.topic, part), []).append(i)
        return by_partition  # type: ignore[return-value]

    def _sticky(self, p: AIOKafkaProducer, topic: str) -> int:
        parts = sorted(
            p.client.cluster.available_partitions_for_topic(topic) or p.client.cluster.partitions_for_topic(topic)
        )
        self._round_robin += 1
        return parts[self._round_robin % len(parts)]
