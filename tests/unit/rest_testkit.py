"""Shared by the REST tests: small test connectors and a real worker + StandaloneHerder + app over ASGI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from miniconnect.config.configdef import ConfigDef, ConfigType, Importance
from miniconnect.config.worker_config import WorkerConfig
from miniconnect.connector import SinkConnector, SinkTask, SourceConnector, SourceTask
from miniconnect.plugins import Plugins
from miniconnect.rest.app import create_app
from miniconnect.runtime.standalone import StandaloneHerder
from miniconnect.runtime.worker import Worker
from miniconnect.storage.offsets import FileOffsetStore
from miniconnect.transport.embedded import EmbeddedLog


class IdleSourceTask(SourceTask):
    class_name = "test.IdleSourceTask"

    async def start(self, props: dict[str, str]) -> None:
        if props.get("fail.task") == "true":
            raise RuntimeError("task start failed on purpose")

    async def poll(self) -> list[Any] | None:
        await self.context.wait(0.05)
        return None


class IdleSourceConnector(SourceConnector):
    """A source that emits nothing; one task config per task, carrying its index and `value`."""

    class_name = "test.IdleSourceConnector"
    task_class = IdleSourceTask
    config_def = ConfigDef().define("value", ConfigType.STRING, "v", None, Importance.LOW, "Copied to the tasks.")
    altered: list[Any] = []

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [
            {"index": str(i), "value": self.props.get("value", "v"), "fail.task": self.props.get("fail.task", "false")}
            for i in range(max_tasks)
        ]

    async def alter_offsets(self, connector_config: Any, offsets: Any) -> bool:
        IdleSourceConnector.altered.append(dict(offsets))
        return connector_config.get("manages.offsets") == "true"


class NullSinkTask(SinkTask):
    class_name = "test.NullSinkTask"

    async def start(self, props: dict[str, str]) -> None:
        pass

    async def put(self, records: list[Any]) -> None:
        pass


class NullSinkConnector(SinkConnector):
    class_name = "test.NullSinkConnector"
    task_class = NullSinkTask

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{} for _ in range(max_tasks)]


class BrokenSourceConnector(SourceConnector):
    """start() raises: the connector is FAILED and creation answers 500 (standalone)."""

    class_name = "test.BrokenSourceConnector"
    task_class = IdleSourceTask

    async def start(self, props: dict[str, str]) -> None:
        raise RuntimeError("connector start failed on purpose")

    async def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return []


class NoOffsetsSourceConnector(IdleSourceConnector):
    class_name = "test.NoOffsetsSourceConnector"

    async def alter_offsets(self, connector_config: Any, offsets: Any) -> bool:
        raise NotImplementedError


class SlowStartSourceConnector(IdleSourceConnector):
    """start() waits until the test opens its gate (as a JDBC start() waits on an unreachable database), then fails
    if `fail.start` is true. `gates` and `cancelled` are keyed by connector name."""

    class_name = "test.SlowStartSourceConnector"
    gates: dict[str, asyncio.Event] = {}
    cancelled: set[str] = set()

    async def start(self, props: dict[str, str]) -> None:
        await super().start(props)
        try:
            await self.gates.setdefault(props["name"], asyncio.Event()).wait()
        except asyncio.CancelledError:
            self.cancelled.add(props["name"])
            raise
        if props.get("fail.start") == "true":
            raise ConnectionRefusedError("could not reach the system on purpose")


TEST_CONNECTORS = [
    IdleSourceConnector,
    NullSinkConnector,
    BrokenSourceConnector,
    NoOffsetsSourceConnector,
    SlowStartSourceConnector,
]


def worker_config(tmp: Path, **overrides: Any) -> WorkerConfig:
    props = {
        "offset.storage.file.filename": str(tmp / "offsets.json"),
        "listeners": "http://127.0.0.1:8083",
        "task.shutdown.graceful.timeout.ms": "2000",
    }
    props.update({k.replace("_", "."): v for k, v in overrides.items()})
    return WorkerConfig(props)


class Env:
    def __init__(
        self,
        config: WorkerConfig,
        herder: StandaloneHerder,
        client: httpx.AsyncClient,
        transport: EmbeddedLog,
        offsets: FileOffsetStore,
    ):
        self.config, self.herder, self.client, self.transport, self.offsets = config, herder, client, transport, offsets

    async def wait_for(self, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = check()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.02)

    async def status(self, name: str) -> dict[str, Any]:
        r = await self.client.get(f"/connectors/{name}/status")
        return r.json() if r.status_code == 200 else {}

    async def wait_state(self, name: str, connector: str, tasks: list[str] | None = None) -> dict[str, Any]:
        last: dict[str, Any] = {}
        for _ in range(250):
            last = await self.status(name)
            if last.get("connector", {}).get("state") == connector and (
                tasks is None or [t["state"] for t in last["tasks"]] == tasks
            ):
                return last
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name} did not reach {connector} {tasks}: {last}")


@asynccontextmanager
async def rest_env(
    tmp: Path, start: bool = True, herder_factory: Callable[..., Any] = StandaloneHerder, **overrides: Any
) -> AsyncIterator[Env]:
    """A herder (standalone unless `herder_factory` builds another from config, worker, plugins, transport,
    offsets) behind the REST app, on the embedded log in `tmp`."""
    config = worker_config(tmp, **overrides)
    plugins = Plugins(config)
    for cls in TEST_CONNECTORS:
        plugins.register(cls)
    transport = EmbeddedLog(str(tmp / "log"))
    offsets = FileOffsetStore(str(tmp / "offsets.json"))
    await transport.start()
    await offsets.start()
    worker = Worker(config, plugins, transport, offsets)
    await worker.start()
    herder = herder_factory(config, worker, plugins, transport, offsets)
    app = create_app(herder, config)
    try:
        if start:
            await herder.start()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield Env(config, herder, client, transport, offsets)
    finally:
        await herder.stop()
        await offsets.stop()
        await transport.stop()


def source_config(**extra: str) -> dict[str, str]:
    return {"connector.class": "IdleSource", "tasks.max": "2", **extra}


def sink_config(**extra: str) -> dict[str, str]:
    return {"connector.class": "NullSink", "tasks.max": "1", "topics": "t1", **extra}
