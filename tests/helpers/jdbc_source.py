"""Shared harness for the JDBC source tests: drive JdbcSourceTask directly with a real FileOffsetStore, committing
each polled batch's offsets the way the worker does after the log accepts the records."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from miniconnect_plugins.jdbc.source import JdbcSourceConnector, JdbcSourceTask

from miniconnect.connector import OffsetStorageReader, SourceConnectorContext, SourceTaskContext
from miniconnect.storage.offsets import FileOffsetStore, partition_key


class StoreReader(OffsetStorageReader):
    def __init__(self, store: FileOffsetStore, connector: str):
        self.store, self.connector = store, connector

    async def offsets(self, partitions: list[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        return self.store.get(self.connector, list(partitions))


class Harness:
    """One connector's tasks over one offset file."""

    def __init__(self, path: str, name: str = "src"):
        self.store = FileOffsetStore(path)
        self.name = name
        self.tasks: list[JdbcSourceTask] = []

    async def __aenter__(self) -> Harness:
        await self.store.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def start_task(self, config: dict[str, Any], task_id: int = 0) -> JdbcSourceTask:
        task = JdbcSourceTask()
        props = {k: str(v) for k, v in config.items()}
        task.context = SourceTaskContext(self.name, task_id, props, StoreReader(self.store, self.name))
        await task.start(props)
        self.tasks.append(task)
        return task

    async def stop(self) -> None:
        for t in self.tasks:
            t.context.stopping.set()
            await t.stop()
        self.tasks.clear()

    async def restart(self, config: dict[str, Any]) -> JdbcSourceTask:
        await self.stop()
        return await self.start_task(config)

    async def poll(
        self, task: JdbcSourceTask, want: int | None = None, timeout: float = 5.0, quiet: float = 0.6
    ) -> list[Any]:
        """Polls until `want` records arrived (then a short quiet period to catch extras) or the timeout."""
        out: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet_until = None
        while loop.time() < deadline:
            batch = await task.poll()
            if batch:
                out += batch
                await self.commit(batch)
            if want is not None and len(out) >= want:
                quiet_until = quiet_until or loop.time() + quiet
                if loop.time() >= quiet_until:
                    break
        return out

    async def commit(self, batch: list[Any]) -> None:
        offsets = {}
        for r in batch:
            if r.source_offset is not None:
                offsets[partition_key(r.source_partition)] = r.source_offset
        await self.store.put(self.name, offsets)

    def stored(self) -> list[tuple[dict, dict]]:
        return self.store.all(self.name)


async def connector_for(config: dict[str, Any], name: str = "src") -> JdbcSourceConnector:
    c = JdbcSourceConnector()
    c.context = SourceConnectorContext(name, None)  # type: ignore[arg-type]
    await c.start({k: (str(v) if not isinstance(v, str) else v) for k, v in config.items()})
    return c


def values(records: list[Any], field: str = "id") -> list[Any]:
    return [r.value.get(field) for r in records]
