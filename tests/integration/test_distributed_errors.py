"""Bad input to a distributed worker, on the real broker: each gets an error naming what is wrong."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from servers import run_async
from test_distributed import wait_for
from worker_process import distributed_worker


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def test_internal_topic_with_delete_policy_is_refused(tmp_path: Path, kafka_bootstrap: str) -> None:
    group = f"bad-{_uid()}"

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(f"{group}-configs", 1, 1, topic_configs={"cleanup.policy": "delete"})])
        finally:
            await admin.close()

    run_async(create)
    worker = distributed_worker(tmp_path, kafka_bootstrap, group)
    try:
        worker.start(timeout=60)
    except RuntimeError:
        pass  # exited before its REST API answered
    assert worker.proc is not None
    assert worker.proc.wait(60) != 0
    assert (
        f"Topic '{group}-configs' supplied via the 'config.storage.topic' property is required to have "
        f"'cleanup.policy=compact'"
    ) in worker.log()
    _nothing_written(kafka_bootstrap, group)


def _nothing_written(bootstrap: str, group: str) -> None:
    """A worker refused at start-up wrote no record to the group's internal topics (Kafka's would write none)."""
    from kafka_topics import read_topic

    for kind in ("configs", "offsets", "status"):
        assert read_topic(bootstrap, f"{group}-{kind}") == [], kind


def test_unreachable_broker_is_named(tmp_path: Path) -> None:
    """Each try is logged with the address; after default.api.timeout.ms the worker exits with Kafka's message."""
    worker = distributed_worker(tmp_path, "127.0.0.1:1", f"bad-{_uid()}", {"default.api.timeout.ms": "3000"})
    try:
        worker.start(timeout=60)
    except RuntimeError:
        pass  # exited before its REST API answered
    assert worker.proc is not None
    assert worker.proc.wait(60) == 1
    log = worker.log()
    assert "Kafka at 127.0.0.1:1 not reachable" in log
    assert "Failed to connect to and describe Kafka cluster. Check worker's broker connection" in log


def test_group_id_of_a_consumer_group_is_refused(tmp_path: Path, kafka_bootstrap: str) -> None:
    group = f"consumers-{_uid()}"
    stop = asyncio.Event()

    async def consume() -> None:
        consumer = AIOKafkaConsumer(f"t-{group}", bootstrap_servers=kafka_bootstrap, group_id=group)
        await consumer.start()
        try:
            while not stop.is_set():
                await consumer.getmany(timeout_ms=200)
        finally:
            await consumer.stop()

    import threading

    t = threading.Thread(target=lambda: asyncio.run(consume()))
    t.start()
    try:
        worker = distributed_worker(tmp_path, kafka_bootstrap, group)
        try:
            worker.start(timeout=60)
        except RuntimeError:
            pass
        assert worker.proc is not None
        wait_for("the worker to give up", lambda: worker.proc.poll() is not None, [worker], 60)
        assert worker.proc.returncode != 0
        assert (
            f"Group {group} is already used by members of another protocol type (e.g. a consumer group)" in worker.log()
        )
        _nothing_written(kafka_bootstrap, group)
    finally:
        stop.set()
        t.join()


TICK_PLUGIN = '''
"""A source connector only one worker of the test cluster has: one record per second per task."""
from miniconnect.config.configdef import ConfigDef
from miniconnect.connector import SourceConnector, SourceTask


class TickTask(SourceTask):
    class_name = "example.TickTask"

    async def start(self, props):
        self.topic = props["topic"]

    async def poll(self):
        await self.context.wait(1.0)
        return None


class TickConnector(SourceConnector):
    class_name = "example.TickConnector"
    version = "1.0"
    task_class = TickTask
    config_def = ConfigDef()

    async def start(self, props):
        self.props = dict(props)

    async def task_configs(self, max_tasks):
        return [dict(self.props) for _ in range(max_tasks)]
'''


