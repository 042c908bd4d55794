"""KafkaStatusBackingStore: the state of every connector and task in the cluster, and the topics each connector
used, in the status topic as Kafka Connect writes them.

  status-connector-<name>        {"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":3,
                                  "version":"4.1.1"}   (version: the plugin's; null when unknown; since Kafka 4.1)
  status-task-<name>-<n>         the same fields                       null: the task's status is gone
  status-topic-<topic>:connector-<name>
                                 {"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":1700000000000}}
Writes go out in the background in the order they were made (Kafka's store sends without waiting, too); `flush()`
waits for them. Reads show what the topic says, so statuses reported by other workers appear here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..runtime.states import State, TaskId
from .base import StatusBackingStore
from .internal_format import decode, encode
from .internal_topics import store_log
from .status import Status

log = logging.getLogger(__name__)

CONNECTOR_STATUS_PREFIX = "status-connector-"
TASK_STATUS_PREFIX = "status-task-"
TOPIC_STATUS_PREFIX = "status-topic-"
TOPIC_STATUS_SEPARATOR = ":connector-"


@dataclass(frozen=True, slots=True)
class TopicStatus:
    topic: str
    connector: str
    task: int
    discover_timestamp: int


def status_value(status: Status, generation: int) -> bytes:
    """STATUS_SCHEMA_V0 (Kafka 4.1): state, trace (null when none), worker_id, generation, version (null when none)."""
    return encode(
        {
            "state": status.state.value,
            "trace": status.trace,
            "worker_id": status.worker_id,
            "generation": status.generation if status.generation is not None else generation,
            "version": status.version,
        }
    )  # type: ignore[return-value]


def topic_status_value(status: TopicStatus) -> bytes:
    return encode(
        {
            "topic": {
                "name": status.topic,
                "connector": status.connector,
                "task": status.task,
                "discoverTimestamp": status.discover_timestamp,
            }
        }
    )  # type: ignore[return-value]


def parse_status(value: Any) -> Status | None:
    if not isinstance(value, dict):
        return None
    try:
        version = value.get("version")
        return Status(
            State(value["state"]),
            str(value["worker_id"]),
            value.get("trace"),
            int(value["generation"]),
            version if isinstance(version, str) else None,
        )
    except (KeyError, ValueError, TypeError):
        return None


def parse_task_status_key(key: str) -> TaskId | None:
    """status-task-<connector>-<n> (KafkaStatusBackingStore.parseConnectorTaskId)."""
    parts = key.split("-")
    if len(parts) < 4:
        return None
    try:
        return TaskId("-".join(parts[2:-1]), int(parts[-1]))
    except ValueError:
        return None


class KafkaStatusStore(StatusBackingStore):
    """MemoryStatusStore's methods over the status topic; `generation` is stamped on statuses that carry none."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_config: Mapping[str, Any] | None,
        topic: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        topic_settings: Mapping[str, str] | None = None,
        client_id: str | None = None,
    ):
        if not topic or not topic.strip():
            raise ConfigError(message="Must specify topic for connector status.")
        self.topic = topic
        self.generation = 0
        self._connectors: dict[str, Status] = {}
        self._tasks: dict[str, dict[int, Status]] = {}
        self._topics: dict[str, dict[str, TopicStatus]] = {}
        self._queue: asyncio.Queue[tuple[bytes, bytes | None]] | None = None
        self._sender: asyncio.Task | None = None
        self._log = store_log(
            topic=topic,
            worker_key="status.storage.topic",
            bootstrap_servers=bootstrap_servers,
            client_config=client_config,
            consumed=self._consume,
            partitions=partitions or 5,
            replication_factor=replication_factor,
            topic_settings=topic_settings,
            client_id=client_id,
        )

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._log.start()  # reads to the end: REST answers see the latest states at once
        self._queue = asyncio.Queue()
        self._sender = asyncio.get_running_loop().create_task(self._send_loop(), name=f"status-sender-{self.topic}")

    async def stop(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            try:
                await asyncio.wait_for(self.flush(), 10.0)
            except TimeoutError:
                log.warning("Status updates still unsent when stopping the status store")
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        await self._log.stop()

    async def flush(self) -> None:
        """Waits until every status written so far has been acknowledged (or given up)."""
        if self._queue is not None:
            await self._queue.join()

    async def refresh(self, timeout_s: float | None = 30.0) -> None:
        await self._log.read_to_end(timeout_s)

    def _enqueue(self, key: str, value: bytes | None) -> None:
        if self._queue is None:
            raise RuntimeError("status store is not started")
        self._queue.put_nowait((key.encode(), value))

    async def _send_loop(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            delay = 0.1
            for attempt in range(8):  # Kafka retries retriable failures; a status is not worth blocking the worker
                try:
                    await self._log.send(batch)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    log.warning("Failed to write %d status updates (attempt %d): %r", len(batch), attempt + 1, e)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
            else:
                log.error("Gave up writing %d status updates to %s", len(batch), self.topic)
            for _ in batch:
                queue.task_done()

    # -- connectors and tasks --------------------------------------------------------------------------
    def put_connector(self, name: str, status: Status) -> None:
        self._connectors[name] = status
        self._enqueue(CONNECTOR_STATUS_PREFIX + name, status_value(status, self.generation))

    def get_connector(self, name: str) -> Status | None:
        return self._connectors.get(name)

    def connectors(self) -> list[str]:
        return list(self._connectors)

    def put_task(self, task: TaskId, status: Status) -> None:
        self._tasks.setdefault(task.connector, {})[task.task] = status
        self._enqueue(f"{TASK_STATUS_PREFIX}{task.connector}-{task.task}", status_value(status, self.generation))

    def put_connector_safe(self, name: str, status: Status) -> None:
        """putSafe: written only if no other worker has reported it in a newer generation (a worker that lost the
        connector in a rebalance must not overwrite the new owner's state)."""
        if self._can_write_safely(self._connectors.get(name), status):
            self.put_connector(name, status)

    def put_task_safe(self, task: TaskId, status: Status) -> None:
        if self._can_write_safely(self.get_task(task), status):
            self.put_task(task, status)

    def _can_write_safely(self, current: Status | None, status: Status) -> bool:  # CacheEntry.canWriteSafely
        generation = status.generation if status.generation is not None else self.generation
        return current is None or current.worker_id == status.worker_id or (current.generation or 0) <= generation

    def get_task(self, task: TaskId) -> Status | None:
        return self._tasks.get(task.connector, {}).get(task.task)

    def tasks(self, connector: str) -> list[tuple[int, Status]]:
        return sorted(self._tasks.get(connector, {}).items())

    def remove_task(self, task: TaskId) -> None:
        """A tombstone (Kafka writes one for a DESTROYED status)."""
        self._forget_task(task)
        self._enqueue(f"{TASK_STATUS_PREFIX}{task.connector}-{task.task}", None)

    def remove_connector(self, name: str) -> None:
        """Tombstones for the connector's status and its tasks'; its topics are kept, as Kafka keeps them."""
        for n, _ in self.tasks(name):
            self.remove_task(TaskId(name, n))
        self._connectors.pop(name, None)
        self._enqueue(CONNECTOR_STATUS_PREFIX + name, None)

    def _forget_task(self, task: TaskId) -> None:
        tasks = self._tasks.get(task.connector)
        if tasks is not None:
            tasks.pop(task.task, None)
            if not tasks:
                del self._tasks[task.connector]

    # -- topic tracking (KIP-558) -------------------------------------------------------------------------
    def add_topic(self, connector: str, topic: str, task: int = 0) -> None:
        if topic in self._topics.get(connector, {}):
            return
        status = TopicStatus(topic, connector, task, int(time.time() * 1000))
        self._topics.setdefault(connector, {})[topic] = status
        self._enqueue(f"{TOPIC_STATUS_PREFIX}{topic}{TOPIC_STATUS_SEPARATOR}{connector}", topic_status_value(status))

    def topics(self, connector: str) -> list[str]:
        return sorted(self._topics.get(connector, ()))

    def reset_topics(self, connector: str) -> None:
        for topic in list(self._topics.pop(connector, {})):
            self._enqueue(f"{TOPIC_STATUS_PREFIX}{topic}{TOPIC_STATUS_SEPARATOR}{connector}", None)

    # -- the read loop (KafkaStatusBackingStore.read) ---------------------------------------------------
    def _consume(self, key_bytes: bytes | None, value: bytes | None, partition: int, offset: int) -> None:
        key = key_bytes.decode("utf-8", "replace") if key_bytes is not None else ""
        try:
            data = decode(value)
        except Exception as e:
            log.error("Failed to deserialize status record %s: %s", key, e)
            return
        if key.startswith(CONNECTOR_STATUS_PREFIX):
            name = key[len(CONNECTOR_STATUS_PREFIX) :]
            if not name:
                log.warning("Discarding record with invalid connector status key %s", key)
            elif data is None:
                self._connectors.pop(name, None)
                self._tasks.pop(name, None)
            elif (status := parse_status(data)) is not None:
                self._connectors[name] = status
        elif key.startswith(TASK_STATUS_PREFIX):
            task = parse_task_status_key(key)
            if task is None:
                log.warning("Discarding record with invalid task status key %s", key)
            elif data is None:
                self._forget_task(task)
            elif (status := parse_status(data)) is not None:
                current = self.get_task(task)
                # a late UNASSIGNED of an older generation must not hide a RUNNING task (readTaskStatus)
                if (
                    status.state is State.UNASSIGNED
                    and current is not None
                    and current.state is State.RUNNING
                    and (current.generation or 0) >= (status.generation or 0)
                ):
                    return
                self._tasks.setdefault(task.connector, {})[task.task] = status
        elif key.startswith(TOPIC_STATUS_PREFIX):
            self._read_topic(key, data)
        else:
            log.warning("Discarding record with invalid key %s", key)

    def _read_topic(self, key: str, data: Any) -> None:
        topic, sep, connector = key[len(TOPIC_STATUS_PREFIX) :].partition(TOPIC_STATUS_SEPARATOR)
        if not sep or not topic or not connector:
            log.warning("Discarding record with invalid topic status key %s", key)
            return
        if data is None:
            self._topics.get(connector, {}).pop(topic, None)
            return
        inner = data.get("topic") if isinstance(data, dict) else None
        if not isinstance(inner, dict):
            log.error("Invalid topic status value %r", data)
            return
        try:
            status = TopicStatus(
                str(inner["name"]), str(inner["connector"]), int(inner["task"]), int(inner["discoverTimestamp"])
            )
        except (KeyError, ValueError, TypeError):
            log.warning("Failed to parse topic status with key %s", key)
            return
        self._topics.setdefault(connector, {})[topic] = status
