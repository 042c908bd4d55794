"""The Herder: what the REST API calls. Decides what runs (the Worker runs it); shared logic of every mode.

Like Kafka's Herder + AbstractHerder: the abstract operations each mode implements (configs, target states,
restarts, offset changes), and what every mode does the same way (statuses from the status store, topic
tracking, plugin listing and config validation, loggers, reading offsets).
"""

from __future__ import annotations

import inspect
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.validation import invalid_config_message, validate_connector_config
from ..connector import SinkConnector, TopicPartition
from ..errors import BadRequest, ConnectError, Forbidden, NotFound
from ..plugins import PluginNotFound
from ..storage.offsets import FileOffsetStore, partition_key
from ..storage.status import MemoryStatusStore, Status
from ..transport.base import GroupNotEmpty, Transport
from .loggers import LoggerLevel, Loggers
from .runner import format_trace
from .sink_task import sink_group_id
from .states import State, TargetState, TaskId

log = logging.getLogger(__name__)

# (partition, offset) pairs as sent in a PATCH /offsets body; either side may be None
OffsetEntries = list[tuple[dict[str, Any] | None, dict[str, Any] | None]]


# -- what the herder answers with (Connect's REST entities, before JSON shaping) ------------------------
@dataclass(slots=True)
class ConnectorInfo:
    name: str
    config: dict[str, str]
    tasks: list[TaskId]
    type: str  # "source", "sink" or "unknown"


@dataclass(slots=True)
class StateInfo:
    state: str
    worker_id: str
    trace: str | None = None
    version: str | None = None  # the plugin's version (4.1, KIP-891)


@dataclass(slots=True)
class TaskStateInfo:
    id: int
    state: str
    worker_id: str
    trace: str | None = None
    version: str | None = None


@dataclass(slots=True)
class ConnectorStateInfo:
    name: str
    connector: StateInfo
    tasks: list[TaskStateInfo]
    type: str


@dataclass(slots=True)
class TaskInfo:
    id: TaskId
    config: dict[str, str]


@dataclass(slots=True)
class Created:
    created: bool
    info: ConnectorInfo


@dataclass(slots=True)
class RestartPlan:
    """Which instances a restart request covers, and the answer showing them RESTARTING (Kafka's RestartPlan)."""

    answer: ConnectorStateInfo
    restart_connector: bool
    tasks: list[TaskId]


def patched_config(current: Mapping[str, str], patch: Mapping[str, str | None]) -> dict[str, str]:
    """ConnectUtils.patchConfig: null removes a key, anything else sets it."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def check_offsets_modifiable(name: str, target: TargetState | None, task_count: int) -> None:
    """Kafka's precondition for PATCH/DELETE offsets: the connector is STOPPED and has no task configs."""
    if target != TargetState.STOPPED or task_count:
        raise BadRequest(
            f"Connectors must be in the STOPPED state before their offsets can be modified. This "
            f"can be done for the specified connector by issuing a 'PUT' request to the "
            f"'/connectors/{name}/stop' endpoint"
        )


def _offsets_message(hook_result: bool, verb: str) -> str:
    if hook_result:
        return f"The offsets for this connector have been {verb} successfully"
    return (
        f"The Connect framework-managed offsets for this connector have been {verb} successfully. However, if "
        f"this connector manages offsets externally, they will need to be manually {verb} in the system that "
        f"the connector uses."
    )


def _zombie_message(name: str, verb: str) -> str:
    return (
        f"Failed to {verb} consumer group offsets for connector {name} either because its tasks haven't stopped "
        f"completely yet or the connector was resumed before the request to {verb} its offsets could be "
        f"successfully completed. If the connector is in a stopped state, this operation can be safely retried. "
        f"If it doesn't eventually succeed, the Connect cluster may need to be restarted to get rid of the "
        f"zombie sink tasks."
    )


