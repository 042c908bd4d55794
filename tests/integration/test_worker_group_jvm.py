"""Apache Kafka Connect's JVM worker (ConnectDistributed 4.1.1) and a Python WorkerGroupMember in one group on the
real broker: each decodes the other's metadata and the other leader's assignment, and they share the tasks."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from group_worker import GroupWorker, snapshot_of
from helpers.worker_group import eventually
from javaharness.harness import CONNECT_LIBS
from jvm_connect import LOG4J2
from worker_process import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")

TASKS = 4


class JvmWorker:
    def __init__(self, workdir: Path, bootstrap: str, group: str, protocol: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_topic = f"{group}-configs"
        props = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "config.storage.topic": self.config_topic,
            "offset.storage.topic": f"{group}-offsets",
            "status.storage.topic": f"{group}-status",
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.partitions": "1",
            "status.storage.partitions": "1",
            "connect.protocol": protocol,
            "scheduled.rebalance.max.delay.ms": "3000",
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "1000",
            "listeners": self.url,
            "rest.advertised.host.name": "127.0.0.1",
            "rest.advertised.port": str(self.port),
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        }
        self.props = workdir / f"worker-{self.port}.properties"
        self.props.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self.log = workdir / f"worker-{self.port}.log"
        self.log4j = workdir / "log4j2.properties"
        self.log4j.write_text(LOG4J2)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    "java",
                    "-Xmx384m",
                    "-XX:TieredStopAtLevel=1",
                    f"-Dlog4j2.configurationFile={self.log4j}",
                    "-cp",
                    f"{CONNECT_LIBS}/*",
                    "org.apache.kafka.connect.cli.ConnectDistributed",
                    str(self.props),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean shutdown: the worker sends LeaveGroup
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    async def get(self, path: str) -> httpx.Response | None:
        try:
            async with httpx.AsyncClient(timeout=5) as c:
                return await c.get(self.url + path)
        except httpx.HTTPError:
            return None

    async def running_tasks(self) -> set[int] | None:
        """Tasks of `sink` the JVM worker reports RUNNING on itself (REST status)."""
        r = await self.get("/connectors/sink/status")
        if r is None or r.status_code != 200:
            return None
        me = f"127.0.0.1:{self.port}"
        return {t["id"] for t in r.json()["tasks"] if t["state"] == "RUNNING" and t["worker_id"] == me}

    async def assignment(self) -> tuple[int, set[int]] | None:
        """(generation, task numbers) of the last assignment the JVM's herder logged ("Joined group at generation
        N ... got assignment: Assignment{... taskIds=[sink-0, ...]"): what its own coordinator made of the bytes.
        (REST status cannot tell: a task revoked to a Python member keeps its last RUNNING record.)"""
        found = _JOINED.findall(self.log.read_text(errors="replace")) if self.log.exists() else []
        if not found:
            return None
        generation, tasks = found[-1]
        return int(generation), {int(t.rsplit("-", 1)[1]) for t in tasks.split(", ") if t}


_JOINED = re.compile(
    r"Joined group at generation (\d+) with protocol version \d+ and got assignment: "
    r"Assignment\{.*?, taskIds=\[([^\]]*)\]"
)


async def _config_offset(bootstrap: str, topic: str) -> int:
    """The config topic's end offset: what a worker that read it all reports in its JoinGroup metadata."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def _poll(what: str, fetch, check, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what} (last: {value})")
        await asyncio.sleep(0.3)


@pytest.mark.parametrize("protocol, version", [("sessioned", 2), ("compatible", 1), ("eager", 0)])
async def test_jvm_worker_and_python_member_share_one_group(
    kafka_bootstrap: str, tmp_path: Path, protocol: str, version: int
) -> None:
    assert (CONNECT_LIBS / "connect-runtime-4.1.1.jar").exists(), "run scripts/test-deps.sh"
    group = f"mixed-{uuid.uuid4().hex[:8]}"
    jvm = JvmWorker(tmp_path, kafka_bootstrap, group, protocol)
    python: GroupWorker | None = None
    try:
        jvm.start()
        await _poll(
            "the JVM worker's REST API",
            lambda: jvm.get("/connectors"),
            lambda r: r is not None and r.status_code == 200,
        )
        async with httpx.AsyncClient(timeout=30) as c:
            r = await c.post(
                jvm.url + "/connectors",
                json={
                    "name": "sink",
                    "config": {
                        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                        "tasks.max": str(TASKS),
                        "topics": f"{group}-data",
                        "file": str(tmp_path / "sink.txt"),
                    },
                },
            )
            assert r.status_code == 201, r.text
        await _poll("the JVM runs all tasks", jvm.running_tasks, lambda t: t == set(range(TASKS)))

        # The Python member joins a group whose leader is the JVM worker.
        offset = await _config_offset(kafka_bootstrap, jvm.config_topic)
        config = {"snapshot": snapshot_of({"sink": TASKS}, offset=offset)}
        python = GroupWorker(kafka_bootstrap, group, "http://python:8083/", config, protocol=protocol, delay_ms=3000)
        await python.start()
        await eventually(
            "the JVM leader hands the Python member half the tasks",
            lambda: len(python.tasks) == TASKS // 2 and not python.member.rejoin_needed(),
            120,
        )
        mine = {t.task for t in python.tasks}
        await _poll(
            "the JVM keeps the other half",
            jvm.assignment,
            lambda a: a == (python.member.generation, set(range(TASKS)) - mine),
        )
        _, last = python.assignments[-1]
        assert last.version == version and last.leader_url.rstrip("/") == jvm.url and last.offset == offset
        assert not python.member.is_leader()

        # The JVM leaves; the Python member leads and takes everything (a departed leader's work moves at once).
        jvm.stop()
        await eventually(
            "the Python member runs all tasks as leader",
            lambda: len(python.tasks) == TASKS and python.member.is_leader() and not python.member.rejoin_needed(),
            60,
        )

        # The JVM worker comes back as a follower and runs what the Python leader assigns it.
        jvm.start()
        await eventually(
            "the Python leader gives the JVM worker its share",
            lambda: len(python.tasks) == TASKS // 2 and not python.member.rejoin_needed(),
            120,
        )
        mine = {t.task for t in python.tasks}
        theirs = set(range(TASKS)) - mine
        await _poll(
            "the JVM takes what the Python leader assigned it",
            jvm.assignment,
            lambda a: a == (python.member.generation, theirs),
        )
        await _poll("and runs it", jvm.running_tasks, lambda t: t is not None and theirs <= t)
        assert python.member.is_leader()
        assert python.member.owner_url("sink") == (python.url if "sink" in python.connectors else jvm.url + "/")
        assert {python.member.owner_url(t) for t in python.tasks} == {python.url}
        assert python.member.protocol_version == version
    except BaseException:
        print(jvm.log.read_text(errors="replace")[-6000:] if jvm.log.exists() else "no JVM log")
        raise
    finally:
        if python is not None:
            await python.stop()
        jvm.stop()
