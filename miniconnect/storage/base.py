"""The three backing-store interfaces: source offsets, connector configs, statuses (Kafka's OffsetBackingStore,
ConfigBackingStore, StatusBackingStore).

Standalone and distributed mode differ only in which stores (and which herder) they build: files and memory in
standalone, the internal topics in distributed. Everything above the stores (Worker, task runners, herders, REST)
is written against these interfaces, so either set fits. Every store has an async start() and stop(); writes are
durable when they return.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime.states import TargetState, TaskId
    from .status import Status


class OffsetBackingStore(ABC):
    """Source offsets of each connector, keyed by the canonical JSON of the source partition
    (connector.partition_key). Kafka's OffsetBackingStore: start, stop, get, set (here `put`)."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def refresh(self) -> None:
        """Catches up with writes by other workers before a read that must see them."""

    @abstractmethod
    def get(self, connector: str, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        """partition key -> stored offset (None when there is none), for the given source partitions."""

    @abstractmethod
    def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(source partition, offset) for every partition of the connector with an offset."""

    @abstractmethod
    async def put(self, connector: str, offsets: Mapping[str, dict[str, Any] | None]) -> None:
        """partition key -> offset; None removes the partition's offset. Durable when this returns."""

    @abstractmethod
    async def delete_connector(self, connector: str) -> None:
        """Removes every offset of the connector."""


class ConfigBackingStore(ABC):
    """Connector configs, their task configs and target states."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def contains(self, name: str) -> bool: ...

    @abstractmethod
    async def put_connector_config(
        self, name: str, config: Mapping[str, str], target_state: TargetState | None = None, /
    ) -> None:
        """Creates or replaces the config; a new connector starts in `target_state` (default STARTED)."""

    @abstractmethod
    async def put_task_configs(self, name: str, configs: Sequence[Mapping[str, str]], /) -> None: ...

    @abstractmethod
    async def put_target_state(self, name: str, target_state: TargetState, /) -> None: ...

    @abstractmethod
    async def remove_connector(self, name: str) -> None: ...


class StatusBackingStore(ABC):
    """The latest reported status of each connector and task, and the topics each connector used. Writes are
    synchronous: a store that must send them (the status topic) queues them in order."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def put_connector(self, name: str, status: Status) -> None: ...

    def put_connector_safe(self, name: str, status: Status) -> None:
        """put_connector unless a worker of a newer generation wrote the connector's status (Kafka's putSafe); a
        store with a single writer has nothing to compare."""
        self.put_connector(name, status)

    @abstractmethod
    def get_connector(self, name: str) -> Status | None: ...

    @abstractmethod
    def put_task(self, task: TaskId, status: Status) -> None: ...

    def put_task_safe(self, task: TaskId, status: Status) -> None:
        """put_task unless a worker of a newer generation wrote the task's status (Kafka's putSafe)."""
        self.put_task(task, status)

    @abstractmethod
    def get_task(self, task: TaskId) -> Status | None: ...

    @abstractmethod
    def tasks(self, connector: str) -> list[tuple[int, Status]]:
        """(task number, status) of every task of the connector with a status, in task order."""

    @abstractmethod
    def remove_task(self, task: TaskId) -> None: ...

    @abstractmethod
    def remove_connector(self, name: str) -> None:
        """Forgets the connector's status and its tasks'."""

    @abstractmethod
    def add_topic(self, connector: str, topic: str, task: int = 0) -> None:
        """The connector's task `task` used `topic` (KIP-558 topic tracking)."""

    @abstractmethod
    def topics(self, connector: str) -> list[str]: ...

    @abstractmethod
    def reset_topics(self, connector: str) -> None: ...
