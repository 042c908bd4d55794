"""A `miniconnect distributed` cluster on a real broker: failover and forwarding times, and JDBC sink scaling.

Run: python bench/bench_distributed.py [N] [--delay-ms D] [--session-timeout-ms S] [--skip-jdbc] [--skip-failover] [--paths columns,records]
Servers: MINICONNECT_TEST_KAFKA / MINICONNECT_TEST_PG name servers to use, else throwaway ones are started.

Prints
- SIGKILL -> RUNNING elsewhere: two workers; the one running a FileStreamSource task is killed; the clock runs until
  the other worker's status shows the task RUNNING on itself. The broker notices the death after
  session.timeout.ms, then the leader waits scheduled.rebalance.max.delay.ms before reassigning (both printed).
- POST on a follower -> RUNNING: POST /connectors to the worker that is not the leader (forwarded), until the
  connector's task is RUNNING.
- JDBC sink into PostgreSQL, N seed-format records (bench_jdbc_sink_kafka's), tasks.max=2: one worker, then two
  workers in one group (the two tasks on different workers), rows/s from the POST until the table holds N rows, and
  from the first rows in the table on (without the tasks' start and the group's rebalance); for the default
  columnar write path and for the record path (errors.tolerance=all). The ceiling beside them: PostgreSQL's own
  binary COPY of the same rows on one and on two connections.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def machine_cpu() -> tuple[float, dict[str, float]]:
    """CPU seconds the whole machine has been busy (/proc/stat, every core), and by live process name (java: the
    broker; postgres: the server's backends; python: the workers and this script)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = (sum(map(int, fields)) - int(fields[3]) - int(fields[4])) / tick  # all but idle and iowait
    by_name: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        by_name[name] = by_name.get(name, 0.0) + (int(rest[11]) + int(rest[12])) / tick
    return busy, by_name


def cpu_line(before: tuple[float, dict[str, float]], wall: float) -> str:
    busy, names = machine_cpu()
    used = {k: v - before[1].get(k, 0.0) for k, v in names.items()}
    top = sorted(((v, k) for k, v in used.items() if v >= 0.2), reverse=True)[:4]
    parts = ", ".join(f"{k} {v:.1f}" for v, k in top)
    return f"machine busy {(busy - before[0]) / wall:.2f} of {os.cpu_count()} cores ({parts} CPU-s)"


PATHS = {
    "columns": {},  # the default: batches written as columns (pyarrow -> pgpq binary COPY)
    # errors.tolerance=all reports bad records one by one, so the task writes record by record: the path whose
    # cost is the worker's CPU, where a second worker should show.
    "records": {"errors.tolerance": "all"},
}


def sink_run(tmp: Path, bootstrap: str, db: Db, topic: str, n: int, count: int, path: str, extra: dict[str, str]):
    """One sink connector (tasks.max=2) on a fresh cluster of `count` workers until the table holds n rows; the
    table is left for the ceiling."""
    workers = start_cluster(tmp, bootstrap, count, {"offset.flush.interval.ms": "10000", **extra})
    try:
        table = f"bench_{uuid.uuid4().hex[:8]}"
        config = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "tasks.max": "2",
            "topics": topic,
            "table.name.format": table,
            "auto.create": "true",
            **PATHS[path],
            **db.connection(),
        }
        cpu0 = sum(w.cpu_seconds() for w in workers)
        t0, machine0 = time.perf_counter(), machine_cpu()
        wait(
            "POST accepted",
            lambda: (
                workers[0].rest("POST", "/connectors", {"name": f"sink-{table}", "config": config}).status_code == 201
            ),
        )
        first = wait("the first rows", lambda: db.count(f"SELECT COUNT(*) FROM {table}"), 120, 0.05)
        t_first = time.perf_counter()
        wait("every row", lambda: db.count(f"SELECT COUNT(*) FROM {table}") >= n, 600, 0.1)
        elapsed = time.perf_counter() - t0
        steady = (n - first) / (time.perf_counter() - t_first)
        tasks = workers[0].rest("GET", f"/connectors/sink-{table}/status").json()["tasks"]
        spread = len({t["worker_id"] for t in tasks})
        cpu = sum(w.cpu_seconds() for w in workers) - cpu0
        print(
            f"JDBC sink -> PostgreSQL, {path:<7} {count} worker{'s' if count > 1 else ' '} (2 tasks on {spread}): "
            f"{n / elapsed:>9,.0f} rows/s from the POST ({elapsed:5.1f} s), {steady:>9,.0f} rows/s from the first "
            f"rows on; workers' CPU {cpu:5.1f} s; {cpu_line(machine0, elapsed)}",
            flush=True,
        )
        return table, n / elapsed
    finally:
        for w in workers:
            w.stop()


