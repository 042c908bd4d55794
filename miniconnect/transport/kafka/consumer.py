"""KafkaConsumer: a consumer group member over aiokafka, handing out RecordBatches."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka import TopicPartition as AioTP
from aiokafka import errors as kerrors

from ...connector import TopicPartition
from ...errors import ConnectError, RetriableError
from ..base import CommitFailed, Consumer, ConsumerRecord, RebalanceCallback, RecordBatch, records_of
from . import fetch as kafka_fetch
from . import patches
from .config import CONSUMER_DEFAULTS, CONSUMER_SETTINGS, assignors, client_kwargs
from .outage import _retry
from .producer import consume_outcome

log = logging.getLogger(__name__)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, consumer: KafkaConsumer):
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked and self.consumer.on_revoked is not None:
            await self.consumer.on_revoked([TopicPartition(tp.topic, tp.partition) for tp in revoked])

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self.consumer.on_assigned is not None:
            await self.consumer.on_assigned([TopicPartition(tp.topic, tp.partition) for tp in assigned])


_LOST_MEMBERSHIP = (
    kerrors.CommitFailedError,
    kerrors.UnknownMemberIdError,
    kerrors.IllegalGenerationError,
    kerrors.RebalanceInProgressError,
)


def _stock_batch(records: list[Any]) -> RecordBatch:
    """aiokafka's own records of one partition as a RecordBatch (where kafka_fetch is not in place)."""
    types = kafka_fetch.TIMESTAMP_TYPES
    first = records[0]
    return RecordBatch(
        first.topic,
        first.partition,
        [r.offset for r in records],
        [r.timestamp for r in records],
        [r.key for r in records],
        [r.value for r in records],
        [list(r.headers) if r.headers else kafka_fetch.NO_HEADERS for r in records],
        [types[r.timestamp_type] for r in records],
    )


class KafkaConsumer(Consumer):
    def __init__(self, bootstrap_servers: str, group_id: str, config: Mapping[str, Any] | None = None):
        self.bootstrap = bootstrap_servers
        self.group_id = group_id
        # Kafka's consumers offer "range" first (partition.assignment.strategy's default): a sink's group can then
        # hold JVM workers' consumers and ours at once (aiokafka alone offers only "roundrobin")
        self._kwargs = {
            **CONSUMER_DEFAULTS,
            "partition_assignment_strategy": assignors("RangeAssignor"),
            **client_kwargs(config, CONSUMER_SETTINGS, "consumer"),
            "enable_auto_commit": False,
        }
        self._start_timeout = int((config or {}).get("default.api.timeout.ms", 60000)) / 1000
        self._consumer: AIOKafkaConsumer | None = None
        self._subscription: tuple[list[str] | None, str | None] | None = None
        self.on_assigned: RebalanceCallback | None = None
        self.on_revoked: RebalanceCallback | None = None
        self._next_refresh = 0.0  # monotonic time of the next metadata refresh for missing subscribed topics

    async def start(self) -> None:
        if self._consumer is not None:
            return
        patches.install()

        async def attempt() -> AIOKafkaConsumer:
            c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group_id, **self._kwargs)
            try:
                await c.start()
            except BaseException:
                await c.stop()
                raise
            return c

        self._consumer = await _retry(f"consumer {self.group_id}", self.bootstrap, attempt, self._start_timeout)
        if self._subscription is not None:
            self._apply_subscription()

    async def stop(self) -> None:
        c, self._consumer = self._consumer, None
        if c is None:
            return
        try:
            assigned = c.assignment()
            if assigned and self.on_revoked is not None:
                # aiokafka leaves the group without telling the listener; Connect's contract revokes first.
                try:
                    await self.on_revoked([TopicPartition(tp.topic, tp.partition) for tp in assigned])
                except Exception:
                    log.exception("Revoke callback of group %s failed on stop", self.group_id)
        finally:
            await c.stop()

    async def subscribe(
        self,
        topics: list[str] | None = None,
        pattern: str | None = None,
        on_assigned: RebalanceCallback | None = None,
        on_revoked: RebalanceCallback | None = None,
    ) -> None:
        if not topics and not pattern:
            raise ConnectError("subscribe needs topics or a pattern")
        self.on_assigned, self.on_revoked = on_assigned, on_revoked
        self._subscription = (list(topics) if topics else None, pattern)
        if self._consumer is not None:
            self._apply_subscription()

    def _apply_subscription(self) -> None:
        topics, pattern = self._subscription
        if topics:
            self._consumer.subscribe(topics=topics, listener=_Listener(self))
        else:
            # aiokafka matches from the start only; Connect's topics.regex must match the whole name.
            self._consumer.subscribe(pattern=f"(?:{pattern})\\Z", listener=_Listener(self))

    def _refresh_missing_topics(self) -> None:
        """aiokafka refreshes metadata only every metadata.max.age.ms (5 min), so a sink subscribed before its
        topic exists (or while the broker still creates it) would stay without partitions that long. Like the
        Java client, ask again every second while a subscribed topic has no partitions yet."""
        now = time.monotonic()
        if now < self._next_refresh:
            return
        self._next_refresh = now + 1.0
        topics = self._subscription[0] if self._subscription else None
        client = self._consumer._client
        if topics and any(client.cluster.partitions_for_topic(t) is None for t in topics):
            client.force_metadata_update().add_done_callback(consume_outcome)

    async def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        return records_of(await self.poll_batches(max_records, timeout_ms))

    async def poll_batches(self, max_records: int = 500, timeout_ms: int = 1000) -> list[RecordBatch]:
        self._refresh_missing_topics()
        fetched = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        # RecordBatches already (see kafka_fetch), unless it could not install itself
        return [b if b.__class__ is RecordBatch else _stock_batch(b) for b in fetched.values()]

    def assignment(self) -> set[TopicPartition]:
        if self._consumer is None:
            return set()
        return {TopicPartition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await self._consumer.commit({AioTP(tp[0], tp[1]): off for tp, off in offsets.items()})
        except _LOST_MEMBERSHIP as e:
            # The group moved on without us (rebalance, or a broker restart expired the session).
            raise CommitFailed(f"Commit of group {self.group_id} failed: {e!r}") from e
        except kerrors.KafkaError as e:
            if isinstance(e, kerrors.KafkaConnectionError) or getattr(e, "retriable", False):
                raise RetriableError(f"Commit of group {self.group_id} failed: {e!r}") from e
            raise

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._consumer.seek(AioTP(tp[0], tp[1]), offset)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._consumer.pause(*(AioTP(tp[0], tp[1]) for tp in partitions))

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._consumer.resume(*(AioTP(tp[0], tp[1]) for tp in partitions))
