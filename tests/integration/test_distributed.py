"""Distributed mode on the real broker: `miniconnect distributed` worker processes in one group share connectors.

Each test has its own group and internal topics on the session broker. FileStream source -> topic -> FileStream
sink shows that records survive a SIGKILL of the worker that runs them.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka_topics import committed_offsets, read_topic
from worker_process import WorkerProcess, distributed_worker

TIMEOUT = 90.0


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def request(
    worker: WorkerProcess,
    method: str,
    path: str,
    json: Any = None,
    ok: tuple[int, ...] = (200, 201, 202, 204),
    timeout: float = TIMEOUT,
) -> httpx.Response:
    """A REST call retried while the cluster rebalances (409, or 500 "a rebalance is expected"), as clients of a
    Connect cluster do."""
    deadline = time.monotonic() + timeout
    while True:
        r = worker.rest(method, path, json)
        if r.status_code in ok:
            return r
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {path} on {worker.url}: {r.status_code} {r.text}\n{worker.log()[-4000:]}")
        time.sleep(0.3)


def wait_for(what: str, predicate: Callable[[], Any], workers: list[WorkerProcess], timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, KeyError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.3)
    logs = "\n".join(f"--- {w.url}\n{w.log()[-3000:]}" for w in workers)
    raise TimeoutError(f"timed out waiting for {what}\n{logs}")


def status(worker: WorkerProcess, name: str) -> dict[str, Any] | None:
    r = worker.rest("GET", f"/connectors/{name}/status")
    return r.json() if r.status_code == 200 else None


def running(worker: WorkerProcess, name: str, tasks: int) -> dict[str, Any] | None:
    s = status(worker, name)
    if s and s["connector"]["state"] == "RUNNING" and [t["state"] for t in s["tasks"]] == ["RUNNING"] * tasks:
        return s
    return None


def task_starts(workers: list[WorkerProcess]) -> Counter[str]:
    """How many times each task was started, from the workers' logs ("Task <name>-<n> (<class>) started")."""
    counts: Counter[str] = Counter()
    for w in workers:
        counts.update(re.findall(r"Task (\S+) \(\S+\) started", w.log()))
    return counts


@pytest.fixture
def cluster(tmp_path: Path, kafka_bootstrap: str):
    group = f"mc-{_uid()}"
    started: list[WorkerProcess] = []

    def add(n: int) -> list[WorkerProcess]:
        new = [distributed_worker(tmp_path / f"w{len(started) + i}", kafka_bootstrap, group) for i in range(n)]
        for w in new:
            w.start(timeout=60)
            started.append(w)
        return new

    add.group = group  # type: ignore[attr-defined]
    yield add
    for w in started:
        w.stop()


def _source(src: Path, topic: str) -> dict[str, str]:
    return {"connector.class": "FileStreamSource", "tasks.max": "1", "file": str(src), "topic": topic}


def _sink(dst: Path, topic: str) -> dict[str, str]:
    return {"connector.class": "FileStreamSink", "tasks.max": "1", "file": str(dst), "topics": topic}


