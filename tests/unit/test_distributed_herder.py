"""DistributedHerder's tick loop, in process: one worker that leads a group of one, with an in-memory config log.

The group and the config topic are stand-ins here (the real ones are tested on the broker in
tests/integration/test_distributed.py); what is tested is the herder: rebalance handling, the leader writing task
configs, target states, restarts, offsets preconditions, the 409s and internal-request signatures.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rest_testkit import Env, rest_env, source_config

from miniconnect.distributed.state import ClusterConfigState, SessionKey
from miniconnect.runtime.distributed import DistributedHerder
from miniconnect.runtime.states import TargetState, TaskId
from miniconnect.storage.status import MemoryStatusStore

URL = "http://127.0.0.1:8083/"


class ConfigLog:
    """The config topic in memory: writes are read back by a loop task, which calls the listener (as Kafka's
    KafkaConfigBackingStore does from its log's read callback)."""

    def __init__(self, listener: Any):
        self.listener = listener
        self.state = ClusterConfigState()
        self.records: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None
        self.restarts: list[tuple[str, bool, bool]] = []

    async def start(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self.reader:
            self.reader.cancel()

    def snapshot(self) -> ClusterConfigState:
        s = self.state
        return ClusterConfigState(
            s.offset,
            s.session_key,
            dict(s.connector_task_counts),
            {k: dict(v) for k, v in s.connector_configs.items()},
            dict(s.connector_target_states),
            dict(s.task_configs),
        )

    async def refresh(self, timeout_s: float) -> None:
        while not self.records.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)

    async def _read(self) -> None:
        while True:
            kind, value = await self.records.get()
            s = self.state
            s.offset += 1
            if kind == "connector":
                name, config, target = value
                if config is None:
                    s.connector_configs.pop(name, None)
                    s.connector_target_states.pop(name, None)
                    self.listener.on_connector_config_remove(name)
                else:
                    s.connector_configs[name] = config
                    if target is not None:
                        s.connector_target_states[name] = target
                    self.listener.on_connector_config_update(name)
            elif kind == "tasks":
                name, configs = value
                for t in [t for t in s.task_configs if t.connector == name]:
                    del s.task_configs[t]
                for i, c in enumerate(configs):
                    s.task_configs[TaskId(name, i)] = c
                s.connector_task_counts[name] = len(configs)
                self.listener.on_task_config_update([TaskId(name, i) for i in range(len(configs))])
            elif kind == "target":
                name, target = value
                s.connector_target_states[name] = target
                self.listener.on_connector_target_state_change(name)
            elif kind == "session":
                s.session_key = value
                self.listener.on_session_key_update(value)
            elif kind == "restart":
                self.listener.on_restart_request(value)

    async def put_connector_config(self, name: str, config: dict[str, str], target: TargetState | None) -> None:
        await self.records.put(("connector", (name, dict(config), target)))

    async def remove_connector_config(self, name: str) -> None:
        await self.records.put(("connector", (name, None, None)))

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        await self.records.put(("tasks", (name, [dict(c) for c in configs])))

    async def put_target_state(self, name: str, target: TargetState) -> None:
        await self.records.put(("target", (name, target)))

    async def put_session_key(self, key: SessionKey) -> None:
        await self.records.put(("session", key))

    async def put_restart_request(self, name: str, only_failed: bool, include_tasks: bool) -> None:
        self.restarts.append((name, only_failed, include_tasks))
        await self.records.put(("restart", Restart(name, only_failed, include_tasks)))


@dataclass
class Restart:
    connector: str
    only_failed: bool
    include_tasks: bool


@dataclass
class Assignment:
    error: int
    leader: str
    leader_url: str
    offset: int
    connectors: list[str]
    tasks: list[TaskId]
    revoked_connectors: list[str] = field(default_factory=list)
    revoked_tasks: list[TaskId] = field(default_factory=list)
    delay: int = 0

    def failed(self) -> bool:
        return self.error != 0


class GroupOfOne:
    """A member that leads a group of one: every rejoin assigns it all connectors and tasks of the snapshot."""

    def __init__(self, herder: DistributedHerder, protocol_version: int = 2):
        self.herder = herder
        self.member_id = "member-1"
        self.generation = 0
        self.protocol_version = protocol_version
        self._rejoin = True
        self.connectors: set[str] = set()
        self.tasks: set[TaskId] = set()

    async def start(self) -> None: ...

    def poll_heartbeat(self) -> None: ...

    async def stop(self) -> None: ...

    def request_rejoin(self) -> None:
        self._rejoin = True

    def rejoin_needed(self) -> bool:
        return self._rejoin

    def owner_url(self, what: Any) -> str:
        return URL

    async def ensure_active(self) -> None:
        if not self._rejoin:
            return
        self._rejoin = False
        snap = self.herder.configs.snapshot()
        connectors = set(snap.connectors())
        tasks = {t for c in connectors for t in snap.tasks(c)}
        lost_c, lost_t = self.connectors - connectors, self.tasks - tasks
        if lost_c or lost_t:
            await self.herder.on_revoked(self.member_id, sorted(lost_c), sorted(lost_t))
        self.connectors, self.tasks = connectors, tasks
        self.generation += 1
        await self.herder.on_assigned(
            Assignment(0, self.member_id, URL, snap.offset, sorted(connectors), sorted(tasks)), self.generation
        )


class Statuses(MemoryStatusStore):
    put_connector_safe = MemoryStatusStore.put_connector
    put_task_safe = MemoryStatusStore.put_task

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@asynccontextmanager
async def cluster_of_one(tmp: Path, protocol_version: int = 2) -> AsyncIterator[Env]:
    def herder(config: Any, worker: Any, plugins: Any, transport: Any, offsets: Any) -> DistributedHerder:
        return DistributedHerder(
            config,
            worker,
            plugins,
            transport,
            offsets,
            configs_factory=ConfigLog,
            status=Statuses(),
            member_factory=lambda h: GroupOfOne(h, protocol_version),
            url=URL,
        )

    async with rest_env(tmp, herder_factory=herder) as env:
        await env.wait_for(lambda: env.herder.ready)
        yield env


async def _retry(env: Env, method: str, path: str, **kw: Any) -> Any:
    for _ in range(200):
        r = await env.client.request(method, path, **kw)
        if not (r.status_code == 500 and "rebalance is expected" in r.text):
            return r
        await asyncio.sleep(0.02)
    return r


async def test_leader_runs_connector_and_writes_task_configs(tmp_path: Path) -> None:
    async with cluster_of_one(tmp_path) as env:
        r = await env.client.post("/connectors", json={"name": "a", "config": source_config()})
        assert r.status_code == 201, r.text
        status = await env.wait_state("a", "RUNNING", ["RUNNING", "RUNNING"])
        assert {t["worker_id"] for t in status["tasks"]} == {"127.0.0.1:8083"}
        assert (await _retry(env, "GET", "/connectors")).json() == ["a"]
        tasks = (await _retry(env, "GET", "/connectors/a/tasks")).json()
        assert [t["id"] for t in tasks] == [{"connector": "a", "task": 0}, {"connector": "a", "task": 1}]
        r = await env.client.post("/connectors", json={"name": "a", "config": source_config()})
        assert r.status_code == 409 and r.json()["message"] == "Connector a already exists"

        # Pause and resume reach the tasks through the config log's target-state records.
        assert (await env.client.put("/connectors/a/pause")).status_code == 202
        await env.wait_state("a", "PAUSED", ["PAUSED", "PAUSED"])
        assert (await env.client.put("/connectors/a/resume")).status_code == 202
        await env.wait_state("a", "RUNNING", ["RUNNING", "RUNNING"])

        # A new config with fewer tasks: new task configs, the rebalance stops the task that is gone.
        r = await env.client.put("/connectors/a/config", json=source_config(**{"tasks.max": "1"}))
        assert r.status_code == 200, r.text
        await env.wait_state("a", "RUNNING", ["RUNNING"])

        # Offsets may only change once stopped; stopping writes an empty task list first.
        r = await env.client.patch(
            "/connectors/a/offsets", json={"offsets": [{"partition": {"p": 1}, "offset": {"o": 2}}]}
        )
        assert r.status_code == 400 and "must be in the STOPPED state" in r.json()["message"]
        assert (await env.client.put("/connectors/a/stop")).status_code == 204
        await env.wait_state("a", "STOPPED", [])
        r = await env.client.patch(
            "/connectors/a/offsets", json={"offsets": [{"partition": {"p": 1}, "offset": {"o": 2}}]}
        )
        assert r.status_code == 200, r.text
        assert (await env.client.get("/connectors/a/offsets")).json() == {
            "offsets": [{"partition": {"p": 1}, "offset": {"o": 2}}]
        }
        assert (await env.client.put("/connectors/a/resume")).status_code == 202
        await env.wait_state("a", "RUNNING", ["RUNNING"])

        # Restarts: the connector alone, one task, and the request record for connector and tasks.
        assert (await _retry(env, "POST", "/connectors/a/restart")).status_code == 204
        assert (await _retry(env, "POST", "/connectors/a/tasks/0/restart")).status_code == 204
        r = await _retry(env, "POST", "/connectors/a/restart?includeTasks=true")
        assert r.status_code == 202 and r.json()["tasks"][0]["state"] == "RESTARTING"
        assert env.herder.configs.restarts == [("a", False, True)]  # type: ignore[attr-defined]
        await env.wait_state("a", "RUNNING", ["RUNNING"])
        assert (await _retry(env, "POST", "/connectors/zz/restart")).status_code == 404

        # Delete: the connector and its tasks stop.
        assert (await _retry(env, "DELETE", "/connectors/a")).status_code == 204
        for _ in range(200):
            if not env.herder.worker.tasks and not env.herder.worker.connectors:
                break
            await asyncio.sleep(0.02)
        assert not env.herder.worker.tasks and not env.herder.worker.connectors
        assert (await _retry(env, "GET", "/connectors")).json() == []


async def test_leader_distributes_a_session_key_and_checks_signatures(tmp_path: Path) -> None:
    async with cluster_of_one(tmp_path) as env:
        herder: DistributedHerder = env.herder  # type: ignore[assignment]
        for _ in range(200):
            if herder._session_key is not None:
                break
            await asyncio.sleep(0.01)
        key = herder._session_key
        assert key is not None and key.algorithm == "HmacSHA256" and len(key.key) == 32
        await env.client.post("/connectors", json={"name": "a", "config": source_config()})
        await env.wait_state("a", "RUNNING", ["RUNNING", "RUNNING"])
        body = orjson.dumps([{"task.class": "x", "k": "v"}])
        r = await env.client.post("/connectors/a/tasks", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["message"] == "Internal request missing required signature"
        bad = {
            "Content-Type": "application/json",
            "X-Connect-Authorization": base64.b64encode(b"x" * 32).decode(),
            "X-Connect-Request-Signature-Algorithm": "HmacSHA256",
        }
        r = await env.client.post("/connectors/a/tasks", content=body, headers=bad)
        assert r.status_code == 403 and r.json()["message"] == "Internal request contained invalid signature."
        good = dict(
            bad,
            **{"X-Connect-Authorization": base64.b64encode(hmac.new(key.key, body, hashlib.sha256).digest()).decode()},
        )
        r = await env.client.post("/connectors/a/tasks", content=body, headers=good)
        assert r.status_code == 204, r.text
        for _ in range(200):
            if (await _retry(env, "GET", "/connectors/a/tasks")).json()[0]["config"].get("k") == "v":
                break
            await asyncio.sleep(0.02)
        assert (await _retry(env, "GET", "/connectors/a/tasks")).json() == [
            {"id": {"connector": "a", "task": 0}, "config": {"task.class": "x", "k": "v"}}
        ]


async def test_compatible_protocol_does_not_sign(tmp_path: Path) -> None:
    async with cluster_of_one(tmp_path, protocol_version=1) as env:
        await env.client.post("/connectors", json={"name": "a", "config": source_config()})
        await env.wait_state("a", "RUNNING", ["RUNNING", "RUNNING"])
        assert env.herder._session_key is None  # type: ignore[attr-defined]
        r = await env.client.post("/connectors/a/tasks", content=b"[]", headers={"Content-Type": "application/json"})
        assert r.status_code == 204
