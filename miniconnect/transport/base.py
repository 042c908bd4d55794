"""The record transport behind one interface: the embedded log and Kafka (through aiokafka) implement it.

The worker only speaks bytes here; converters turn Connect data into bytes before `Producer.send_batch` and
back after `Consumer.poll`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby, repeat
from operator import itemgetter
from typing import Any, NamedTuple

from ..connector import TopicPartition

Headers = list[tuple[str, bytes | None]]


class ProducerRecord(NamedTuple):
    """A tuple, so that a batch of them is built in C: see `producer_records`."""

    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None  # None: chosen from the key hash (murmur2 like Kafka), round robin without key
    timestamp: int | None = None  # epoch ms; None: now
    headers: Sequence[tuple[str, bytes | None]] = ()


_new_producer_record = partial(tuple.__new__, ProducerRecord)


def producer_records(
    topics: Iterable[str],
    keys: Iterable[bytes | None],
    values: Iterable[bytes | None],
    partitions: Iterable[int | None],
    timestamps: Iterable[int | None],
    headers: Iterable[Sequence[tuple[str, bytes | None]]],
) -> list[ProducerRecord]:
    """ProducerRecords from columns, without a Python call per record (a third of the per-record constructor)."""
    return list(map(_new_producer_record, zip(topics, keys, values, partitions, timestamps, headers)))


class ConsumerRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()
    timestamp_type: str = "CreateTime"


new_consumer_record = partial(tuple.__new__, ConsumerRecord)  # from one tuple of all fields, in C


def consumer_records(
    topics: Iterable[str],
    partitions: Iterable[int],
    offsets: Iterable[int],
    timestamps: Iterable[int],
    keys: Iterable[bytes | None],
    values: Iterable[bytes | None],
    headers: Iterable[Sequence[tuple[str, bytes | None]]],
    timestamp_types: Iterable[str],
) -> list[ConsumerRecord]:
    """ConsumerRecords from columns, without a Python call per record."""
    return list(
        map(new_consumer_record, zip(topics, partitions, offsets, timestamps, keys, values, headers, timestamp_types))
    )


_TOPIC_PARTITION = itemgetter(0, 1)
_OFFSET, _TIMESTAMP, _KEY, _VALUE, _HEADERS, _TIMESTAMP_TYPE = (itemgetter(i) for i in range(2, 8))


class RecordBatch:
    """Consumed records of one partition, in offset order, as columns: what a sink runner converts in one go
    without a ConsumerRecord per record. timestamp_types is one type for all records or a list of them."""

    __slots__ = ("headers", "keys", "offsets", "partition", "timestamp_types", "timestamps", "topic", "values")

    def __init__(
        self,
        topic: str,
        partition: int,
        offsets: list[int],
        timestamps: list[int],
        keys: list[bytes | None],
        values: list[bytes | None],
        headers: list[Sequence[tuple[str, bytes | None]]],
        timestamp_types: str | list[str],
    ):
        self.topic, self.partition = topic, partition
        self.offsets, self.timestamps, self.keys, self.values, self.headers = offsets, timestamps, keys, values, headers
        self.timestamp_types = timestamp_types

    def __len__(self) -> int:
        return len(self.offsets)

    def __iter__(self) -> Iterator[ConsumerRecord]:
        """The records one by one (for code that gets these from aiokafka's getmany in a worker process, where
        kafka/fetch.py replaced its lists of records)."""
        return iter(self.records())

    def __repr__(self) -> str:
        return (
            f"RecordBatch({self.topic!r}, {self.partition}, offsets {self.offsets[0]}..{self.offsets[-1]})"
            if self.offsets
            else f"RecordBatch({self.topic!r}, {self.partition}, empty)"
        )

    def types_column(self) -> Iterable[str]:
        types = self.timestamp_types
        return repeat(types, len(self.offsets)) if types.__class__ is str else types  # type: ignore[return-value]

    def slice(self, lo: int, hi: int) -> RecordBatch:
        types = self.timestamp_types
        return RecordBatch(
            self.topic,
            self.partition,
            self.offsets[lo:hi],
            self.timestamps[lo:hi],
            self.keys[lo:hi],
            self.values[lo:hi],
            self.headers[lo:hi],
            types if types.__class__ is str else types[lo:hi],
        )

    def records(self) -> list[ConsumerRecord]:
        return consumer_records(
            repeat(self.topic),
            repeat(self.partition),
            self.offsets,
            self.timestamps,
            self.keys,
            self.values,
            self.headers,
            self.types_column(),
        )


def batches_of(records: Sequence[ConsumerRecord]) -> list[RecordBatch]:
    """Runs of records of the same partition, as RecordBatches in the same order."""
    out = []
    for (topic, partition), run in groupby(records, _TOPIC_PARTITION):
        rs = list(run)
        out.append(
            RecordBatch(
                topic,
                partition,
                list(map(_OFFSET, rs)),
                list(map(_TIMESTAMP, rs)),
                list(map(_KEY, rs)),
                list(map(_VALUE, rs)),
                list(map(_HEADERS, rs)),
                list(map(_TIMESTAMP_TYPE, rs)),
            )
        )
    return out


def records_of(batches: Iterable[RecordBatch]) -> list[ConsumerRecord]:
    out: list[ConsumerRecord] = []
    for batch in batches:
        out += batch.records()
    return out


class RecordMetadata(NamedTuple):
    topic: str
    partition: int
    offset: int


new_record_metadata = partial(tuple.__new__, RecordMetadata)  # from one (topic, partition, offset) tuple, in C


@dataclass
class NewTopic:
    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: dict[str, str] = field(default_factory=dict)


# Rebalance callbacks of a consumer: called with the partitions revoked / assigned.
RebalanceCallback = Callable[[list[TopicPartition]], Awaitable[None]]


class Producer(ABC):
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None:
        """Flushes what was sent; safe to call twice and after a failed start."""

    @abstractmethod
    async def send_batch(self, records: list[ProducerRecord]) -> list[RecordMetadata]:
        """Returns once every record is durable (embedded log: written; Kafka: acks=all), in input order."""


class Consumer(ABC):
    """A member of a consumer group. Positions are committed explicitly, never automatically."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None:
        """Leaves the group (the revoke callback runs first); safe to call twice."""

    @abstractmethod
    async def subscribe(
        self,
        topics: list[str] | None = None,
        pattern: str | None = None,
        on_assigned: RebalanceCallback | None = None,
        on_revoked: RebalanceCallback | None = None,
    ) -> None:
        """Subscribe to topic names or a regex (matched in full against topic names, also ones created later)."""

    @abstractmethod
    async def poll(self, max_records: int = 500, timeout_ms: int = 1000) -> list[ConsumerRecord]:
        """Records after the current positions of the assigned, non-paused partitions; [] after timeout.
        Without a committed position a partition starts at `auto.offset.reset` (default earliest)."""

    async def poll_batches(self, max_records: int = 500, timeout_ms: int = 1000) -> list[RecordBatch]:
        """poll(), as one RecordBatch per run of records of the same partition."""
        return batches_of(await self.poll(max_records, timeout_ms))

    @abstractmethod
    def assignment(self) -> set[TopicPartition]: ...

    @abstractmethod
    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit next-offsets-to-read for the group. Raises if the partitions are no longer assigned."""

    @abstractmethod
    def seek(self, tp: TopicPartition, offset: int) -> None: ...

    @abstractmethod
    def pause(self, partitions: list[TopicPartition]) -> None: ...

    @abstractmethod
    def resume(self, partitions: list[TopicPartition]) -> None: ...


class Transport(ABC):
    """A cluster: the embedded log or Kafka. Creates producers, consumers and answers admin questions."""

    kind: str  # "embedded" or "kafka"

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def producer(self, config: Mapping[str, Any] | None = None) -> Producer:
        """config: client settings (worker `producer.*` plus connector `producer.override.*`, prefixes removed)."""

    @abstractmethod
    def consumer(self, group_id: str, config: Mapping[str, Any] | None = None) -> Consumer: ...

    @abstractmethod
    async def cluster_id(self) -> str | None: ...

    @abstractmethod
    async def list_topics(self) -> dict[str, int]:
        """Topic name -> partition count."""

    @abstractmethod
    async def create_topics(self, topics: list[NewTopic]) -> list[str]:
        """Creates the topics that do not exist yet; returns the names it created."""

    @abstractmethod
    async def committed_offsets(self, group_id: str) -> dict[TopicPartition, int]: ...

    @abstractmethod
    async def alter_committed_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int | None]) -> None:
        """Set (or, for None, delete) committed offsets. Raises GroupNotEmpty while the group has members."""

    @abstractmethod
    async def delete_group(self, group_id: str) -> None:
        """Deletes the group's offsets; a group that does not exist is fine. Raises GroupNotEmpty."""

    @abstractmethod
    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]: ...


class GroupNotEmpty(Exception):
    """The consumer group still has active members."""


class CommitFailed(Exception):
    """A commit named partitions this consumer no longer owns (the group rebalanced meanwhile)."""
