"""A `miniconnect distributed` cluster on a real broker: failover and forwarding times, and JDBC sink scaling.

Run: python bench/bench_distributed.py [N] [--delay-ms D] [--session-timeout-ms S] [--skip-jdbc]
Servers: MINICONNECT_TEST_KAFKA / MINICONNECT_TEST_PG name servers to use, else throwaway ones are started.

Prints
- SIGKILL -> RUNNING elsewhere: two workers; the one running a FileStreamSource task is killed; the clock runs until
  the other worker's status shows the task RUNNING on itself. The broker notices the death after
  session.timeout.ms, then the leader waits scheduled.rebalance.max.delay.ms before reassigning (both printed).
- POST on a follower -> RUNNING: POST /connectors to the worker that is not the leader (forwarded), until the
  connector's task is RUNNING.
- JDBC sink into PostgreSQL, N seed-format records (bench_jdbc_sink_kafka's), tasks.max=2: one worker, then two
  workers in one group (the two tasks on different workers), rows/s from the POST until the table holds N rows.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_jdbc_sink_kafka import Db, produce_kafka, values  # noqa: E402
from servers import db_server, delete_topics, kafka_server  # noqa: E402
from worker_process import WorkerProcess, distributed_worker  # noqa: E402


def wait(what: str, predicate, timeout: float = 180.0, poll: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(poll)
    raise SystemExit(f"timed out waiting for {what}")


def task_worker(worker: WorkerProcess, name: str) -> str | None:
    r = worker.rest("GET", f"/connectors/{name}/status")
    if r.status_code != 200:
        return None
    tasks = r.json()["tasks"]
    return tasks[0]["worker_id"] if tasks and tasks[0]["state"] == "RUNNING" else None


def start_cluster(tmp: Path, bootstrap: str, n: int, extra: dict[str, str]) -> list[WorkerProcess]:
    group = f"bench-{uuid.uuid4().hex[:6]}"
    workers = [distributed_worker(tmp / f"w{i}", bootstrap, group, extra) for i in range(n)]
    for w in workers:
        w.start(60)
    return workers


def bench_failover(tmp: Path, bootstrap: str, extra: dict[str, str]) -> None:
    workers = start_cluster(tmp / "failover", bootstrap, 2, extra)
    try:
        src = tmp / "in.txt"
        src.write_text("x\n" * 10)
        follower = workers[-1]
        name = f"src-{uuid.uuid4().hex[:6]}"
        t0 = time.perf_counter()
        r = wait(
            "POST accepted",
            lambda: (
                (
                    x := follower.rest(
                        "POST",
                        "/connectors",
                        {
                            "name": name,
                            "config": {"connector.class": "FileStreamSource", "file": str(src), "topic": f"t-{name}"},
                        },
                    )
                ).status_code
                == 201
                and x
            ),
        )
        assert r
        owner = wait("the task RUNNING", lambda: task_worker(follower, name))
        print(
            f"POST /connectors on the last worker to join -> task RUNNING: {time.perf_counter() - t0:6.2f} s",
            flush=True,
        )
        victim = next(w for w in workers if owner == f"127.0.0.1:{w.port}")
        survivor = next(w for w in workers if w is not victim)
        t0 = time.perf_counter()
        victim.kill()
        wait("the task RUNNING on the survivor", lambda: task_worker(survivor, name) == f"127.0.0.1:{survivor.port}")
        print(
            f"SIGKILL -> task RUNNING on the other worker: {time.perf_counter() - t0:6.2f} s "
            f"(session.timeout.ms={extra['session.timeout.ms']}, "
            f"scheduled.rebalance.max.delay.ms={extra['scheduled.rebalance.max.delay.ms']})",
            flush=True,
        )
    finally:
        for w in workers:
            w.stop()


def bench_jdbc(tmp: Path, bootstrap: str, db: Db, n: int, extra: dict[str, str]) -> None:
    topic = f"orders_{uuid.uuid4().hex[:6]}"
    secs = asyncio.run(produce_kafka(bootstrap, topic, values(n, False)))
    print(f"produced {n:,} records in {secs:.1f} s", flush=True)
    try:
        for count in (1, 2):
            workers = start_cluster(
                tmp / f"jdbc{count}", bootstrap, count, {"offset.flush.interval.ms": "10000", **extra}
            )
            try:
                table = f"bench_{uuid.uuid4().hex[:8]}"
                config = {
                    "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
                    "tasks.max": "2",
                    "topics": topic,
                    "table.name.format": table,
                    "auto.create": "true",
                    **db.connection(),
                }
                cpu0 = sum(w.cpu_seconds() for w in workers)
                t0 = time.perf_counter()
                wait(
                    "POST accepted",
                    lambda: (
                        workers[0].rest("POST", "/connectors", {"name": f"sink-{table}", "config": config}).status_code
                        == 201
                    ),
                )
                wait("every row", lambda: db.count(f"SELECT COUNT(*) FROM {table}") >= n, 600, 0.5)
                elapsed = time.perf_counter() - t0
                spread = {
                    t["worker_id"] for t in workers[0].rest("GET", f"/connectors/sink-{table}/status").json()["tasks"]
                }
                cpu = sum(w.cpu_seconds() for w in workers) - cpu0
                print(
                    f"JDBC sink -> PostgreSQL, {count} worker{'s' if count > 1 else ''} (2 tasks on "
                    f"{len(spread)} worker{'s' if len(spread) > 1 else ''}): {n / elapsed:>10,.0f} rows/s "
                    f"({elapsed:.1f} s; workers' CPU {cpu:.1f} s)",
                    flush=True,
                )
                db.drop(table)
            finally:
                for w in workers:
                    w.stop()
    finally:
        asyncio.run(delete_topics(bootstrap, [topic]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=500_000)
    ap.add_argument("--delay-ms", default="3000", help="scheduled.rebalance.max.delay.ms")
    ap.add_argument("--session-timeout-ms", default="6000", help="session.timeout.ms")
    ap.add_argument("--skip-jdbc", action="store_true")
    args = ap.parse_args()
    extra = {
        "scheduled.rebalance.max.delay.ms": args.delay_ms,
        "session.timeout.ms": args.session_timeout_ms,
        "heartbeat.interval.ms": str(max(int(args.session_timeout_ms) // 5, 100)),
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp:
        bootstrap = stack.enter_context(kafka_server())
        bench_failover(Path(tmp), bootstrap, extra)
        if not args.skip_jdbc:
            db = Db("PostgreSQL", stack.enter_context(db_server("postgresql")))
            bench_jdbc(Path(tmp), bootstrap, db, args.n, extra)


if __name__ == "__main__":
    main()
