"""The plugin contract: async base classes a connector subclasses, and the contexts the worker hands them.

A connector is one small module: a Connector subclass that declares `config_def` and `task_class`, and a task
subclass that implements `poll` (source) or `put` (sink). Everything else has a working default.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import orjson

from . import __version__
from .config.configdef import ConfigDef, ConfigValue
from .data.records import SinkRecord, SourceRecord
from .data.value_column import ValueColumn
from .metrics.plugin import PluginMetrics


class TopicPartition(NamedTuple):
    topic: str
    partition: int


class ConnectorContext:
    """What a running Connector may ask of the worker."""

    def __init__(self, name: str):
        self.name = name
        self.reconfiguration_requested = asyncio.Event()
        self.error: BaseException | None = None

    def request_task_reconfiguration(self) -> None:
        """The connector's task configs changed (e.g. a new table): the herder calls task_configs again."""
        self.reconfiguration_requested.set()

    def raise_error(self, exc: BaseException) -> None:
        """Fail the connector from a background job of its own."""
        self.error = exc


def partition_key(partition: Mapping[str, Any]) -> str:
    """Canonical JSON of a source partition map (sorted keys), used to key offsets."""
    return orjson.dumps(dict(partition), option=orjson.OPT_SORT_KEYS).decode()


class OffsetStorageReader(ABC):
    """Reads the latest flushed source offsets of this connector."""

    @abstractmethod
    async def offsets(self, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        """Offsets keyed by the canonical JSON of each partition map (see `partition_key`)."""

    async def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        return (await self.offsets([partition])).get(partition_key(partition))


class SourceConnectorContext(ConnectorContext):
    def __init__(self, name: str, offset_reader: OffsetStorageReader):
        super().__init__(name)
        self.offset_storage_reader = offset_reader


class TaskContext:
    """Shared by source and sink task contexts: the task's identity and its stop signal."""

    def __init__(self, connector: str, task_id: int, config: Mapping[str, str]):
        self.connector = connector
        self.task_id = task_id
        self.config = dict(config)
        self.stopping = asyncio.Event()
        self.metrics = PluginMetrics()  # the task's own gauges, served on GET /metrics
        self.on_wait: Callable[[str | None], None] | None = None  # set by the worker: shows waits in the status

    def report_waiting(self, what: str | None) -> None:
        """Tells the worker the task is waiting for a resource (a database, a broker), with a text naming it, or
        that it works again (None). The task stays RUNNING with this text as its status trace meanwhile."""
        if self.on_wait is not None:
            self.on_wait(what)

    async def wait(self, seconds: float) -> bool:
        """Sleeps up to `seconds`; returns True (early) once the task is being stopped."""
        if self.stopping.is_set():
            return True
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
            return True
        except TimeoutError:
            return False


class SourceTaskContext(TaskContext):
    def __init__(self, connector: str, task_id: int, config: Mapping[str, str], offset_reader: OffsetStorageReader):
        super().__init__(connector, task_id, config)
        self.offset_storage_reader = offset_reader
        # Set by the worker when it can send EncodedRecords as they are (no transforms, the value converter takes
        # JSON struct payloads): (topic, value schema) -> the bytes around a payload, or None for this schema.
        self.value_envelope: Callable[[str, Any], tuple[bytes, bytes] | None] | None = None
        # Likewise for a value converter that takes Avro datums: (topic, value schema) -> the bytes before a datum
        self.value_avro_header: Callable[[str, Any], bytes | None] | None = None
        # Set by the worker when its transport frames records from a ValueColumn itself (Kafka): EncodedRecords may
        # then carry their values as one.
        self.value_columns = False


class EncodedRecords(NamedTuple):
    """Source records a task already serialized (a columnar read): one topic, null keys, no headers, no Kafka
    partition or timestamp, all of one source partition; `source_offset` is the offset of the last record, all that
    the worker commits once they are acknowledged. A SourceTask.poll may return it in place of a list of records.
    `values` is a list of bytes, or a ValueColumn when `context.value_columns` is set."""

    topic: str
    source_partition: Mapping[str, Any]
    source_offset: Mapping[str, Any] | None
    values: list[bytes] | ValueColumn


class SinkTaskContext(TaskContext):
    """Lets a sink task steer its consumer: rewind, pause partitions, ask for a commit."""

    def __init__(self, connector: str, task_id: int, config: Mapping[str, str]):
        super().__init__(connector, task_id, config)
        self.assignment: set[TopicPartition] = set()
        self.paused: set[TopicPartition] = set()
        self.rewinds: dict[TopicPartition, int] = {}
        self.commit_requested = False
        self.retry_timeout_ms: int | None = None
        # Kafka's errantRecordReporter(): set by the worker when errors.tolerance=all; call it with a record the
        # task cannot write and the error, then go on with the others (None: fail as usual)
        self.errant_record_reporter: Callable[[Any, BaseException], None] | None = None

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Reset the consumer position of these partitions (the next record read is at that offset)."""
        self.rewinds.update(offsets)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)

    def request_commit(self) -> None:
        self.commit_requested = True

    def timeout(self, ms: int) -> None:
        """After a RetriableError from put(), redeliver the same batch after this many ms."""
        self.retry_timeout_ms = ms


class Task(ABC):
    version: ClassVar[str] = __version__
    class_name: ClassVar[str] = ""  # shown as `task.class` in task configs

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "class_name" not in cls.__dict__:
            cls.class_name = f"{cls.__module__}.{cls.__qualname__}"

    @abstractmethod
    async def start(self, props: dict[str, str]) -> None: ...

    async def stop(self) -> None:
        """Called once, possibly while poll()/put() runs; must be safe on failure paths too."""


class SourceTask(Task):
    context: SourceTaskContext

    @abstractmethod
    async def poll(self) -> list[SourceRecord] | EncodedRecords | None:
        """The next batch; return None or [] when there is nothing yet (after waiting a little with
        `self.context.wait(...)`, which returns True early when the task is being stopped). EncodedRecords only
        when `context.value_envelope` or `context.value_avro_header` is set."""

    async def commit(self) -> None:
        """Offsets up to the last acknowledged records were flushed."""

    async def commit_record(self, record: SourceRecord, metadata: tuple[str, int, int] | None) -> None:
        """The record was accepted by the log (metadata is topic, partition, offset) or filtered out (None)."""


class SinkTask(Task):
    context: SinkTaskContext
    # True when put() leaves what it was given durable (a database transaction committed) and flush() has nothing
    # to do: the worker then commits the consumed offsets right after each put() rather than every
    # offset.flush.interval.ms, so that a crash replays only the batch in flight.
    commits_on_put: ClassVar[bool] = False

    async def open(self, partitions: list[TopicPartition]) -> None:
        """Partitions assigned to this task."""

    async def close(self, partitions: list[TopicPartition]) -> None:
        """Partitions taken away; called after a final flush of them."""

    @abstractmethod
    async def put(self, records: list[SinkRecord]) -> None:
        """Write the records (or buffer them for flush). Raise RetriableError to get the same batch again."""

    # True in a task that implements put_columns: the runner then offers it each batch as columns first
    accepts_columns: ClassVar[bool] = False

    async def put_columns(self, batches: list[Any]) -> bool:
        """Write a batch given as ColumnBatches (miniconnect.data.columns), one per topic, exactly as put() would
        write the same records; or return False, having written nothing, and the runner calls put() with them."""
        return False

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        """Make everything put() so far durable. current_offsets are the next offsets to read."""

    async def pre_commit(self, current_offsets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        """Offsets that are safe to commit; by default flushes and returns current_offsets."""
        await self.flush(current_offsets)
        return current_offsets


class Connector(ABC):
    """Declare `config_def` (the plugin's own keys) and `task_class`; implement start and task_configs."""

    config_def: ClassVar[ConfigDef] = ConfigDef()
    task_class: ClassVar[type[Task]]
    version: ClassVar[str] = __version__
    type: ClassVar[str]  # "source" or "sink"
    # The Java-style class name users write in `connector.class`; its simple name and the simple name
    # without "Connector" resolve too. Defaults to the Python module path and class name.
    class_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "class_name" not in cls.__dict__:
            cls.class_name = f"{cls.__module__}.{cls.__qualname__}"

    context: ConnectorContext

    async def start(self, props: dict[str, str]) -> None:
        self.props = dict(props)

    @abstractmethod
    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]: ...

    async def stop(self) -> None:
        """Called once; must be safe on failure paths too."""

    def validate(self, props: Mapping[str, Any]) -> dict[str, ConfigValue]:
        """Per-key results for /config/validate and create; override to add cross-key checks."""
        return self.config_def.validate(props)


class SourceConnector(Connector):
    type = "source"
    task_class: ClassVar[type[SourceTask]]
    context: SourceConnectorContext

    def exactly_once_support(self, connector_config: Mapping[str, str]) -> str | None:
        """SourceConnector.exactlyOnceSupport: "SUPPORTED", "UNSUPPORTED", or None when the connector cannot tell
        (Kafka's default). Asked by a distributed worker's validation of `exactly.once.support=required`."""
        return None

    def can_define_transaction_boundaries(self, connector_config: Mapping[str, str]) -> str | None:
        """SourceConnector.canDefineTransactionBoundaries: "SUPPORTED" or "UNSUPPORTED" (Kafka's default). Asked
        by a distributed worker's validation of `transaction.boundary=connector`."""
        return "UNSUPPORTED"

    async def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[str, dict[str, Any] | None]
    ) -> bool:
        """Hook for PATCH/DELETE /offsets; True if the connector also altered offsets it keeps itself."""
        return False


class SinkConnector(Connector):
    type = "sink"
    task_class: ClassVar[type[SinkTask]]

    async def alter_offsets(
        self, connector_config: Mapping[str, str], offsets: Mapping[TopicPartition, int | None]
    ) -> bool:
        return False
