"""Records as connectors see them: SourceRecord (from a SourceTask) and SinkRecord (to a SinkTask). Both are
immutable tuples with named fields, like Kafka's records are immutable objects."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple

from .schema import Schema

Headers = list[tuple[str, bytes | None]]  # as stored in the log: keys and serialized values


class Header(NamedTuple):
    """A Connect header (Kafka's Header) as records carry them: the key, the value and its schema (None: schemaless).
    The worker's header.converter turns it into bytes when a source record is written and makes it from the bytes
    read for a sink record. A plain (key, bytes) pair on a source record is taken as already serialized."""

    key: str
    value: Any
    schema: Schema | None = None


def field_getter(record_type: type, *names: str) -> itemgetter:
    """A C-level getter of a record type's named fields (a tuple of them for several) by position, for map() over
    batches: on these tuples it costs a third of attrgetter's, which looks the name up in the type and calls the
    field's descriptor (~130 machine instructions per record and field)."""
    fields: tuple[str, ...] = record_type._fields  # type: ignore[attr-defined]
    return itemgetter(*(fields.index(n) for n in names))


class _SourceRecordFields(NamedTuple):
    source_partition: dict[str, Any] | None
    source_offset: dict[str, Any] | None
    topic: str
    kafka_partition: int | None
    key_schema: Schema | None
    key: Any
    value_schema: Schema | None
    value: Any
    timestamp: int | None
    headers: Sequence[tuple[str, bytes | None]]


class SourceRecord(_SourceRecordFields):
    """source_partition/source_offset are the connector-defined maps the framework stores as offsets. Immutable
    like Kafka's; a tuple, so that a connector can build a batch of them in C (see new_source_record)."""

    __slots__ = ()

    def __new__(
        cls,
        source_partition: dict[str, Any] | None,
        source_offset: dict[str, Any] | None,
        topic: str,
        kafka_partition: int | None = None,
        key_schema: Schema | None = None,
        key: Any = None,
        value_schema: Schema | None = None,
        value: Any = None,
        timestamp: int | None = None,
        headers: Sequence[tuple[str, bytes | None]] | None = None,
    ) -> SourceRecord:
        return tuple.__new__(
            cls,
            (
                source_partition,
                source_offset,
                topic,
                kafka_partition,
                key_schema,
                key,
                value_schema,
                value,
                timestamp,
                () if headers is None else headers,
            ),
        )

    def __repr__(self) -> str:
        return (
            f"SourceRecord(topic={self.topic!r}, partition={self.kafka_partition}, key={self.key!r}, "
            f"value={self.value!r}, timestamp={self.timestamp}, source_offset={self.source_offset!r})"
        )


new_source_record = partial(tuple.__new__, SourceRecord)  # from one tuple of all ten fields, in C


class _SinkRecordFields(NamedTuple):
    topic: str
    kafka_partition: int
    key_schema: Schema | None
    key: Any
    value_schema: Schema | None
    value: Any
    kafka_offset: int
    timestamp: int | None
    timestamp_type: str
    headers: Sequence[tuple[str, bytes | None]]


class SinkRecord(_SinkRecordFields):
    """Immutable like Kafka's. A tuple, so that the worker builds a batch of them in C (see new_sink_record)."""

    __slots__ = ()

    def __new__(
        cls,
        topic: str,
        kafka_partition: int,
        key_schema: Schema | None,
        key: Any,
        value_schema: Schema | None,
        value: Any,
        kafka_offset: int,
        timestamp: int | None = None,
        timestamp_type: str = "CreateTime",
        headers: Sequence[tuple[str, bytes | None]] | None = None,
    ) -> SinkRecord:
        return tuple.__new__(
            cls,
            (
                topic,
                kafka_partition,
                key_schema,
                key,
                value_schema,
                value,
                kafka_offset,
                timestamp,
                timestamp_type,
                () if headers is None else headers,
            ),
        )

    @property
    def coordinates(self) -> str:
        """How error messages name a record: topic, partition and offset."""
        return f"topic '{self.topic}', partition {self.kafka_partition}, offset {self.kafka_offset}"

    def __repr__(self) -> str:
        return (
            f"SinkRecord(topic={self.topic!r}, partition={self.kafka_partition}, offset={self.kafka_offset}, "
            f"key={self.key!r}, value={self.value!r}, timestamp={self.timestamp})"
        )


new_sink_record = partial(tuple.__new__, SinkRecord)  # from one tuple of all ten fields, in C
