"""A Connect cluster shared by Apache Kafka Connect's JVM worker and miniconnect workers, on the real broker.

The JVM worker is Kafka Connect 4.1.1's ConnectDistributed from ~/.cache/miniconnect/connect-4.1.1/libs (resolved
by scripts/test-deps.sh). FileStream connectors run on both kinds of workers; the sink file must hold every line
of the source files after the JVM worker is killed (its tasks continue on miniconnect from the offsets it
committed) and started again (it takes a share back). Then migration: a JVM-only cluster stops, miniconnect workers
carry on with the same group and topics, and the other way round.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers.distributed import TIMEOUT, _grow, _lines, request, running, status, wait_for
from helpers.mixed_cluster import STRING, _group_props
from jvm_connect import JvmConnectWorker
from worker_process import distributed_worker, free_port


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _jvm(tmp: Path, bootstrap: str, group: str, protocol: str, port: int | None = None) -> JvmConnectWorker:
    port = port or free_port()
    return JvmConnectWorker(
        tmp,
        {
            **_group_props(bootstrap, group, protocol),
            "listeners": f"http://127.0.0.1:{port}",
            "rest.advertised.port": str(port),
        },
        port=port,
    )


def _source(src: Path, topic: str) -> dict[str, str]:
    return {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(src),
        "topic": topic,
    }


def _sink(dst: Path, topic: str) -> dict[str, str]:
    return {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "file": str(dst),
        "topics": topic,
    }


def _task_owner(worker: Any, name: str) -> str | None:
    s = running(worker, name, 1)
    return s["tasks"][0]["worker_id"] if s else None


@pytest.mark.parametrize("protocol", ["sessioned", "compatible"])
def test_jvm_and_miniconnect_share_a_cluster(tmp_path: Path, kafka_bootstrap: str, protocol: str) -> None:
    group = f"mixed-{_uid()}"
    jvm = _jvm(tmp_path / "jvm", kafka_bootstrap, group, protocol)
    mini = distributed_worker(tmp_path / "mini", kafka_bootstrap, group, {"connect.protocol": protocol, **STRING})
    workers = [mini]
    stops = threading.Event()
    growers: list[threading.Thread] = []
    written: dict[str, list[int]] = {}
    try:
        jvm.start()
        mini.start(timeout=60)
        workers = [mini, jvm]  # type: ignore[list-item]
        ids = {f"127.0.0.1:{mini.port}", f"127.0.0.1:{jvm.port}"}
        topic, dst = f"mixed-{_uid()}", tmp_path / "out.txt"
        sources = {f"src-{i}-{_uid()}": tmp_path / f"in-{i}.txt" for i in range(3)}
        for p in sources.values():
            p.touch()
        # Created through both REST APIs: each forwards to the leader, whichever kind it is.
        for i, (name, path) in enumerate(sources.items()):
            request(workers[i % 2], "POST", "/connectors", {"name": name, "config": _source(path, topic)}, ok=(201,))
        sink = f"sink-{_uid()}"
        request(jvm, "POST", "/connectors", {"name": sink, "config": _sink(dst, topic)}, ok=(201,))
        names = sorted([*sources, sink])
        for w in workers:
            wait_for(
                "both list the connectors", lambda w=w: sorted(w.rest("GET", "/connectors").json()) == names, workers
            )
            assert request(w, "GET", f"/connectors/{sink}/config").json() == {**_sink(dst, topic), "name": sink}
        owners = {n: wait_for(f"{n} running", lambda n=n: _task_owner(mini, n), workers) for n in names}
        assert set(owners.values()) == ids, owners  # each kind runs part of the tasks

        for name, path in sources.items():
            t = threading.Thread(target=lambda n=name, p=path: written.__setitem__(n, _grow(p, stops)))
            t.start()
            growers.append(t)
        wait_for("lines flowing", lambda: len(_lines(dst)) > 300, workers)
        time.sleep(1.5)  # the JVM commits offsets every 500 ms

        # SIGKILL the JVM worker: its tasks continue on miniconnect from the offsets the JVM committed.
        jvm.kill()
        for n in names:
            wait_for(f"{n} on miniconnect", lambda n=n: _task_owner(mini, n) == f"127.0.0.1:{mini.port}", [mini])
        # The JVM worker comes back and takes a share back.
        jvm = _jvm(tmp_path / "jvm2", kafka_bootstrap, group, protocol, port=jvm.port)
        jvm.start()
        workers = [mini, jvm]  # type: ignore[list-item]
        wait_for(
            "the JVM worker runs tasks again",
            lambda: any(_task_owner(mini, n) == f"127.0.0.1:{jvm.port}" for n in names),
            workers,
            120,
        )
        time.sleep(1.0)
    finally:
        stops.set()
        for t in growers:
            t.join()
        jvm.stop()
    try:
        expected: Counter[int] = Counter()
        for lines in written.values():
            expected.update(lines)
        want = dict(expected)  # each source file holds 0, 1, 2...: a number is in the sink once per file with it

        def complete() -> bool:
            seen = Counter(map(int, _lines(dst)))
            return all(seen[n] >= c for n, c in want.items())

        wait_for("every line of every source in the sink file", complete, [mini], 120)
        seen = Counter(map(int, _lines(dst)))
        print(
            f"mixed cluster ({protocol}): {sum(want.values())} lines, "
            f"{sum(seen.values()) - sum(want.values())} duplicates"
        )
    finally:
        mini.stop()


def _offsets(worker: Any, name: str) -> list[dict[str, Any]]:
    return request(worker, "GET", f"/connectors/{name}/offsets").json()["offsets"]


@pytest.mark.parametrize("direction", ["jvm-to-miniconnect", "miniconnect-to-jvm"])
def test_migration(tmp_path: Path, kafka_bootstrap: str, direction: str) -> None:
    group = f"migrate-{_uid()}"
    src, dst, topic = tmp_path / "in.txt", tmp_path / "out.txt", f"migrate-{_uid()}"
    src.write_text("".join(f"{i:08d}\n" for i in range(200)))
    source, sink = f"src-{_uid()}", f"sink-{_uid()}"

    def jvm_worker(sub: str) -> Any:
        return _jvm(tmp_path / sub, kafka_bootstrap, group, "sessioned")

    def mini_worker(sub: str) -> Any:
        return distributed_worker(tmp_path / sub, kafka_bootstrap, group, STRING)

    first, second = (jvm_worker, mini_worker) if direction == "jvm-to-miniconnect" else (mini_worker, jvm_worker)
    old = first("old")
    old.start() if isinstance(old, JvmConnectWorker) else old.start(timeout=60)
    try:
        request(old, "POST", "/connectors", {"name": source, "config": _source(src, topic)}, ok=(201,))
        request(old, "POST", "/connectors", {"name": sink, "config": _sink(dst, topic)}, ok=(201,))
        wait_for("all 200 lines", lambda: len(_lines(dst)) == 200, [old])
        request(old, "PUT", f"/connectors/{sink}/pause", ok=(202,))
        wait_for("sink paused", lambda: (s := status(old, sink)) and s["connector"]["state"] == "PAUSED", [old])
        wait_for(
            "source offset at the end",
            lambda: _offsets(old, source) and _offsets(old, source)[0]["offset"] == {"position": src.stat().st_size},
            [old],
        )
        before = {n: _offsets(old, n) for n in (source, sink)}
    finally:
        old.stop()
    new = second("new")
    new.start() if isinstance(new, JvmConnectWorker) else new.start(timeout=60)
    try:
        wait_for(
            "same connectors", lambda: sorted(new.rest("GET", "/connectors").json()) == sorted([source, sink]), [new]
        )
        wait_for(
            "target states kept",
            lambda: (s := status(new, sink)) and s["connector"]["state"] == "PAUSED",
            [new],
            TIMEOUT,
        )
        assert {n: _offsets(new, n) for n in (source, sink)} == before
        with open(src, "a") as f:  # the file grows: the new worker's source task continues from the old offset
            f.write("".join(f"{i:08d}\n" for i in range(200, 300)))
        request(new, "PUT", f"/connectors/{sink}/resume", ok=(202,))
        wait_for("the new lines", lambda: len(_lines(dst)) >= 300, [new])
        time.sleep(1.0)
        assert _lines(dst) == [f"{i:08d}" for i in range(300)]  # nothing lost, nothing repeated
    finally:
        new.stop()