def _java_str(v: Any) -> str:
    """String.valueOf of a JSON value, as Kafka prints values in its offset error messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


_JAVA_INT = re.compile(r"[+-]?[0-9]+")


def _parse_java_int(v: Any, bits: int) -> int | None:
    """Integer.parseInt / Long.parseLong of String.valueOf(v): "10" and 10 parse, 10.0 and "x" do not."""
    text = _java_str(v)
    if not _JAVA_INT.fullmatch(text):
        return None
    n = int(text)
    return n if -(1 << (bits - 1)) <= n < (1 << (bits - 1)) else None


def parse_sink_offsets(entries: OffsetEntries) -> dict[TopicPartition, int | None]:
    """Kafka's SinkUtils.parseSinkConnectorOffsets, with its exact error texts."""
    parsed: dict[TopicPartition, int | None] = {}
    for partition, offset in entries:
        if partition is None:
            raise BadRequest("The partition for a sink connector offset cannot be null or missing")
        if "kafka_topic" not in partition or "kafka_partition" not in partition:
            raise BadRequest(
                "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"
            )
        if partition["kafka_topic"] is None:
            raise BadRequest("Kafka topic names must be valid strings and may not be null")
        if partition["kafka_partition"] is None:
            raise BadRequest("Kafka partitions must be valid numbers and may not be null")
        number = _parse_java_int(partition["kafka_partition"], 32)
        if number is None:
            raise BadRequest(
                f"Failed to parse the following Kafka partition value in the provided offsets: "
                f"'{_java_str(partition['kafka_partition'])}'. Partition values for sink connectors "
                f"need to be integers."
            )
        tp = TopicPartition(_java_str(partition["kafka_topic"]), number)
        if offset is None:
            parsed[tp] = None  # reset this partition
            continue
        if "kafka_offset" not in offset:
            raise BadRequest("The offset for a sink connector should either be null or contain the key 'kafka_offset'")
        value = _parse_java_int(offset["kafka_offset"], 64)
        if value is None:
            raise BadRequest(
                f"Failed to parse the following Kafka offset value in the provided offsets: "
                f"'{_java_str(offset['kafka_offset'])}'. Offset values for sink connectors need to be "
                f"integers."
            )
        parsed[tp] = value
    return parsed


def _check_offset_map(data: Mapping[str, Any] | None) -> None:
    """Kafka's OffsetUtils.validateFormat: source partitions and offsets hold primitive values only."""
    if data is None:
        return
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConnectError(f"Offsets may only contain primitive types as values, but field {key} contains MAP")
        if isinstance(value, list):
            raise ConnectError(f"Offsets may only contain primitive types as values, but field {key} contains ARRAY")


def parse_source_offsets(entries: OffsetEntries) -> dict[str, dict[str, Any] | None]:
    """Source offsets keyed by the canonical partition key the offset store uses."""
    parsed: dict[str, dict[str, Any] | None] = {}
    for partition, offset in entries:
        if partition is None:
            raise BadRequest("The partition for a source connector offset cannot be null or missing")
        _check_offset_map(partition)
        _check_offset_map(offset)
        parsed[partition_key(partition)] = offset
    return parsed


