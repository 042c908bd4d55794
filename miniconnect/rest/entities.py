"""JSON shapes of Connect's REST entities, fields in the order the Java worker writes them."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ..runtime.herder import ConnectorInfo, ConnectorStateInfo, StateInfo, TaskInfo, TaskStateInfo
from ..runtime.loggers import LoggerLevel
from ..runtime.states import TaskId


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def empty_response(status: int) -> Response:
    """202/204: no body and no content type."""
    return Response(None, status)


def task_id(t: TaskId) -> dict[str, Any]:
    return {"connector": t.connector, "task": t.task}


def connector_info(i: ConnectorInfo) -> dict[str, Any]:
    return {"name": i.name, "config": i.config, "tasks": [task_id(t) for t in i.tasks], "type": i.type}


def connector_state(s: StateInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"state": s.state, "worker_id": s.worker_id, "version": s.version}
    if s.trace:
        out["trace"] = s.trace
    return out


def task_state(s: TaskStateInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"id": s.id, "state": s.state, "worker_id": s.worker_id, "version": s.version}
    if s.trace:
        out["trace"] = s.trace
    return out


def connector_state_info(s: ConnectorStateInfo) -> dict[str, Any]:
    return {
        "name": s.name,
        "connector": connector_state(s.connector),
        "tasks": [task_state(t) for t in s.tasks],
        "type": s.type,
    }


def task_info(t: TaskInfo) -> dict[str, Any]:
    return {"id": task_id(t.id), "config": t.config}


def logger_level(level: LoggerLevel) -> dict[str, Any]:
    return {"level": level.level, "last_modified": level.last_modified}
