"""The worker on a real Kafka broker, end to end: a real `miniconnect standalone` process driven through REST.

Each test uses its own topic and connector names, so they share the session broker."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from helpers.kafka_topics import read_records
from servers import KafkaServer, run_async
from worker_process import WorkerProcess


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _uid() -> str:
    return uuid.uuid4().hex[:8]


async def _with_admin(bootstrap: str, fn: Callable[[AIOKafkaAdminClient], Awaitable[Any]]) -> Any:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await fn(admin)
    finally:
        await admin.close()


def group_offsets(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    async def go(admin: AIOKafkaAdminClient) -> dict[tuple[str, int], int]:
        offsets = await admin.list_consumer_group_offsets(group)
        return {(tp.topic, tp.partition): om.offset for tp, om in offsets.items() if om.offset >= 0}

    return run_async(lambda: _with_admin(bootstrap, go))


def list_groups(bootstrap: str) -> set[str]:
    async def go(admin: AIOKafkaAdminClient) -> set[str]:
        return {g[0] for g in await admin.list_consumer_groups()}

    return run_async(lambda: _with_admin(bootstrap, go))


def describe_topics(bootstrap: str, topics: list[str]) -> dict[str, int]:
    async def go(admin: AIOKafkaAdminClient) -> dict[str, int]:
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics) if not t["error_code"]}

    return run_async(lambda: _with_admin(bootstrap, go))


def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    async def go(admin: AIOKafkaAdminClient) -> dict[str, str]:
        out: dict[str, str] = {}
        for resp in await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)]):
            for resource in resp.resources:
                for entry in resource[4]:
                    out[entry[0]] = entry[1]
        return out

    return run_async(lambda: _with_admin(bootstrap, go))


def batch_compressions(bootstrap: str, topic: str, partitions: int = 1) -> set[int]:
    """The compression codecs of the record batches stored in the topic (raw Fetch: clients hide them)."""
    from aiokafka.protocol.fetch import FetchRequest
    from aiokafka.record.memory_records import MemoryRecords

    async def go(admin: AIOKafkaAdminClient) -> set[int]:
        node = next(iter(admin._client.cluster.brokers())).nodeId
        fetch = [(topic, [(p, 0, 1 << 22) for p in range(partitions)])]
        resp = await admin._send_request_to_node(node, FetchRequest(100, 1, 1 << 22, 0, fetch))
        codecs: set[int] = set()
        for _, parts in resp.topics:
            for part in parts:
                records = MemoryRecords(part[-1])
                while (batch := records.next_batch()) is not None:
                    codecs.add(batch.compression_type)
        return codecs

    return run_async(lambda: _with_admin(bootstrap, go))


def test_file_source_to_file_sink_on_kafka_survives_graceful_restart(tmp_path: Path, kafka_bootstrap: str) -> None:
    uid = _uid()
    topic, source, sink = f"lines-{uid}", f"file-source-{uid}", f"file-sink-{uid}"
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    first = [f"line {i}" for i in range(1000)]
    src.write_text("".join(f"{line}\n" for line in first))
    # A worker-level consumer setting and a connector-level override, both seen in effect below.
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap, "consumer.max.poll.records": "100"})
    worker.start()
    try:
        r = worker.rest(
            "POST",
            "/connectors",
            {
                "name": source,
                "config": {
                    "connector.class": "FileStreamSource",
                    "tasks.max": "1",
                    "file": str(src),
                    "topic": topic,
                    "producer.override.compression.type": "gzip",
                },
            },
        )
        assert r.status_code == 201, r.text
        r = worker.rest(
            "PUT",
            f"/connectors/{sink}/config",
            {
                "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "tasks.max": "1",
                "file": str(dst),
                "topics": topic,
            },
        )
        assert r.status_code == 201, r.text
        worker.wait_running(source)
        worker.wait_running(sink)
        worker.wait_for(lambda: len(_lines(dst)) >= len(first), what="first lines in the sink file")
        assert worker.stop() == 0
    finally:
        worker.stop()
    assert "Kafka" in worker.log()

    # The sink's group is connect-<name>, and it committed exactly what the file holds.
    assert f"connect-{sink}" in list_groups(kafka_bootstrap)
    assert group_offsets(kafka_bootstrap, f"connect-{sink}") == {(topic, 0): len(first)}
    # producer.override.compression.type=gzip: the broker holds gzip batches.
    assert batch_compressions(kafka_bootstrap, topic) == {1}  # 1: gzip

    with src.open("a") as f:
        f.write("".join(f"after {i}\n" for i in range(500)))
    restarted = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap}, port=worker.port)
    restarted.start()
    try:
        assert sorted(restarted.rest("GET", "/connectors").json()) == sorted([sink, source])
        restarted.wait_running(source)
        restarted.wait_running(sink)
        expected = first + [f"after {i}" for i in range(500)]
        restarted.wait_for(lambda: len(_lines(dst)) >= len(expected), what="all lines after the restart")
        assert _lines(dst) == expected  # nothing lost, nothing written twice, in order
        expected_offsets = {
            "offsets": [{"partition": {"filename": str(src)}, "offset": {"position": src.stat().st_size}}]
        }
        restarted.wait_for(
            lambda: restarted.rest("GET", f"/connectors/{source}/offsets").json() == expected_offsets,
            what="source offsets flushed",
        )
        sink_offsets = {
            "offsets": [
                {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": len(expected)}}
            ]
        }
        restarted.wait_for(
            lambda: restarted.rest("GET", f"/connectors/{sink}/offsets").json() == sink_offsets,
            what="sink offsets committed",
        )
        assert group_offsets(kafka_bootstrap, f"connect-{sink}") == {(topic, 0): len(expected)}
    finally:
        assert restarted.stop() == 0


def _cli(props: Path, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "miniconnect.cli", "topics", str(props), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_topics_cli_and_a_topics_regex_sink_on_kafka(tmp_path: Path, kafka_bootstrap: str) -> None:
    uid = _uid()
    props = tmp_path / "cli.properties"
    props.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    a, b, other = f"re-{uid}-a", f"re-{uid}-b", f"re-{uid}-ab"
    for topic, n in ((a, 30), (b, 20), (other, 5)):
        r = _cli(props, "produce", topic, stdin="".join(f"{topic} {i}\n" for i in range(n)))
        assert r.returncode == 0, r.stderr
        assert f"Produced {n} records to {topic}" in r.stderr
    listed = _cli(props, "list")
    assert listed.returncode == 0, listed.stderr
    assert {f"{a}\t1", f"{b}\t1", f"{other}\t1"} <= set(listed.stdout.splitlines())
    consumed = _cli(props, "consume", a, "--from-beginning", "--max-messages", "30", "--timeout-ms", "20000")
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.splitlines() == [f"{a} {i}" for i in range(30)]

    # topics.regex is a Java regex (a quoted part, a named group, a class intersection, none of them Python's) that
    # must match the whole name: re-<uid>-ab stays out. The StringConverter keeps the text as is.
    dst = tmp_path / "out.txt"
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap})
    worker.start()
    sink = f"regex-sink-{uid}"
    try:
        r = worker.rest(
            "PUT",
            f"/connectors/{sink}/config",
            {
                "connector.class": "FileStreamSink",
                "tasks.max": "1",
                "file": str(dst),
                "topics.regex": f"\\Qre-{uid}\\E-(?<side>[a-z&&[ab]])",
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                "consumer.override.max.poll.records": "7",
            },
        )
        assert r.status_code == 201, r.text
        worker.wait_running(sink)
        worker.wait_for(lambda: len(_lines(dst)) >= 50, what="both matching topics in the sink file")
        expected = {(a, 0): 30, (b, 0): 20}
        worker.wait_for(
            lambda: group_offsets(kafka_bootstrap, f"connect-{sink}") == expected,
            what="offsets of both topics committed",
        )
        assert sorted(_lines(dst)) == sorted([f"{a} {i}" for i in range(30)] + [f"{b} {i}" for i in range(20)])
        body = worker.rest("GET", f"/connectors/{sink}/offsets").json()
        assert sorted((o["partition"]["kafka_topic"], o["offset"]["kafka_offset"]) for o in body["offsets"]) == [
            (a, 30),
            (b, 20),
        ]
        assert sorted(worker.rest("GET", f"/connectors/{sink}/topics").json()[sink]["topics"]) == [a, b]
    finally:
        assert worker.stop() == 0


def test_source_topics_are_created_with_the_configured_partitions_and_configs(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    uid = _uid()
    plain, compacted = f"tc-{uid}-plain", f"tc-{uid}-compacted"
    creation = {
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "3",
        "topic.creation.groups": "compacted",
        "topic.creation.compacted.include": r"tc-.*-compacted",
        "topic.creation.compacted.cleanup.policy": "compact",
        "topic.creation.compacted.min.compaction.lag.ms": "60000",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    # A worker-level producer setting applies to every source task.
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap, "producer.compression.type": "gzip"})
    worker.start()
    try:
        for topic in (plain, compacted):
            src = tmp_path / f"{topic}.txt"
            src.write_text("".join(f"k{i}\n" for i in range(10)))
            r = worker.rest(
                "PUT",
                f"/connectors/src-{topic}/config",
                {"connector.class": "FileStreamSource", "file": str(src), "topic": topic, **creation},
            )
            assert r.status_code == 201, r.text
        for topic in (plain, compacted):
            worker.wait_running(f"src-{topic}")
        # Describing a topic before the task created it would have the broker auto-create it with its defaults
        for topic in (plain, compacted):
            worker.wait_for(lambda t=topic: f"Created topic {t} " in worker.log(), what=f"{topic} created")
        worker.wait_for(
            lambda: describe_topics(kafka_bootstrap, [plain, compacted]) == {plain: 3, compacted: 3},
            what="both topics created with 3 partitions",
        )
        assert topic_configs(kafka_bootstrap, plain)["cleanup.policy"] == "delete"
        cfg = topic_configs(kafka_bootstrap, compacted)
        assert (cfg["cleanup.policy"], cfg["min.compaction.lag.ms"]) == ("compact", "60000")
        assert sorted(r.value for r in read_records(kafka_bootstrap, plain, 10)) == sorted(
            f"k{i}".encode() for i in range(10)
        )
        # As on Kafka Connect, a compacted topic refuses FileStreamSource's key-less records: the task fails.
        worker.wait_for(
            lambda: worker.rest("GET", f"/connectors/src-{compacted}/status").json()["tasks"][0]["state"] == "FAILED",
            what="the compacted topic's source task FAILED",
        )
    finally:
        assert worker.stop() == 0
    assert batch_compressions(kafka_bootstrap, plain, 3) == {1}  # gzip


class _Writer(threading.Thread):
    """Appends numbered fixed-width lines to the source file in small chunks, as a live log would grow."""

    def __init__(self, path: Path, total: int, chunk: int = 100, pause: float = 0.01, first: int = 0):
        super().__init__(daemon=True)
        self.path, self.total, self.chunk, self.pause = path, total, chunk, pause
        self.written = first  # lines first..total-1 are written

    def run(self) -> None:
        with self.path.open("a") as f:
            while self.written < self.total:
                n = min(self.chunk, self.total - self.written)
                f.write("".join(f"L{i:07d}\n" for i in range(self.written, self.written + n)))
                f.flush()
                self.written += n
                time.sleep(self.pause)


def _sink_lines(path: Path) -> tuple[list[str], int]:
    """The sink file's lines and how many were torn: a line cut by SIGKILL in the middle of a buffered write
    is followed directly by the redelivered line, so the last 8 characters are still a whole line."""
    lines, torn = [], 0
    for line in _lines(path):
        if len(line) != 8:
            torn += 1
        if len(line) >= 8:
            lines.append(line[-8:])
    return lines, torn


def _pipeline(worker: WorkerProcess, uid: str, src: Path, dst: Path) -> tuple[str, str]:
    source, sink = f"kill-source-{uid}", f"kill-sink-{uid}"
    string = {"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    r = worker.rest(
        "PUT",
        f"/connectors/{source}/config",
        {
            "connector.class": "FileStreamSource",
            "file": str(src),
            "topic": f"kill-{uid}",
            "batch.size": "500",
            **string,
        },
    )
    assert r.status_code == 201, r.text
    r = worker.rest(
        "PUT",
        f"/connectors/{sink}/config",
        {"connector.class": "FileStreamSink", "file": str(dst), "topics": f"kill-{uid}", **string},
    )
    assert r.status_code == 201, r.text
    return source, sink


def _committed_line(worker: WorkerProcess, source: str, sink: str) -> int:
    """The lowest line number the two committed offsets point at: source position (bytes, 9 per line) and the
    sink group's next offset (the topic holds each line once before the kill, so offset n is line n)."""
    src = worker.rest("GET", f"/connectors/{source}/offsets").json()["offsets"]
    dst = worker.rest("GET", f"/connectors/{sink}/offsets").json()["offsets"]
    position = src[0]["offset"]["position"] if src else 0
    kafka_offset = dst[0]["offset"]["kafka_offset"] if dst else 0
    return min(position // 9, kafka_offset)


def test_sigkill_mid_stream_loses_no_line(tmp_path: Path, kafka_bootstrap: str) -> None:
    uid = _uid()
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    src.touch()
    total = 20000
    # Worker consumer.* settings: the killed member leaves the sink's group after 3 s instead of aiokafka's 10 s.
    extra = {
        "bootstrap.servers": kafka_bootstrap,
        "consumer.session.timeout.ms": "3000",
        "consumer.heartbeat.interval.ms": "500",
    }
    worker = WorkerProcess(tmp_path, extra=extra)
    worker.start()
    writer = _Writer(src, total, chunk=50)
    t0 = time.monotonic()
    try:
        source, sink = _pipeline(worker, uid, src, dst)
        worker.wait_running(source)
        worker.wait_running(sink)
        writer.start()
        # Kill once offsets were committed and records are flowing, while the file still grows.
        committed = worker.wait_for(
            lambda: writer.written < total and _committed_line(worker, source, sink),
            timeout=30,
            what="offsets committed while streaming",
        )
        # Offsets only grow: `committed` is a lower bound of what was committed at the kill.
        worker.kill()
        assert writer.written < total, "the writer finished before the kill: nothing was mid-stream"
        killed_at = len(_lines(dst))
    finally:
        worker.stop()
    t1 = time.monotonic()
    restarted = WorkerProcess(tmp_path, extra=extra, port=worker.port)
    restarted.start()
    try:
        writer.join(30)
        expected = set(f"L{i:07d}" for i in range(total))
        restarted.wait_for(lambda: set(_sink_lines(dst)[0]) >= expected, timeout=60, what="every line in the sink file")
        t2 = time.monotonic()
        time.sleep(1)  # let a late duplicate show up if there were one still in flight
        lines, torn = _sink_lines(dst)
    finally:
        assert restarted.stop() == 0
    assert set(lines) == expected  # nothing lost, nothing invented
    counts = Counter(lines)
    duplicates = len(lines) - len(counts)
    print(
        f"duplicates after SIGKILL: {duplicates} (of {total} lines; {killed_at} in the sink file at the kill, "
        f"committed offsets at line {committed}; {torn} torn line(s); "
        f"kill after {t1 - t0:.1f}s, caught up {t2 - t1:.1f}s later)"
    )
    assert torn <= 1
    assert duplicates < total
    # Lines repeat only after the last committed offsets.
    assert all(int(line[1:]) >= committed for line, n in counts.items() if n > 1)


class _RestartableBroker:
    """A second, private broker on ports chosen up front: the worker can point at it before it runs, and it
    can be killed and started again on the same ports and data."""

    def __init__(self) -> None:
        from servers.proc import free_port

        self.port, self.controller_port = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.server = KafkaServer()

    def start(self) -> None:
        import servers.kafka

        ports = iter([self.port, self.controller_port])
        pick = servers.kafka.free_port
        servers.kafka.free_port = lambda: next(ports)  # the harness picks its ports itself: hand it ours
        try:
            self.server.start()
        finally:
            servers.kafka.free_port = pick

    def kill(self) -> None:
        self.server.proc.stop()  # SIGKILL

    def restart(self, timeout: float = 60) -> None:
        from servers.proc import ServerProcess, port_open

        old = self.server.proc
        started = old.log_path.read_text(errors="replace").count("Kafka Server started")
        old.stop()
        proc = ServerProcess("kafka", old.args, self.server.dir, stop_signal=signal.SIGKILL)
        self.server.proc = proc
        proc.start()
        proc.wait_until(
            lambda: (
                port_open("127.0.0.1", self.port)
                and proc.log_path.read_text(errors="replace").count("Kafka Server started") > started
            ),
            timeout,
            "restarted",
        )

    def stop(self) -> None:
        self.server.stop()


def _task_states(worker: WorkerProcess, *names: str) -> list[str]:
    return [t["state"] for n in names for t in worker.rest("GET", f"/connectors/{n}/status").json()["tasks"]]


def test_broker_down_at_start_and_restarting_mid_stream(tmp_path: Path, kafka_bootstrap: str) -> None:
    broker = _RestartableBroker()
    uid = _uid()
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    first = 2000
    src.write_text("".join(f"L{i:07d}\n" for i in range(first)))
    string = {"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
    source, sink = f"outage-source-{uid}", f"outage-sink-{uid}"
    files = []
    for name, cfg in (
        (source, {"connector.class": "FileStreamSource", "file": str(src), "topic": f"o-{uid}"}),
        (sink, {"connector.class": "FileStreamSink", "file": str(dst), "topics": f"o-{uid}"}),
    ):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"name": name, "config": {**cfg, **string}}))
        files.append(str(path))
    worker = WorkerProcess(
        tmp_path,
        extra={
            "bootstrap.servers": broker.bootstrap,
            "consumer.session.timeout.ms": "3000",
            "consumer.heartbeat.interval.ms": "500",
        },
        connector_files=files,
    )
    writer = _Writer(src, 8000, chunk=50, pause=0.02, first=first)
    starting = concurrent.futures.ThreadPoolExecutor(1)
    try:
        # The broker is down: the worker says so and waits for it, then creates the connectors from the files.
        # (The broker starts from this thread: it dies with the thread that started it.)
        answered = starting.submit(worker.start, 90)
        worker.wait_for(lambda: worker.log().count("not reachable") >= 2, timeout=30, what="the retry log lines")
        assert not answered.done()
        broker.start()
        answered.result()
        worker.wait_running(source)
        worker.wait_running(sink)
        worker.wait_for(lambda: len(_lines(dst)) >= first, what="the first lines in the sink file")

        # The broker dies mid-stream and comes back: the tasks wait, say why, and carry on by themselves.
        writer.start()
        worker.wait_for(lambda: len(_lines(dst)) >= first + 500, what="streaming")
        broker.kill()
        outage = time.monotonic()
        time.sleep(2)
        assert _task_states(worker, source, sink) == ["RUNNING", "RUNNING"]
        broker.restart()
        print(f"broker down for {time.monotonic() - outage:.1f}s")
        writer.join(60)
        expected = {f"L{i:07d}" for i in range(writer.total)}
        worker.wait_for(lambda: set(_sink_lines(dst)[0]) >= expected, timeout=60, what="every line after the outage")
        assert _task_states(worker, source, sink) == ["RUNNING", "RUNNING"]
        # The outage reads as a few lines, not aiokafka's hundreds of reconnect errors a second.
        log = worker.log()
        assert 0 < log.count("Unable connect to node with id") <= 2 + 2 * (time.monotonic() - outage) / 10
        lines = _sink_lines(dst)[0]
        print(f"duplicates after the broker restart: {len(lines) - len(set(lines))}")
        assert set(lines) == expected
    finally:
        try:
            worker.stop()
        finally:
            broker.stop()
            starting.shutdown()
            if writer.is_alive():
                writer.join(30)


def test_sigterm_stops_a_worker_still_waiting_for_kafka(tmp_path: Path) -> None:
    from servers.proc import free_port

    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": f"127.0.0.1:{free_port()}"})
    with worker.log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "miniconnect.cli", "standalone", str(worker.props)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        worker.wait_for(lambda: "not reachable" in worker.log(), timeout=30, what="the retry log line")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Shutting down before Kafka answered" in worker.log()