async def copy_ceiling(db: Db, table: str, connections: int) -> float:
    """rows/s of asyncpg binary COPY of the table's rows into new tables of its shape, on `connections` connections
    at once: what PostgreSQL on this machine takes in when no worker stands in front of it."""
    conn = await db.server.connect()
    try:
        rows = await conn.fetch(f"SELECT * FROM {table}")
    finally:
        await conn.close()
    conns = [await db.server.connect() for _ in range(connections)]
    try:
        for i, c in enumerate(conns):
            await c.execute(f"CREATE TABLE {table}_copy{i} (LIKE {table})")
        step = -(-len(rows) // connections)
        t0 = time.perf_counter()
        await asyncio.gather(
            *(
                c.copy_records_to_table(f"{table}_copy{i}", records=rows[i * step : (i + 1) * step])
                for i, c in enumerate(conns)
            )
        )
        rate = len(rows) / (time.perf_counter() - t0)
        for i, c in enumerate(conns):
            await c.execute(f"DROP TABLE {table}_copy{i}")
        return rate
    finally:
        for c in conns:
            await c.close()


def bench_jdbc(tmp: Path, bootstrap: str, db: Db, n: int, extra: dict[str, str], paths: list[str]) -> None:
    topic = f"orders_{uuid.uuid4().hex[:6]}"
    secs = asyncio.run(produce_kafka(bootstrap, topic, values(n, False)))
    print(f"produced {n:,} records in {secs:.1f} s", flush=True)
    try:
        for path in paths:
            rates = []
            for count in (1, 2):
                table, rate = sink_run(tmp / f"jdbc-{path}{count}", bootstrap, db, topic, n, count, path, extra)
                rates.append(rate)
                if count == 1 and path == paths[0]:
                    for c in (1, 2):
                        print(
                            f"ceiling: PostgreSQL binary COPY of the same rows (asyncpg, {c} connection"
                            f"{'s' if c > 1 else ''}): {asyncio.run(copy_ceiling(db, table, c)):>9,.0f} rows/s",
                            flush=True,
                        )
                db.drop(table)
            print(f"JDBC sink, {path}: 2 workers / 1 worker = {rates[1] / rates[0]:.2f}x", flush=True)
    finally:
        asyncio.run(delete_topics(bootstrap, [topic]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=500_000)
    ap.add_argument("--delay-ms", default="3000", help="scheduled.rebalance.max.delay.ms")
    ap.add_argument("--session-timeout-ms", default="6000", help="session.timeout.ms")
    ap.add_argument("--skip-jdbc", action="store_true")
    ap.add_argument("--skip-failover", action="store_true")
    ap.add_argument("--paths", default="columns,records", help="sink write paths: columns, records")
    args = ap.parse_args()
    extra = {
        "scheduled.rebalance.max.delay.ms": args.delay_ms,
        "session.timeout.ms": args.session_timeout_ms,
        "heartbeat.interval.ms": str(max(int(args.session_timeout_ms) // 5, 100)),
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp:
        bootstrap = stack.enter_context(kafka_server())
        if not args.skip_failover:
            bench_failover(Path(tmp), bootstrap, extra)
        if not args.skip_jdbc:
            db = Db("PostgreSQL", stack.enter_context(db_server("postgresql")))
            bench_jdbc(Path(tmp), bootstrap, db, args.n, extra, args.paths.split(","))


if __name__ == "__main__":
    main()
