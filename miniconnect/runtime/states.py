"""Connector and task states, target states and task ids, with Connect's names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class State(str, Enum):
    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"


class TargetState(str, Enum):
    STARTED = "STARTED"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


@dataclass(frozen=True, order=True)
class TaskId:
    connector: str
    task: int

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"


class StatusListener(Protocol):
    """How the worker reports what happens to connectors and tasks (the herder implements it)."""

    def on_connector_state(self, connector: str, state: State, trace: str | None = None) -> None: ...

    def on_task_state(self, task: TaskId, state: State, trace: str | None = None) -> None: ...

    def on_topic_used(self, connector: str, topic: str, task: int = 0) -> None:
        """Task `task` of the connector produced to or consumed from this topic for the first time (topic
        tracking, KIP-558)."""

    def on_reconfigure_request(self, connector: str) -> None:
        """The connector asked for its task configs to be generated again."""
