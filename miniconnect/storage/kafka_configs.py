"""KafkaConfigBackingStore: connector and task configs, target states, session key and restart requests in the
config topic, in Kafka Connect's record formats, replayed into a ClusterConfigState.

Records (keys are plain UTF-8 strings; values the internal JSON converter's, schemas off):
  connector-<name>      {"properties": {...}}                 null when the connector is deleted
  target-state-<name>   {"state": "PAUSED", "state.v2": "STOPPED"}   (state: STOPPED written as PAUSED for old workers)
  task-<name>-<n>       {"properties": {...}}                 applied only when the commit record follows
  commit-<name>         {"tasks": <count>}
  session-key           {"key": <base64>, "algorithm": "HmacSHA256", "creation-timestamp": <ms>}
  restart-connector-<name>  {"include-tasks": bool, "only-failed": bool}
  tasks-fencing-<name>  {"task-count": <n>}                   (KIP-618)
  logger-cluster-<ns>   {"level": "DEBUG"}                    (KIP-976; passed on, not applied here)
The reading side follows KafkaConfigBackingStore.ConsumeCallback, including its handling of compaction (a commit
without all its task configs marks the connector inconsistent).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..distributed.state import ClusterConfigState, SessionKey
from ..errors import ConfigError, ConnectError
from ..runtime.states import TargetState, TaskId
from .base import ConfigBackingStore
from .internal_format import decode, encode
from .internal_topics import store_log

log = logging.getLogger(__name__)

CONNECTOR_PREFIX = "connector-"
TARGET_STATE_PREFIX = "target-state-"
TASK_PREFIX = "task-"
COMMIT_TASKS_PREFIX = "commit-"
TASK_COUNT_RECORD_PREFIX = "tasks-fencing-"
RESTART_PREFIX = "restart-connector-"
LOGGER_CLUSTER_PREFIX = "logger-cluster-"
SESSION_KEY_KEY = "session-key"
READ_WRITE_TOTAL_TIMEOUT_S = 30.0  # KafkaConfigBackingStore.READ_WRITE_TOTAL_TIMEOUT_MS


@dataclass(frozen=True, slots=True)
class RestartRequest:
    """A `restart-connector-<name>` record (KIP-745)."""

    connector: str
    only_failed: bool = False
    include_tasks: bool = False

    def __str__(self) -> str:
        return (
            f"restart request for {{connectorName='{self.connector}', onlyFailed={str(self.only_failed).lower()}, "
            f"includeTasks={str(self.include_tasks).lower()}}}"
        )


class ConfigUpdateListener(Protocol):
    """Called from the store's read loop, only after start() has read the topic to its end (Kafka's UpdateListener)."""

    def on_connector_config_update(self, name: str) -> None: ...
    def on_connector_config_remove(self, name: str) -> None: ...
    def on_task_config_update(self, tasks: list[TaskId]) -> None: ...
    def on_connector_target_state_change(self, name: str) -> None: ...
    def on_session_key_update(self, key: SessionKey) -> None: ...
    def on_restart_request(self, request: RestartRequest) -> None: ...


# -- record values ------------------------------------------------------------------------------------------------
def connector_config_value(config: Mapping[str, str | None]) -> bytes:
    return encode({"properties": dict(config)})  # type: ignore[return-value]


def target_state_value(state: TargetState) -> bytes:
    # TARGET_STATE_V1: older workers don't know STOPPED, so `state` says PAUSED for it
    old = TargetState.PAUSED if state is TargetState.STOPPED else state
    return encode({"state": old.value, "state.v2": state.value})  # type: ignore[return-value]


def commit_value(task_count: int) -> bytes:
    return encode({"tasks": task_count})  # type: ignore[return-value]


def session_key_value(key: SessionKey) -> bytes:
    return encode(
        {
            "key": base64.b64encode(key.key).decode("ascii"),
            "algorithm": key.algorithm,
            "creation-timestamp": key.creation_timestamp,
        }
    )  # type: ignore[return-value]


def restart_request_value(request: RestartRequest) -> bytes:
    return encode({"include-tasks": request.include_tasks, "only-failed": request.only_failed})  # type: ignore


def task_count_value(count: int) -> bytes:
    return encode({"task-count": count})  # type: ignore[return-value]


def parse_task_key(key: str) -> TaskId | None:
    """task-<connector>-<n>; the connector name may contain '-' (KafkaConfigBackingStore.parseTaskId)."""
    parts = key.split("-")
    if len(parts) < 3:
        return None
    try:
        return TaskId("-".join(parts[1:-1]), int(parts[-1]))
    except ValueError:
        return None


class KafkaConfigStore(ConfigBackingStore):
    """The config topic of a Connect cluster. Writes return once the store has read them back (so a snapshot taken
    after a write shows it), as KafkaConfigBackingStore's do; the herder must be the only writer (the leader)."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        client_config: Mapping[str, Any] | None,
        topic: str,
        worker_id: str = "",
        listener: ConfigUpdateListener | None = None,
        replication_factor: int | None = None,
        topic_settings: Mapping[str, str] | None = None,
        client_id: str | None = None,
    ):
        """replication_factor: create the topic when missing (compacted, one partition, config.storage.* settings)
        and check an existing one's cleanup policy; None leaves that to internal_topics.ensure_internal_topics."""
        if not topic or not topic.strip():
            raise ConfigError(message="Must specify topic for connector configuration.")
        self.topic, self.worker_id, self.listener = topic, worker_id, listener
        self._started = False
        self._state = ClusterConfigState()
        self._deferred: dict[str, dict[TaskId, dict[str, str]]] = {}
        self._log = store_log(
            topic=topic,
            worker_key="config.storage.topic",
            bootstrap_servers=bootstrap_servers,
            client_config=client_config,
            consumed=self._consume,
            partitions=1,
            replication_factor=replication_factor,
            topic_settings=topic_settings,
            client_id=client_id,
        )

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        log.info("Starting KafkaConfigBackingStore")
        await self._log.start()
        partitions = self._log.partition_count()
        if partitions > 1:
            await self._log.stop()
            raise ConfigError(
                message=f"Topic '{self.topic}' supplied via the 'config.storage.topic' property is "
                f"required to have a single partition in order to guarantee consistency of "
                f"connector configurations, but found {partitions} partitions."
            )
        self._started = True
        log.info("Started KafkaConfigBackingStore")

    async def stop(self) -> None:
        self._started = False
        await self._log.stop()

    # -- reads ----------------------------------------------------------------------------------------
    def snapshot(self) -> ClusterConfigState:
        s = self._state
        return ClusterConfigState(
            offset=s.offset,
            session_key=s.session_key,
            connector_task_counts=dict(s.connector_task_counts),
            connector_configs=dict(s.connector_configs),
            connector_target_states=dict(s.connector_target_states),
            task_configs=dict(s.task_configs),
            inconsistent_connectors=set(s.inconsistent_connectors),
            connector_task_config_generations=dict(s.connector_task_config_generations),
            connector_task_count_records=dict(s.connector_task_count_records),
        )

    def contains(self, name: str) -> bool:
        return name in self._state.connector_configs

    async def refresh(self, timeout_s: float) -> None:
        """Reads to the end of the topic; TimeoutError when that takes longer than timeout_s."""
        await self._log.read_to_end(timeout_s)

    # -- writes ---------------------------------------------------------------------------------------
    async def _write(self, what: str, records: list[tuple[str, bytes | None]]) -> None:
        try:
            await self._log.send([(k.encode(), v) for k, v in records])
            await self._log.read_to_end(READ_WRITE_TOTAL_TIMEOUT_S)
        except TimeoutError as e:
            raise ConnectError(f"Error writing {what} to Kafka") from e

    async def put_connector_config(
        self, name: str, config: Mapping[str, str], target_state: TargetState | None = None
    ) -> None:
        """The target state record (when given) goes first, so the connector starts in it."""
        records: list[tuple[str, bytes | None]] = []
        if target_state is not None:
            records.append((TARGET_STATE_PREFIX + name, target_state_value(target_state)))
        records.append((CONNECTOR_PREFIX + name, connector_config_value(config)))
        await self._write("connector configuration", records)

    async def remove_connector_config(self, name: str) -> None:
        """Tombstones for the connector config and its target state (task configs stay, as in Kafka)."""
        await self._write(
            "connector configuration removal", [(CONNECTOR_PREFIX + name, None), (TARGET_STATE_PREFIX + name, None)]
        )

    async def remove_connector(self, name: str) -> None:
        """ConfigBackingStore's name for remove_connector_config (Kafka's removeConnectorConfig)."""
        await self.remove_connector_config(name)

    async def put_task_configs(self, name: str, configs: Sequence[Mapping[str, str]]) -> None:
        """One record per task, read back, then the commit record that applies them all at once."""
        await self.refresh(READ_WRITE_TOTAL_TIMEOUT_S)
        if configs:
            await self._write(
                "task configurations",
                [(f"{TASK_PREFIX}{name}-{i}", connector_config_value(c)) for i, c in enumerate(configs)],
            )
        await self._write("task configurations commit", [(COMMIT_TASKS_PREFIX + name, commit_value(len(configs)))])

    async def put_target_state(self, name: str, state: TargetState) -> None:
        """Kafka does not wait to read this one back (the listener sees it)."""
        try:
            await self._log.send([((TARGET_STATE_PREFIX + name).encode(), target_state_value(state))])
        except TimeoutError as e:
            raise ConnectError("Error writing target state to Kafka") from e

    async def put_session_key(self, key: SessionKey) -> None:
        await self._write("session key", [(SESSION_KEY_KEY, session_key_value(key))])

    async def put_restart_request(self, name: str, only_failed: bool = False, include_tasks: bool = False) -> None:
        request = RestartRequest(name, only_failed, include_tasks)
        await self._write(str(request), [(RESTART_PREFIX + name, restart_request_value(request))])

    async def put_task_count_record(self, name: str, count: int) -> None:
        await self._write("task count record", [(TASK_COUNT_RECORD_PREFIX + name, task_count_value(count))])

    # -- the read loop (KafkaConfigBackingStore.ConsumeCallback) ----------------------------------------
    def _consume(self, key_bytes: bytes | None, value_bytes: bytes | None, partition: int, offset: int) -> None:
        key = key_bytes.decode("utf-8", "replace") if key_bytes is not None else ""
        try:
            value = decode(value_bytes)
        except Exception as e:
            log.error("Failed to convert config data to Kafka Connect format: %s", e)
            return
        self._state.offset = offset + 1
        if key.startswith(TARGET_STATE_PREFIX):
            self._target_state(key[len(TARGET_STATE_PREFIX) :], value)
        elif key.startswith(CONNECTOR_PREFIX):
            self._connector_config(key[len(CONNECTOR_PREFIX) :], value)
        elif key.startswith(TASK_PREFIX):
            task = parse_task_key(key)
            if task is None:
                log.error("Ignoring task configuration because %s couldn't be parsed as a task config key", key)
            else:
                self._task_config(task, value)
        elif key.startswith(COMMIT_TASKS_PREFIX):
            self._commit(key[len(COMMIT_TASKS_PREFIX) :], value)
        elif key.startswith(RESTART_PREFIX):
            request = _restart_request(key[len(RESTART_PREFIX) :], value)
            if request is not None and self._started and self.listener is not None:
                self.listener.on_restart_request(request)
        elif key.startswith(TASK_COUNT_RECORD_PREFIX):
            if isinstance(value, dict) and isinstance(value.get("task-count"), int):
                self._state.connector_task_count_records[key[len(TASK_COUNT_RECORD_PREFIX) :]] = value["task-count"]
            else:
                log.error("Ignoring task count record for connector '%s' because it is in the wrong format", key)
        elif key == SESSION_KEY_KEY:
            self._session_key(value)
        elif key.startswith(LOGGER_CLUSTER_PREFIX):
            log.debug("Ignoring cluster logger level record %s", key)
        else:
            log.error("Discarding config update record with invalid key: %s", key)

    def _target_state(self, name: str, value: Any) -> None:
        states = self._state.connector_target_states
        if value is None:
            # tombstone written with the connector's; keep a default while its config is still there
            states.pop(name, None)
            if name in self._state.connector_configs:
                states[name] = TargetState.STARTED
            return
        if not isinstance(value, dict):
            log.error("Ignoring target state for connector '%s' because it is in the wrong format", name)
            return
        raw = value.get("state.v2")
        if not isinstance(raw, str):
            raw = value.get("state")  # written by an older worker
            if not isinstance(raw, str):
                log.error("Invalid data for target state for connector '%s': 'state' field should be a String", name)
                return
        try:
            state = TargetState(raw)
        except ValueError:
            log.error("Invalid target state for connector '%s': %s", name, raw)
            return
        changed = states.get(name) is not state
        states[name] = state
        if self._started and changed and name in self._state.connector_configs and self.listener is not None:
            self.listener.on_connector_target_state_change(name)

    def _connector_config(self, name: str, value: Any) -> None:
        s = self._state
        if value is None:
            self._remove_connector(name)
            log.info("Successfully processed removal of connector '%s'", name)
            if self._started and self.listener is not None:
                self.listener.on_connector_config_remove(name)
            return
        props = value.get("properties") if isinstance(value, dict) else None
        if not isinstance(props, dict):
            log.error("Ignoring configuration for connector '%s' because it is in the wrong format", name)
            return
        s.connector_configs[name] = props
        s.connector_target_states.setdefault(name, TargetState.STARTED)
        if self._started and self.listener is not None:
            self.listener.on_connector_config_update(name)

    def _task_config(self, task: TaskId, value: Any) -> None:
        props = value.get("properties") if isinstance(value, dict) else None
        if not isinstance(props, dict):
            log.error("Ignoring task configuration for task %s because it is unexpectedly null or malformed", task)
            return
        self._deferred.setdefault(task.connector, {})[task] = props

    def _commit(self, name: str, value: Any) -> None:
        s = self._state
        if name not in s.connector_configs:
            # deleted before these task configs were published, and compaction removed its config and tombstone
            self._remove_connector(name)
            return
        if not isinstance(value, dict) or not isinstance(value.get("tasks"), int):
            log.error(
                "Ignoring connector tasks configuration commit for connector '%s' because it is in the wrong format",
                name,
            )
            return
        count = value["tasks"]
        deferred = self._deferred.get(name) or {}
        updated: list[TaskId] = []
        if not all(TaskId(name, i) in deferred for i in range(count)):
            # an incomplete set of task configs, probably from compaction: wait for a fresh commit
            s.inconsistent_connectors.add(name)
        else:
            if deferred:
                s.task_configs.update(deferred)
                updated = list(deferred)
                s.connector_task_config_generations[name] = s.connector_task_config_generations.get(name, -1) + 1
            s.inconsistent_connectors.discard(name)
        deferred.clear()
        s.connector_task_counts[name] = count
        if self._started and self.listener is not None:
            self.listener.on_task_config_update(updated)

    def _session_key(self, value: Any) -> None:
        if not isinstance(value, dict):
            log.error("Ignoring session key because it is unexpectedly null or not a map")
            return
        key, algorithm, created = value.get("key"), value.get("algorithm"), value.get("creation-timestamp")
        if not isinstance(key, str) or not isinstance(algorithm, str) or not isinstance(created, int):
            log.error("Invalid data for session key: %s", value)
            return
        self._state.session_key = SessionKey(base64.b64decode(key), algorithm, created)
        if self._started and self.listener is not None:
            self.listener.on_session_key_update(self._state.session_key)

    def _remove_connector(self, name: str) -> None:
        s = self._state
        s.connector_configs.pop(name, None)
        s.connector_task_counts.pop(name, None)
        for task in [t for t in s.task_configs if t.connector == name]:
            del s.task_configs[task]
        self._deferred.pop(name, None)


def _restart_request(name: str, value: Any) -> RestartRequest | None:
    if not isinstance(value, dict):
        log.error("Ignoring restart request because the value is not a Map")
        return None
    only_failed, include_tasks = value.get("only-failed"), value.get("include-tasks")
    return RestartRequest(
        name,
        only_failed if isinstance(only_failed, bool) else False,
        include_tasks if isinstance(include_tasks, bool) else False,
    )