def test_three_workers_share_connectors(cluster, tmp_path: Path) -> None:
    workers = cluster(3)
    w1, w2, w3 = workers
    uid = _uid()
    files = {f"src-{i}-{uid}": tmp_path / f"in-{i}.txt" for i in range(3)}
    for path in files.values():
        path.write_text("".join(f"{path.name} line {n}\n" for n in range(20)))
    topic, dst, sink = f"dist-{uid}", tmp_path / "out.txt", f"sink-{uid}"

    # Created through different workers, followers forward to the leader.
    for worker, (name, path) in zip(workers, files.items()):
        r = request(worker, "POST", "/connectors", {"name": name, "config": _source(path, topic)}, ok=(201,))
        assert r.json()["name"] == name
    request(w2, "PUT", f"/connectors/{sink}/config", _sink(dst, topic), ok=(201,))
    names = sorted([*files, sink])

    # Every worker lists the same connectors with the same config.
    for w in workers:
        wait_for("all connectors listed", lambda w=w: sorted(w.rest("GET", "/connectors").json()) == names, workers)
        assert request(w, "GET", f"/connectors/{sink}/config").json() == {**_sink(dst, topic), "name": sink}

    # All run; their tasks are spread over the three workers; status shows the worker ids.
    statuses = {n: wait_for(f"{n} running", lambda n=n: running(w3, n, 1), workers) for n in names}
    task_workers = {s["tasks"][0]["worker_id"] for s in statuses.values()}
    assert task_workers == {f"127.0.0.1:{w.port}" for w in workers}
    wait_for("every line in the sink", lambda: len(_lines(dst)) == 60, workers)

    # Pause through one worker: paused everywhere, wherever the tasks run.
    target = sorted(files)[0]
    request(w1, "PUT", f"/connectors/{target}/pause", ok=(202,))
    for w in workers:
        wait_for(
            "paused",
            lambda w=w: (
                (s := status(w, target)) and s["connector"]["state"] == "PAUSED" and s["tasks"][0]["state"] == "PAUSED"
            ),
            workers,
        )
    request(w2, "PUT", f"/connectors/{target}/resume", ok=(202,))
    wait_for("resumed", lambda: running(w1, target, 1), workers)

    # Restart with tasks through a worker (forwarded to the leader, applied by the task's owner).
    before = task_starts(workers)[f"{target}-0"]
    r = request(w3, "POST", f"/connectors/{target}/restart?includeTasks=true", ok=(202,))
    assert r.json()["tasks"][0]["state"] == "RESTARTING"
    wait_for("task restarted", lambda: task_starts(workers)[f"{target}-0"] == before + 1, workers)
    wait_for("running again", lambda: running(w1, target, 1), workers)
    before = task_starts(workers)[f"{target}-0"]
    request(w1, "POST", f"/connectors/{target}/tasks/0/restart", ok=(204,))
    wait_for("task restarted", lambda: task_starts(workers)[f"{target}-0"] == before + 1, workers)

    # Stop through one worker: STOPPED with no tasks everywhere; offsets can then be read and altered.
    request(w2, "PUT", f"/connectors/{target}/stop", ok=(204,))
    for w in workers:
        wait_for(
            "stopped",
            lambda w=w: (s := status(w, target)) and s["connector"]["state"] == "STOPPED" and s["tasks"] == [],
            workers,
        )
    offsets = request(w3, "GET", f"/connectors/{target}/offsets").json()["offsets"]
    assert offsets and offsets[0]["partition"] == {"filename": str(files[target])}
    r = request(
        w1,
        "PATCH",
        f"/connectors/{target}/offsets",
        {"offsets": [{"partition": {"filename": str(files[target])}, "offset": {"position": 0}}]},
    )
    assert "offsets for this connector have been altered successfully" in r.json()["message"]
    assert request(w2, "GET", f"/connectors/{target}/offsets").json()["offsets"][0]["offset"] == {"position": 0}
    r = request(w2, "DELETE", f"/connectors/{target}/offsets")
    assert r.json() == {"message": "The offsets for this connector have been reset successfully"}
    assert request(w3, "GET", f"/connectors/{target}/offsets").json() == {"offsets": []}
    request(w3, "PUT", f"/connectors/{target}/resume", ok=(202,))
    wait_for("resumed after stop", lambda: running(w2, target, 1), workers)
    wait_for("the rewound file read again", lambda: len(_lines(dst)) == 80, workers)

    # Delete through one worker: gone from all.
    request(w3, "DELETE", f"/connectors/{target}", ok=(204,))
    for w in workers:
        wait_for("deleted everywhere", lambda w=w: target not in w.rest("GET", "/connectors").json(), workers)
        assert w.rest("GET", f"/connectors/{target}").status_code == 404

    # Reads on every worker show the same state; GET / gives Kafka's cluster id.
    cluster_ids = {w.rest("GET", "/").json()["kafka_cluster_id"] for w in workers}
    assert len(cluster_ids) == 1 and None not in cluster_ids

    # A fourth worker joins (with two tasks per worker to share): tasks that stay where they run are not restarted.
    more = {f"more-{i}-{uid}": tmp_path / f"more-{i}.txt" for i in range(3)}
    for name, path in more.items():
        path.write_text("more\n")
        request(w1, "POST", "/connectors", {"name": name, "config": _source(path, topic)}, ok=(201,))
    names = sorted(n for n in [*names, *more] if n != target)
    for n in names:
        wait_for(f"{n} running", lambda n=n: running(w1, n, 1), workers)
    time.sleep(2.0)  # let the rebalances that placed the new connectors settle
    where = {n: running(w1, n, 1)["tasks"][0]["worker_id"] for n in names}  # type: ignore[index]
    starts = task_starts(workers)
    w4 = cluster(1)[0]
    workers.append(w4)
    wait_for(
        "the fourth worker gets work",
        lambda: any(
            (s := status(w1, n)) and s["tasks"] and s["tasks"][0]["worker_id"] == f"127.0.0.1:{w4.port}" for n in where
        ),
        workers,
    )
    wait_for("all running", lambda: all(running(w1, n, 1) for n in where), workers)
    after = task_starts(workers)
    for n, old in where.items():
        now = running(w1, n, 1)["tasks"][0]["worker_id"]  # type: ignore[index]
        if now == old:
            assert after[f"{n}-0"] == starts[f"{n}-0"], f"{n}-0 restarted on {old}"
        else:
            assert now == f"127.0.0.1:{w4.port}" and after[f"{n}-0"] == starts[f"{n}-0"] + 1


