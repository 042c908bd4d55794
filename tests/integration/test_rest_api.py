"""The REST server on real sockets (uvicorn in this event loop): listeners, admin listeners, and connectors
created through REST surviving a worker restart through the config store."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent.parent / "unit"))

from rest_testkit import TEST_CONNECTORS, source_config, worker_config

from miniconnect.plugins import Plugins
from miniconnect.rest.server import RestServer
from miniconnect.runtime.standalone import StandaloneHerder
from miniconnect.runtime.worker import Worker
from miniconnect.storage.offsets import FileOffsetStore
from miniconnect.transport.embedded import EmbeddedLog


class Process:
    """A standalone worker as the CLI wires it, inside this event loop."""

    def __init__(self, tmp: Path, **overrides: str):
        self.config = worker_config(tmp, **overrides)
        plugins = Plugins(self.config)
        for cls in TEST_CONNECTORS:
            plugins.register(cls)
        self.transport = EmbeddedLog(str(tmp / "log"))
        self.offsets = FileOffsetStore(str(tmp / "offsets.json"))
        self.worker = Worker(self.config, plugins, self.transport, self.offsets)
        self.herder = StandaloneHerder(self.config, self.worker, plugins, self.transport, self.offsets)
        self.rest = RestServer(self.herder, self.config)

    async def start(self) -> None:
        await self.transport.start()
        await self.offsets.start()
        await self.worker.start()
        await self.rest.start()
        await self.herder.start()

    async def stop(self) -> None:
        await self.rest.stop()
        await self.herder.stop()
        await self.herder.stop()  # safe twice
        await self.offsets.stop()
        await self.transport.stop()


async def _wait_state(client: httpx.AsyncClient, name: str, state: str, tasks: list[str]) -> None:
    import asyncio

    for _ in range(250):
        r = await client.get(f"/connectors/{name}/status")
        if (
            r.status_code == 200
            and r.json()["connector"]["state"] == state
            and [t["state"] for t in r.json()["tasks"]] == tasks
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name}: {r.status_code} {r.text}")


async def test_connectors_survive_restart_over_http(tmp_path: Path) -> None:
    p = Process(tmp_path, listeners="http://127.0.0.1:0")
    await p.start()
    try:
        port = p.rest.ports[0]
        assert p.rest.advertised_url == f"http://127.0.0.1:{port}/"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            r = await c.post("/connectors", json={"name": "a/b", "config": source_config(value="x")})
            assert r.status_code == 201
            assert r.headers["location"] == f"http://127.0.0.1:{port}/connectors/a/b"
            assert r.headers["content-type"] == "application/json"
            await c.post("/connectors", json={"name": "paused", "config": source_config(), "initial_state": "PAUSED"})
            await c.put("/connectors/stopped/config", json=source_config())
            assert (await c.put("/connectors/stopped/stop")).status_code == 204
            await _wait_state(c, "a%2Fb", "RUNNING", ["RUNNING", "RUNNING"])
            r = await c.head("/connectors")
            assert r.status_code == 200 and r.content == b""
            r = await c.get("/connectors/a%2Fb/tasks/x/status")
            assert r.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}
    finally:
        await p.stop()

    again = Process(tmp_path, listeners="http://127.0.0.1:0")
    await again.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{again.rest.ports[0]}") as c:
            assert sorted((await c.get("/connectors")).json()) == ["a/b", "paused", "stopped"]
            await _wait_state(c, "a%2Fb", "RUNNING", ["RUNNING", "RUNNING"])
            await _wait_state(c, "paused", "PAUSED", [])
            await _wait_state(c, "stopped", "STOPPED", [])
            assert (await c.get("/connectors/a%2Fb/config")).json()["value"] == "x"
            assert (await c.delete("/connectors/a%2Fb")).status_code == 204
    finally:
        await again.stop()
    third = Process(tmp_path, listeners="http://127.0.0.1:0")
    await third.start()
    try:
        assert sorted(third.herder.connectors()) == ["paused", "stopped"]
    finally:
        await third.stop()


async def test_separate_admin_listener(tmp_path: Path) -> None:
    p = Process(tmp_path, listeners="http://127.0.0.1:0", admin_listeners="http://127.0.0.1:0")
    await p.start()
    try:
        main_port, admin_port = p.rest.ports
        async with httpx.AsyncClient() as c:
            r = await c.get(f"http://127.0.0.1:{main_port}/admin/loggers")
            assert r.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}
            assert (await c.get(f"http://127.0.0.1:{admin_port}/admin/loggers")).status_code == 200
            assert (await c.get(f"http://127.0.0.1:{admin_port}/connectors")).status_code == 404
            assert (await c.get(f"http://127.0.0.1:{main_port}/connectors")).status_code == 200
    finally:
        await p.stop()
