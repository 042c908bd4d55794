"""JsonLinesSinkConnector: appends every record's value to a file as one JSON line, durable at each flush.

The shape of every sink connector: put() receives batches of SinkRecords and may buffer them; flush() must make
everything received so far durable, because the worker commits the consumed offsets right after it returns.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from miniconnect.api import (
    ConfigDef,
    ConfigType,
    Importance,
    SinkConnector,
    SinkRecord,
    SinkTask,
    Struct,
    TopicPartition,
    non_empty_string,
)

FILE_CONFIG = "file"


def _plain(value: Any) -> Any:
    """A Connect value as JSON-ready data (Structs become objects)."""
    if isinstance(value, Struct):
        return {k: _plain(v) for k, v in value.as_dict().items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _append(path: str, lines: list[str]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(lines)
        f.flush()
        os.fsync(f.fileno())


class JsonLinesSinkTask(SinkTask):
    async def start(self, props: dict[str, str]) -> None:
        self.path = props[FILE_CONFIG]
        self.pending: list[str] = []

    async def put(self, records: list[SinkRecord]) -> None:
        self.pending.extend(json.dumps(_plain(r.value), sort_keys=True) + "\n" for r in records)

    async def flush(self, current_offsets: dict[TopicPartition, int]) -> None:
        if not self.pending:
            return
        await asyncio.to_thread(_append, self.path, self.pending)  # file I/O off the event loop
        self.pending.clear()

    async def stop(self) -> None:
        self.pending.clear()  # not flushed means not committed: the records are delivered again


class JsonLinesSinkConnector(SinkConnector):
    task_class = JsonLinesSinkTask
    config_def = ConfigDef().define(
        FILE_CONFIG,
        ConfigType.STRING,
        validator=non_empty_string(),
        importance=Importance.HIGH,
        documentation="The file the JSON lines are appended to.",
    )

    async def task_configs(self, max_tasks: int) -> list[dict[str, Any]]:
        return [dict(self.props)]  # one file, one writer