def _grow(path: Path, stop: threading.Event, width: int = 8) -> list[int]:
    written: list[int] = []
    n = 0
    with open(path, "a") as f:
        while not stop.is_set():
            f.write("".join(f"{i:0{width}d}\n" for i in range(n, n + 50)))
            f.flush()
            written.extend(range(n, n + 50))
            n += 50
            time.sleep(0.02)
    return written


def _payload(value: bytes) -> Any:
    """A JsonConverter value, with or without the schema envelope."""
    decoded = json.loads(value)
    return decoded["payload"] if isinstance(decoded, dict) and "payload" in decoded else decoded


def test_sigkill_moves_tasks_without_losing_records(cluster, tmp_path: Path, kafka_bootstrap: str) -> None:
    workers = cluster(2)
    uid = _uid()
    src, dst, topic = tmp_path / "in.txt", tmp_path / "out.txt", f"kill-{uid}"
    src.touch()
    source, sink = f"src-{uid}", f"snk-{uid}"
    request(workers[0], "POST", "/connectors", {"name": source, "config": _source(src, topic)}, ok=(201,))
    request(workers[1], "POST", "/connectors", {"name": sink, "config": _sink(dst, topic)}, ok=(201,))
    wait_for("both running", lambda: running(workers[0], source, 1) and running(workers[0], sink, 1), workers)

    stop = threading.Event()
    result: list[list[int]] = []
    grower = threading.Thread(target=lambda: result.append(_grow(src, stop)))
    grower.start()
    try:
        wait_for("lines flowing", lambda: len(_lines(dst)) > 500, workers)
        victim_id = running(workers[0], source, 1)["tasks"][0]["worker_id"]  # type: ignore[index]
        victim = next(w for w in workers if f"127.0.0.1:{w.port}" == victim_id)
        survivor = next(w for w in workers if w is not victim)
        time.sleep(1.0)  # let an offset flush happen, then kill mid-stream
        victim.kill()
        killed_at_ms = time.time() * 1000
        wait_for(
            "the source task running on the survivor",
            lambda: (s := running(survivor, source, 1)) and s["tasks"][0]["worker_id"] == f"127.0.0.1:{survivor.port}",
            workers,
        )
        wait_for("the sink running", lambda: running(survivor, sink, 1), workers)
        time.sleep(1.0)
    finally:
        stop.set()
        grower.join()
    written = result[0]
    wait_for("every line in the sink file", lambda: set(map(int, _lines(dst))) >= set(written), workers, 120)
    seen = Counter(map(int, _lines(dst)))
    duplicates = sum(c - 1 for c in seen.values())
    assert set(seen) == set(written)

    # The source's duplicates in the topic are only lines after the last offset the killed worker committed.
    bootstrap = kafka_bootstrap
    key = json.dumps([source, {"filename": str(src)}], separators=(",", ":")).encode()
    commits = [r for r in read_topic(bootstrap, f"{cluster.group}-offsets") if r.key == key]
    before_kill = [r for r in commits if r.timestamp <= killed_at_ms]
    assert before_kill, "the killed worker committed no source offset"
    committed_line = json.loads(before_kill[-1].value)["position"] // 9  # fixed-width lines of 9 bytes
    in_topic = Counter(int(_payload(r.value)) for r in read_topic(bootstrap, topic))
    replayed = sorted(n for n, c in in_topic.items() if c > 1)
    assert all(n >= committed_line for n in replayed), (committed_line, replayed[:5])
    print(
        f"SIGKILL failover: {len(written)} lines, none lost; {len(replayed)} lines replayed by the source, all after "
        f"its last committed offset (line {committed_line}); {duplicates} duplicates in the sink file"
    )


