"""KafkaBasedLog: a compacted topic read from the beginning and followed, plus a producer to append to it.

Kafka Connect's distributed stores (configs, offsets, statuses) keep their state this way
(org.apache.kafka.connect.util.KafkaBasedLog): a group-less consumer assigned every partition replays the topic into
the store through a callback, then keeps following it; `read_to_end()` waits until the consumer has passed the end
offsets the broker reported when it was called, which is how a writer knows it has seen its own writes and
everybody else's before them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTP
from aiokafka import errors as kerrors

from ..errors import ConnectError
from ..transport.base import ProducerRecord, RecordMetadata
from ..transport.kafka.config import CONSUMER_SETTINGS, client_kwargs
from ..transport.kafka.outage import _retry
from ..transport.kafka.producer import KafkaProducer

log = logging.getLogger(__name__)

# One record of the log as the store sees it: key, value (None for a tombstone), partition, offset.
Consumed = Callable[[bytes | None, bytes | None, int, int], None]


class KafkaBasedLog:
    """start() runs `initializer` (creates or checks the topic), replays the topic through `consumed`, then follows it
    in a background task until stop(). `consumed` runs on the event loop, in offset order per partition."""

    def __init__(
        self,
        *,
        topic: str,
        bootstrap_servers: str,
        client_config: Mapping[str, Any] | None,
        consumed: Consumed,
        initializer: Callable[[], Awaitable[None]] | None = None,
        producer_config: Mapping[str, Any] | None = None,
        client_id: str | None = None,
        start_timeout_s: float = 60.0,
    ):
        self.topic = topic
        self.bootstrap = bootstrap_servers
        base = {k: v for k, v in (client_config or {}).items() if v is not None}
        if client_id:
            base["client.id"] = client_id
        self._consumer_kwargs = client_kwargs(base, CONSUMER_SETTINGS, "consumer")
        self._consumer_kwargs.pop("group_instance_id", None)
        self._producer_config = {**base, **(producer_config or {})}
        self._consumed = consumed
        self._initializer = initializer
        self._start_timeout_s = start_timeout_s
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        self._partitions: list[AioTP] = []
        self._positions: dict[AioTP, int] = {}
        self._progress = asyncio.Condition()
        self._task: asyncio.Task | None = None
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Creates/checks the topic, reads it to its end (the callback sees every record), then follows it."""
        if self._task is not None:
            return
        if self._initializer is not None:
            await self._initializer()
        self._producer = KafkaProducer(self.bootstrap, self._producer_config)
        try:
            await self._producer.start()
            self._consumer = await _retry(
                f"reader of {self.topic}", self.bootstrap, self._start_consumer, self._start_timeout_s
            )
            self._partitions = await self._wait_for_partitions()
            self._consumer.assign(self._partitions)
            await self._consumer.seek_to_beginning(*self._partitions)
            for tp in self._partitions:
                self._positions[tp] = await self._consumer.position(tp)
            self._task = asyncio.get_running_loop().create_task(self._follow(), name=f"kafka-log-{self.topic}")
            await self.read_to_end(self._start_timeout_s)
        except BaseException:
            await self.stop()
            raise
        log.info("Finished reading KafkaBasedLog for topic %s", self.topic)

    async def _start_consumer(self) -> AIOKafkaConsumer:
        c = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self._consumer_kwargs,
        )
        try:
            await c.start()
        except BaseException:
            await c.stop()
            raise
        return c

    async def _wait_for_partitions(self) -> list[AioTP]:
        """KafkaBasedLog.start waits (bounded) until the topic's partitions are known: a topic just created may take
        a moment to appear in the metadata."""
        assert self._consumer is not None
        deadline = asyncio.get_running_loop().time() + self._start_timeout_s
        while True:
            parts = self._consumer.partitions_for_topic(self.topic)
            if parts:
                return [AioTP(self.topic, p) for p in sorted(parts)]
            if asyncio.get_running_loop().time() > deadline:
                raise ConnectError(
                    "Could not look up partition metadata for offset backing store topic in allotted "
                    "period. This could indicate a connectivity issue, unavailable topic partitions, or "
                    "if this is your first use of the topic it may have taken too long to create."
                )
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """Stops following; pending sends are flushed first. Safe twice and after a failed start."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        producer, self._producer = self._producer, None
        consumer, self._consumer = self._consumer, None
        try:
            if producer is not None:
                await producer.stop()
        finally:
            if consumer is not None:
                await consumer.stop()

    def partition_count(self) -> int:
        return len(self._partitions)

    # -- reading --------------------------------------------------------------------------------------
    async def _follow(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        while True:
            try:
                fetched = await consumer.getmany(*self._partitions, timeout_ms=1000, max_records=5000)
            except asyncio.CancelledError:
                raise
            except kerrors.KafkaError as e:  # KafkaBasedLog.poll logs and keeps going
                log.error("Error polling %s: %r", self.topic, e)
                await asyncio.sleep(0.5)
                continue
            for records in fetched.values():
                for r in records:  # RecordBatch (see transport/kafka/fetch.py) or aiokafka's list of records
                    try:
                        self._consumed(r.key, r.value, r.partition, r.offset)
                    except Exception:
                        log.exception("Unexpected error in consumer callback for %s", self.topic)
            positions = {tp: await consumer.position(tp) for tp in self._partitions}
            async with self._progress:
                self._positions = positions
                self._progress.notify_all()

    async def read_to_end(self, timeout_s: float | None = None) -> None:
        """Returns once every record written before this call has been passed to the callback; TimeoutError after
        timeout_s (None: no limit)."""
        if self._consumer is None or self._task is None:
            raise ConnectError(f"KafkaBasedLog for {self.topic} is not running")
        ends = await asyncio.wait_for(self._consumer.end_offsets(self._partitions), timeout_s)
        task = self._task

        def caught_up() -> bool:
            return task.done() or all(self._positions.get(tp, -1) >= end for tp, end in ends.items())

        async def wait() -> None:
            async with self._progress:
                await self._progress.wait_for(caught_up)

        await asyncio.wait_for(wait(), timeout_s)
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise ConnectError(f"KafkaBasedLog for {self.topic} stopped following: {task.exception()!r}")

    # -- writing --------------------------------------------------------------------------------------
    async def send(
        self, records: list[tuple[bytes | None, bytes | None]], partition: int | None = None
    ) -> list[RecordMetadata]:
        """Appends (key, value) pairs (value None: a tombstone), keyed like Kafka's default partitioner; returns when
        the broker has acknowledged all of them."""
        if self._producer is None:
            raise ConnectError(f"KafkaBasedLog for {self.topic} is not running")
        return await self._producer.send_batch([ProducerRecord(self.topic, k, v, partition) for k, v in records])