class Herder(ABC):
    """The operations behind the REST API, and the StatusListener the Worker reports to."""

    def __init__(self, config: Any, worker: Any, plugins: Any, transport: Transport, offsets: FileOffsetStore):
        self.config = config
        self.worker = worker
        self.plugins = plugins
        self.transport = transport
        self.offsets = offsets
        self.status = MemoryStatusStore()
        self.loggers = Loggers()
        self._cluster_id: str | None = None
        worker.listener = self

    # -- lifecycle ----------------------------------------------------------------------------------
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @property
    @abstractmethod
    def ready(self) -> bool:
        """True once start() finished: stored connectors were started and requests are served normally."""

    @abstractmethod
    async def health_check(self) -> None:
        """Returns when the herder can handle a request (the caller bounds the wait)."""

    async def kafka_cluster_id(self) -> str | None:
        if self._cluster_id is None:
            try:
                self._cluster_id = await self.transport.cluster_id()
            except Exception as e:
                log.warning("Could not look up the cluster id: %s", e)
        return self._cluster_id

    # -- connector configs and state (mode specific) ----------------------------------------------
    @abstractmethod
    def connectors(self) -> list[str]: ...

    @abstractmethod
    def connector_info(self, name: str) -> ConnectorInfo:
        """Raises NotFound `Connector X not found`."""

    @abstractmethod
    def connector_config(self, name: str) -> dict[str, str]: ...

    @abstractmethod
    async def put_connector_config(
        self, name: str, config: dict[str, str], allow_replace: bool, initial_state: TargetState | None = None
    ) -> Created: ...

    @abstractmethod
    async def patch_connector_config(self, name: str, patch: Mapping[str, str | None]) -> ConnectorInfo: ...

    @abstractmethod
    async def delete_connector(self, name: str) -> None: ...

    @abstractmethod
    async def restart_connector(self, name: str) -> None: ...

    @abstractmethod
    async def restart_connector_and_tasks(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> ConnectorStateInfo: ...

    @abstractmethod
    async def pause_connector(self, name: str) -> None: ...

    @abstractmethod
    async def resume_connector(self, name: str) -> None: ...

    @abstractmethod
    async def stop_connector(self, name: str) -> None: ...

    @abstractmethod
    def task_configs(self, name: str) -> list[TaskInfo]: ...

    @abstractmethod
    async def restart_task(self, task: TaskId) -> None: ...

    @abstractmethod
    async def alter_connector_offsets(self, name: str, entries: OffsetEntries) -> str: ...

    @abstractmethod
    async def reset_connector_offsets(self, name: str) -> str: ...

    @abstractmethod
    def raw_config(self, name: str) -> dict[str, str] | None:
        """The stored config, or None for an unknown connector."""

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        """Internal endpoint (distributed mode only)."""
        raise ConnectError("Kafka Connect in standalone mode does not support externally setting task configurations.")

    async def fence_zombies(self, name: str) -> None:
        """Internal endpoint (distributed mode only)."""
        raise ConnectError("Kafka Connect in standalone mode does not support exactly-once source connectors.")

    # -- statuses (StatusListener) ------------------------------------------------------------------
    @property
    def worker_id(self) -> str:
        return self.worker.worker_id

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None:
        if self.raw_config(connector) is None:
            return  # a late report about a deleted connector
        self.status.put_connector(connector, self.reported(state, trace, self.worker.connector_version(connector)))

    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None:
        if self.raw_config(task.connector) is None:
            return
        self.status.put_task(task, self.reported(state, trace, self.worker.task_version(task)))

    def reported(self, state: State, trace: str | None, version: str | None) -> Status:
        """A status as this worker writes it: with the version of the plugin instance it runs (AbstractHerder's
        onStartup/onFailure/... take Worker.connectorVersion/taskVersion: null when none is running)."""
        return Status(state, self.worker_id, trace, version=version)

    def on_topic_used(self, connector: str, topic: str, task: int = 0) -> None:
        if self.config["topic.tracking.enable"] and self.raw_config(connector) is not None:
            self.status.add_topic(connector, topic, task)

    def on_reconfigure_request(self, connector: str) -> None:
        """Mode specific: regenerate the connector's task configs."""

    def connector_type(self, config: Mapping[str, str] | None) -> str:
        if not config or not config.get("connector.class"):
            return "unknown"
        try:
            return self.plugins.connector_type(config["connector.class"])
        except Exception:
            return "unknown"

    def connector_status(self, name: str) -> ConnectorStateInfo:
        status = self.status.get_connector(name)
        if status is None:
            raise NotFound(f"No status found for connector {name}")
        # Versions as the worker that runs each one reported them (null where it could not load the plugin).
        tasks = [TaskStateInfo(n, s.state.value, s.worker_id, s.trace, s.version) for n, s in self.status.tasks(name)]
        return ConnectorStateInfo(
            name,
            StateInfo(status.state.value, status.worker_id, status.trace, status.version),
            tasks,
            self.connector_type(self.raw_config(name)),
        )

    def task_status(self, task: TaskId) -> TaskStateInfo:
        status = self.status.get_task(task)
        if status is None:
            raise NotFound(f"No status found for task {task}")
        return TaskStateInfo(task.task, status.state.value, status.worker_id, status.trace, status.version)

    def restart_plan(self, name: str, include_tasks: bool, only_failed: bool) -> RestartPlan:
        """AbstractHerder.buildRestartPlan from the current statuses; NotFound without a connector status."""
        status = self.status.get_connector(name)
        if status is None:
            raise NotFound(f"Status for connector {name} not found")
        restart_connector = not only_failed or status.state == State.FAILED
        task_states = self.status.tasks(name)
        restart_ids = [
            TaskId(name, n) for n, s in task_states if include_tasks and (not only_failed or s.state == State.FAILED)
        ]
        answer = ConnectorStateInfo(
            name,
            StateInfo(
                State.RESTARTING.value if restart_connector else status.state.value,
                status.worker_id,
                status.trace,
                status.version,
            ),
            [
                TaskStateInfo(
                    n,
                    State.RESTARTING.value if TaskId(name, n) in restart_ids else s.state.value,
                    s.worker_id,
                    s.trace,
                    s.version,
                )
                for n, s in task_states
            ],
            self.connector_type(self.raw_config(name)),
        )
        return RestartPlan(answer, restart_connector, restart_ids)

    async def generate_task_configs(self, name: str) -> list[dict[str, str]] | None:
        """The running connector's task configs; None when it failed to give them (it is then FAILED)."""
        try:
            return await self.worker.task_configs(name)
        except Exception as e:
            log.error("Failed to generate task configs for connector %s", name, exc_info=e)
            self.on_connector_state(name, State.FAILED, format_trace(e))
            return None

    # -- topic tracking -----------------------------------------------------------------------------
    def connector_active_topics(self, name: str) -> list[str]:
        if not self.config["topic.tracking.enable"]:
            raise Forbidden("Topic tracking is disabled.")
        return self.status.topics(name)

    async def reset_connector_active_topics(self, name: str) -> None:
        if not self.config["topic.tracking.enable"]:
            raise Forbidden("Topic tracking is disabled.")
        if not self.config["topic.tracking.allow.reset"]:
            raise Forbidden("Topic tracking reset is disabled.")
        self.status.reset_topics(name)

    # -- offsets ------------------------------------------------------------------------------------
    def _require_config(self, name: str) -> dict[str, str]:
        config = self.raw_config(name)
        if config is None:
            raise NotFound(f"Connector {name} not found")
        return config

    async def connector_offsets(self, name: str) -> list[dict[str, Any]]:
        """[{"partition": ..., "offset": ...}] in any state: the source offset store or the sink's group."""
        config = self._require_config(name)
        cls = self.plugins.resolve_connector(config.get("connector.class", ""))
        if issubclass(cls, SinkConnector):
            try:
                committed = await self.transport.committed_offsets(sink_group_id(name, config))
            except Exception as e:
                raise ConnectError(f"Failed to retrieve consumer group offsets for sink connector {name}") from e
            return [
                {
                    "partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
                    "offset": {"kafka_offset": offset},
                }
                for tp, offset in sorted(committed.items())
            ]
        try:
            await self.offsets.refresh()  # another worker of a cluster may have written some since
            return [{"partition": p, "offset": o} for p, o in self.offsets.all(name)]
        except Exception as e:
            raise ConnectError(f"Failed to retrieve offsets for source connector {name}") from e

    async def _modify_offsets(self, name: str, config: dict[str, str], entries: OffsetEntries | None) -> str:
        """Alter (entries given) or reset (None) offsets of a stopped connector; the mode checked the state."""
        verb = "altered" if entries is not None else "reset"
        cls = self.plugins.resolve_connector(config.get("connector.class", ""))
        connector = cls()
        if issubclass(cls, SinkConnector):
            group = sink_group_id(name, config)
            if entries is not None:
                sink_offsets = parse_sink_offsets(entries)
            else:
                sink_offsets = {tp: None for tp in await self.transport.committed_offsets(group)}
            result = await self._alter_offsets_hook(name, connector, config, sink_offsets)
            try:
                if entries is not None:
                    await self.transport.alter_committed_offsets(group, sink_offsets)
                else:
                    await self.transport.delete_group(group)
            except GroupNotEmpty as e:
                raise ConnectError(_zombie_message(name, "alter" if entries is not None else "reset")) from e
        else:
            if entries is not None:
                source_offsets = parse_source_offsets(entries)
            else:
                await self.offsets.refresh()
                source_offsets = {partition_key(p): None for p, _ in self.offsets.all(name)}
            result = await self._alter_offsets_hook(name, connector, config, source_offsets)
            if entries is not None:
                await self.offsets.put(name, source_offsets)
            else:
                await self.offsets.delete_connector(name)
        return _offsets_message(result, verb)

    @staticmethod
    async def _alter_offsets_hook(name: str, connector: Any, config: dict[str, str], offsets: Any) -> bool:
        try:
            result = connector.alter_offsets(dict(config), offsets)
            if inspect.isawaitable(result):
                result = await result
        except NotImplementedError as e:
            raise ConnectError(
                f"Failed to modify offsets for connector {name} because it doesn't support external "
                f"modification of offsets"
            ) from e
        return bool(result)

    # -- plugins and validation ---------------------------------------------------------------------
    def connector_plugins(self, connectors_only: bool) -> list[dict[str, Any]]:
        return self.plugins.plugin_infos(connectors_only)

    def connector_plugin_config(self, plugin: str, version: str | None = None) -> list[dict[str, Any]]:
        return self.plugins.plugin_config(plugin, version)

    def validate_connector_config(self, config: Mapping[str, str | None]) -> dict[str, Any]:
        """ConfigInfos for /config/validate (200 even with errors), of the config with its variables resolved
        (AbstractHerder.validateConnectorConfig)."""
        try:
            cls = self.plugins.resolve_connector(config.get("connector.class") or "")
        except ConnectError:
            cls = None  # reported by the validation itself
        return validate_connector_config(self.plugins, self.worker.transform(dict(config), cls), self.config)

    def _validate_or_raise(self, config: Mapping[str, str | None]) -> None:
        """Create/update: a missing class or an unknown class or any invalid value is a 400."""
        try:
            infos = self.validate_connector_config(config)
        except PluginNotFound as e:
            # Kafka 4.1's 400 carries the wrapped exception's Java text
            raise BadRequest(f"org.apache.kafka.connect.errors.ConnectException: {e}") from e
        message = invalid_config_message(infos)
        if message:
            raise BadRequest(message)

    # -- loggers ------------------------------------------------------------------------------------
    def all_logger_levels(self) -> dict[str, LoggerLevel]:
        return self.loggers.all_levels()

    def logger_level(self, name: str) -> LoggerLevel:
        level = self.loggers.level(name)
        if level is None:
            raise NotFound(f"Logger {name} not found.")
        return level

    def set_worker_logger_level(self, namespace: str, level: str) -> list[str]:
        return self.loggers.set_level(namespace, level)

    def set_cluster_logger_level(self, namespace: str, level: str) -> None:
        """Standalone: the cluster is this worker."""
        self.loggers.set_level(namespace, level)