def test_sigkill_moves_jdbc_sink_tasks_without_losing_rows(cluster, pg_db, kafka_bootstrap: str) -> None:
    """A JDBC sink (2 tasks on 2 workers) into PostgreSQL: one worker is killed mid-stream, its task continues on
    the other from the group's committed positions; every order is in the table, duplicates counted."""
    from test_jdbc_sink_e2e import kafka_produce
    from test_jdbc_sink_e2e_kill import Counter as RowCounter
    from test_jdbc_sink_e2e_kill import N, stream

    topic = f"orders_{_uid()}"
    records = stream(0)

    def produce(part: list[tuple[str, str]]) -> None:
        kafka_produce(
            kafka_bootstrap, topic, [v.encode() for _, v in part], [k.encode() for k, _ in part], partitions=4
        )

    produce(records[: N // 5])
    workers = cluster(2)
    name = f"orders-sink-{_uid()}"
    request(
        workers[1],
        "POST",
        "/connectors",
        {
            "name": name,
            "config": {
                "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
                "tasks.max": "2",
                "topics": topic,
                "table.name.format": "orders",
                "auto.create": "true",
                **pg_db.connection_config(),
            },
        },
        ok=(201,),
    )
    spread = wait_for(
        "two tasks on two workers",
        lambda: (s := running(workers[0], name, 2)) and len({t["worker_id"] for t in s["tasks"]}) == 2,
        workers,
    )
    assert spread

    # The rest arrives while the tasks run, so that the kill lands mid-stream.
    def trickle() -> None:
        for i in range(N // 5, N, 2500):
            produce(records[i : i + 2500])
            time.sleep(0.2)

    producer = threading.Thread(target=trickle)
    producer.start()
    counter = RowCounter(pg_db, "orders")
    try:
        at_kill = counter.wait_at_least(2 * N // 5, timeout=120)
        committed = committed_offsets(kafka_bootstrap, f"connect-{name}")
        victim = workers[0]
        victim.kill()
    finally:
        producer.join()
    survivor = workers[1]
    wait_for(
        "both tasks on the survivor",
        lambda: (
            (s := running(survivor, name, 2)) and {t["worker_id"] for t in s["tasks"]} == {f"127.0.0.1:{survivor.port}"}
        ),
        [survivor],
    )
    survivor.wait_for(
        lambda: counter.fetch("SELECT COUNT(DISTINCT order_id) FROM orders")[0][0] == N, timeout=180, what="every order"
    )
    total = counter.fetch("SELECT COUNT(*) FROM orders")[0][0]
    print(f"JDBC sink SIGKILL failover: {N} orders, none lost ({at_kill} rows at the kill), {total - N} duplicates")
    assert at_kill < N, "the sink finished before the kill: raise N"

    # Rows written twice come only from records after the positions the group had committed before the kill.
    where = {_payload(r.value)["order_id"]: (r.partition, r.offset) for r in read_topic(kafka_bootstrap, topic)}
    twice = [row[0] for row in counter.fetch("SELECT order_id FROM orders GROUP BY order_id HAVING COUNT(*) > 1")]
    early = [o for o in twice if where[o][1] < committed.get((topic, where[o][0]), 0)]
    assert not early, f"rows duplicated from before the committed offsets {committed}: {early[:5]}"
