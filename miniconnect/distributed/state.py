"""What the config topic says at one offset: Kafka Connect's ClusterConfigState, shared by the herder and assignor."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..runtime.states import TargetState, TaskId


@dataclass(frozen=True, slots=True)
class SessionKey:
    """The key that signs inter-worker requests in the `sessioned` protocol (the config topic's `session-key`)."""

    key: bytes
    algorithm: str
    creation_timestamp: int


@dataclass(slots=True)
class ClusterConfigState:
    """A snapshot of the config topic read up to `offset` (-1: nothing read yet)."""

    offset: int = -1
    session_key: SessionKey | None = None
    connector_task_counts: dict[str, int] = field(default_factory=dict)
    connector_configs: dict[str, dict[str, str]] = field(default_factory=dict)
    connector_target_states: dict[str, TargetState] = field(default_factory=dict)
    task_configs: dict[TaskId, dict[str, str]] = field(default_factory=dict)
    # Connectors whose task configs were written without a matching commit record (Kafka skips them).
    inconsistent_connectors: set[str] = field(default_factory=set)
    # KIP-618 / restart bookkeeping: generation of each connector's task configs, and task-count records.
    connector_task_config_generations: dict[str, int] = field(default_factory=dict)
    connector_task_count_records: dict[str, int] = field(default_factory=dict)

    def connectors(self) -> list[str]:
        return sorted(self.connector_configs)

    def contains(self, connector: str) -> bool:
        return connector in self.connector_configs

    def task_count(self, connector: str) -> int:
        return self.connector_task_counts.get(connector, 0)

    def tasks(self, connector: str) -> list[TaskId]:
        if connector in self.inconsistent_connectors:
            return []
        return [TaskId(connector, i) for i in range(self.task_count(connector))]

    def target_state(self, connector: str) -> TargetState | None:
        if connector not in self.connector_configs:
            return None
        return self.connector_target_states.get(connector, TargetState.STARTED)