def test_work_whose_plugin_a_worker_lacks_fails_there_with_the_class_named(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """Two workers, only one has the plugin (in its plugin.path): what is assigned to the other FAILS with a trace
    naming the class, as on a JVM worker; what runs where the plugin is stays RUNNING."""
    from kafka_topics import read_topic
    from test_distributed import request, status

    group = f"noplugin-{_uid()}"
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "tick.py").write_text(TICK_PLUGIN)
    has = distributed_worker(tmp_path / "has", kafka_bootstrap, group, {"plugin.path": str(plugins)})
    lacks = distributed_worker(tmp_path / "lacks", kafka_bootstrap, group)
    workers = [has, lacks]
    try:
        for w in workers:
            w.start(timeout=60)
        names = [f"tick-{i}-{_uid()}" for i in range(3)]
        config = {"connector.class": "example.TickConnector", "tasks.max": "2", "topic": f"t-{group}"}
        # The worker without the plugin refuses to validate it, as Kafka's does; the one with it accepts.
        r = lacks.rest("POST", "/connectors", {"name": names[0], "config": config})
        assert r.status_code == 400 and "example.TickConnector" in r.json()["message"], r.text
        for name in names:
            request(has, "POST", "/connectors", {"name": name, "config": config}, ok=(201,))
        lacks_id = f"127.0.0.1:{lacks.port}"

        def settled() -> list[dict[str, Any]] | None:
            out = []
            for name in names:
                s = status(has, name)
                if not s or s["connector"]["state"] not in ("RUNNING", "FAILED"):
                    return None
                if s["connector"]["state"] == "RUNNING" and (
                    len(s["tasks"]) != 2 or any(t["state"] not in ("RUNNING", "FAILED") for t in s["tasks"])
                ):
                    return None
                out.append(s)
            return out

        statuses = wait_for("every connector and task RUNNING or FAILED", settled, workers, 90)
        units = [s["connector"] for s in statuses] + [t for s in statuses for t in s["tasks"]]
        on_lacking = [u for u in units if u["worker_id"] == lacks_id]
        assert on_lacking, f"the assignor gave the second worker nothing: {statuses}"
        for unit in units:
            if unit["worker_id"] == lacks_id:
                assert unit["state"] == "FAILED", unit
                assert "example.TickConnector" in unit["trace"], unit["trace"]
            else:
                assert unit["state"] == "RUNNING", unit
        # Every worker answers the same states and versions (from the status topic); the type comes from the local
        # plugins, so a worker without the plugin says "unknown", as Kafka's AbstractHerder.connectorType does.
        for name, s in zip(names, statuses, strict=True):
            assert status(lacks, name) == {**s, "type": "unknown"}
        # Nothing beyond Kafka's own records reached the internal topics: connector/task configs, commits and
        # target states, the session key; statuses; no offsets (the tasks produced nothing).
        keys = {r.key.decode() for r in read_topic(kafka_bootstrap, f"{group}-configs")}
        allowed = {"session-key"} | {
            k
            for n in names
            for k in (f"connector-{n}", f"target-state-{n}", f"commit-{n}", f"task-{n}-0", f"task-{n}-1")
        }
        assert keys <= allowed, keys - allowed
        assert read_topic(kafka_bootstrap, f"{group}-offsets") == []
    finally:
        for w in workers:
            w.stop()


STALL_PLUGIN = '''
"""A source connector whose first task_configs() hangs (as one waiting on an unresponsive database would)."""
import asyncio

from miniconnect.config.configdef import ConfigDef
from miniconnect.connector import SourceConnector, SourceTask

STALLED = []


class IdleTask(SourceTask):
    class_name = "example.IdleTask"

    async def start(self, props):
        pass

    async def poll(self):
        await self.context.wait(1.0)
        return None


class StallConnector(SourceConnector):
    class_name = "example.StallConnector"
    version = "1.0"
    task_class = IdleTask
    config_def = ConfigDef()

    async def start(self, props):
        self.props = dict(props)

    async def task_configs(self, max_tasks):
        if not STALLED:
            STALLED.append(True)
            await asyncio.sleep(float(self.props["stall.s"]))
        return [dict(self.props)]
'''


def test_a_herder_stalled_past_the_rebalance_timeout_leaves_the_group_and_rejoins(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """WorkerCoordinator.handlePollTimeoutExpiry: the herder is busy (here in a connector's task_configs) longer
    than rebalance.timeout.ms; the worker logs Kafka's warning naming what it was doing, leaves the group, and
    rejoins when the call returns; the connector then runs."""
    from test_distributed import request, running

    group = f"stall-{_uid()}"
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "stall.py").write_text(STALL_PLUGIN)
    worker = distributed_worker(
        tmp_path, kafka_bootstrap, group, {"plugin.path": str(plugins), "rebalance.timeout.ms": "3000"}
    )
    try:
        worker.start(timeout=60)
        name = f"stall-{_uid()}"
        config = {"connector.class": "example.StallConnector", "tasks.max": "1", "stall.s": "8"}
        request(worker, "POST", "/connectors", {"name": name, "config": config}, ok=(201,))
        wait_for(
            "the worker to leave on the poll timeout",
            lambda: "due to worker poll timeout has expired." in worker.log(),
            [worker],
            60,
        )
        log = worker.log()
        assert (
            "worker poll timeout has expired. The last known action being performed by the worker is : generating "
            f"task configs for connector {name}"
        ) in log
        wait_for("the connector running after the rejoin", lambda: running(worker, name, 1), [worker], 90)
        assert worker.proc is not None and worker.proc.poll() is None
    finally:
        worker.stop()
