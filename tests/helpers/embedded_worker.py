"""An in-process worker on an embedded log in a temp dir, for tests that drive a sink connector record by record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from miniconnect.config.worker_config import WorkerConfig
from miniconnect.plugins import Plugins
from miniconnect.runtime.worker import Worker
from miniconnect.storage.offsets import FileOffsetStore
from miniconnect.transport.embedded import EmbeddedLog


class Listener:
    def on_connector_state(self, *args: Any) -> None: ...
    def on_task_state(self, *args: Any) -> None: ...
    def on_topic_used(self, *args: Any) -> None: ...
    def on_reconfigure_request(self, *args: Any) -> None: ...


async def eventually(check: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def embedded_worker(tmp_path: Path, connector: type, partitions: int = 1) -> AsyncIterator[Any]:
    """An in-process worker on an embedded log (max.poll.records 100, commits every 100 ms) with `connector`."""
    config = WorkerConfig(
        {
            "offset.storage.file.filename": str(tmp_path / "offsets"),
            "embedded.log.dir": str(tmp_path / "log"),
            "offset.flush.interval.ms": "100",
            "consumer.max.poll.records": "100",
        }
    )
    plugins = Plugins(config)
    plugins.register(connector)
    log = EmbeddedLog(str(tmp_path / "log"), default_partitions=partitions)
    offsets = FileOffsetStore(str(tmp_path / "offsets"))
    await log.start()
    await offsets.start()
    worker = Worker(config, plugins, log, offsets, Listener())
    await worker.start()
    try:
        yield worker, log
    finally:
        await worker.stop()
        await log.stop()
