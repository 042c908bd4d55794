"""Status store: the last reported state of every connector and task, and the topics each connector used."""

from __future__ import annotations

from dataclasses import dataclass

from ..runtime.states import State, TaskId


@dataclass(slots=True)
class Status:
    """One connector's or task's state as reported by the worker that runs it."""

    state: State
    worker_id: str
    trace: str | None = None
    generation: int | None = None  # the group generation the worker reported it in (distributed mode)
    version: str | None = None  # the connector's or task's plugin version (Kafka 4.1 status records carry it)


class MemoryStatusStore:
    """Standalone mode's status backing store: in memory, rebuilt from worker reports after a restart."""

    def __init__(self) -> None:
        self._connectors: dict[str, Status] = {}
        self._tasks: dict[str, dict[int, Status]] = {}
        self._topics: dict[str, dict[str, None]] = {}  # dict as an insertion-ordered set

    # -- connectors and tasks --------------------------------------------------------------------
    def put_connector(self, name: str, status: Status) -> None:
        self._connectors[name] = status

    def get_connector(self, name: str) -> Status | None:
        return self._connectors.get(name)

    def put_task(self, task: TaskId, status: Status) -> None:
        self._tasks.setdefault(task.connector, {})[task.task] = status

    def get_task(self, task: TaskId) -> Status | None:
        return self._tasks.get(task.connector, {}).get(task.task)

    def tasks(self, connector: str) -> list[tuple[int, Status]]:
        """(task number, status) sorted by task number."""
        return sorted(self._tasks.get(connector, {}).items())

    def remove_task(self, task: TaskId) -> None:
        tasks = self._tasks.get(task.connector)
        if tasks is not None:
            tasks.pop(task.task, None)
            if not tasks:
                del self._tasks[task.connector]

    def remove_connector(self, name: str) -> None:
        """Forget the connector, its tasks and its topics (the connector was deleted)."""
        self._connectors.pop(name, None)
        self._tasks.pop(name, None)
        self._topics.pop(name, None)

    # -- topic tracking (KIP-558) -----------------------------------------------------------------
    def add_topic(self, connector: str, topic: str, task: int = 0) -> None:
        self._topics.setdefault(connector, {})[topic] = None

    def topics(self, connector: str) -> list[str]:
        return sorted(self._topics.get(connector, ()))

    def reset_topics(self, connector: str) -> None:
        self._topics.pop(connector, None)
