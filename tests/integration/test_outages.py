"""Outages ridden out by a real worker with its default settings: PostgreSQL or MariaDB stopped for 90 s and started
again under a JDBC sink and under a JDBC source, Kafka's broker restarted under both. Meanwhile the task stays RUNNING
with a trace naming what it waits for; afterwards it resumes by itself, nothing lost. MINICONNECT_TEST_OUTAGE_S
shortens the outages for a quick run."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.jdbc_sink import topics_produce
from pipelines import copy_sink, items_source, sqlite, sqlite_counts
from servers import DbServer, run_async
from worker_process import WorkerProcess

OUTAGE_S = float(os.environ.get("MINICONNECT_TEST_OUTAGE_S", "90"))
SCHEMA = {
    "type": "struct",
    "name": "item",
    "optional": False,
    "fields": [{"field": "id", "type": "int32", "optional": False}, {"field": "name", "type": "string"}],
}


def values(first: int, last: int) -> list[str]:
    return [json.dumps({"schema": SCHEMA, "payload": {"id": i, "name": f"item-{i}"}}) for i in range(first, last)]


def sql(server: DbServer, statement: str) -> list[tuple]:
    async def run() -> list[tuple]:
        conn = await server.connect()
        try:
            if server.kind == "postgresql":
                return [tuple(r) for r in await conn.fetch(statement)]
            async with conn.cursor() as cur:
                await cur.execute(statement)
                rows = [tuple(r) for r in await cur.fetchall()]
            await conn.commit()
            return rows
        finally:
            await conn.close() if server.kind == "postgresql" else conn.close()

    return run_async(run, 60)


def db_counts(server: DbServer, table: str) -> tuple[int, int]:
    """(rows, distinct ids); (0, 0) before the table exists or while the server is down."""
    try:
        return sql(server, f"SELECT COUNT(*), COUNT(DISTINCT id) FROM {table}")[0]
    except Exception:
        return 0, 0


def task_status(worker: WorkerProcess, name: str) -> dict[str, Any]:
    tasks = worker.rest("GET", f"/connectors/{name}/status").json().get("tasks") or [{}]
    return tasks[0]


def wait_waiting(worker: WorkerProcess, name: str, timeout: float) -> dict[str, Any]:
    """Waits for the task to show it waits: RUNNING (never FAILED) with a trace naming the wait."""

    def waiting() -> Any:
        t = task_status(worker, name)
        assert t.get("state") != "FAILED", t
        return t if t.get("state") == "RUNNING" and "Waiting" in (t.get("trace") or "") else None

    return worker.wait_for(waiting, timeout, f"{name} RUNNING with a trace naming the wait")


def ride_out(worker: WorkerProcess, name: str, halt: Any, resume: Any) -> float:
    """Stops the resource, checks the task waits for it all along, starts it again; returns when it was back."""
    halt()
    t0 = time.monotonic()
    status = wait_waiting(worker, name, OUTAGE_S + 60)
    print(f"\n{name} while waiting: {status['trace'][:300]}")
    while time.monotonic() - t0 < OUTAGE_S:
        t = task_status(worker, name)
        assert t.get("state") == "RUNNING", t  # waiting, never FAILED
        time.sleep(2)
    resume()
    return time.monotonic()


def jdbc_url(server: DbServer) -> dict[str, str]:
    scheme = "postgresql" if server.kind == "postgresql" else "mariadb"
    return {
        "connection.url": f"jdbc:{scheme}://127.0.0.1:{server.port}/{server.database}",
        "connection.user": server.user,
        "connection.password": server.password,
    }


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_database_outage_under_a_sink(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    own = request.getfixturevalue("pg_own" if kind == "postgresql" else "mysql_own")
    server: DbServer = own.server
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        config = copy_sink(jdbc_url(server), "outage_sink")
        assert worker.rest("PUT", "/connectors/sink/config", config).status_code == 201
        topics_produce(worker, "outage_sink", values(0, 10_000))
        worker.wait_for(lambda: db_counts(server, "outage_sink")[1] == 10_000, 120, "the first 10,000 rows")

        def halt() -> None:
            own.halt()
            topics_produce(worker, "outage_sink", values(10_000, 20_000))  # arrive while the database is down

        back = ride_out(worker, "sink", halt, own.resume)
        worker.wait_for(lambda: db_counts(server, "outage_sink")[1] == 20_000, 180, "all 20,000 rows")
        resumed = time.monotonic() - back
        worker.wait_for(lambda: not task_status(worker, "sink").get("trace"), 30, "the trace cleared")
        rows, distinct = db_counts(server, "outage_sink")
        print(
            f"{kind} sink: {OUTAGE_S:.0f} s outage ridden out, all rows {resumed:.1f} s after the database was back, "
            f"{rows - distinct} duplicates"
        )
        assert task_status(worker, "sink")["state"] == "RUNNING"
        assert rows - distinct <= 4_000  # at most the batch that was in flight (the put() was rolled back)
    finally:
        worker.stop()


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_database_outage_under_a_source(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    own = request.getfixturevalue("pg_own" if kind == "postgresql" else "mysql_own")
    server: DbServer = own.server
    serial = "SERIAL PRIMARY KEY" if kind == "postgresql" else "INT AUTO_INCREMENT PRIMARY KEY"
    sql(server, f"CREATE TABLE items (id {serial}, name VARCHAR(32) NOT NULL)")

    def insert(first: int, last: int) -> None:
        rows = ", ".join(f"('item-{i}')" for i in range(first, last))
        sql(server, f"INSERT INTO items (name) VALUES {rows}")

    insert(0, 5_000)
    target = tmp_path / "copy.db"
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        source = items_source(jdbc_url(server), "outage_src_")
        sink = copy_sink(sqlite(target), "outage_src_items")  # the source's records, copied to count them
        assert worker.rest("PUT", "/connectors/source/config", source).status_code == 201
        assert worker.rest("PUT", "/connectors/copy/config", sink).status_code == 201
        worker.wait_for(lambda: sqlite_counts(target, "outage_src_items")[1] == 5_000, 120, "the first 5,000 rows")
        back = ride_out(worker, "source", own.halt, own.resume)
        insert(5_000, 10_000)
        worker.wait_for(lambda: sqlite_counts(target, "outage_src_items")[1] == 10_000, 180, "all 10,000 rows")
        resumed = time.monotonic() - back
        worker.wait_for(lambda: not task_status(worker, "source").get("trace"), 30, "the trace cleared")
        rows, distinct = sqlite_counts(target, "outage_src_items")
        print(
            f"{kind} source: {OUTAGE_S:.0f} s outage ridden out, new rows {resumed:.1f} s after the database was "
            f"back, {rows - distinct} duplicates"
        )
        assert rows == distinct  # the outage made the source send nothing twice
    finally:
        worker.stop()


def test_kafka_broker_restart_under_a_source_and_a_sink(kafka_own: Any, tmp_path: Path) -> None:
    """SQLite -> Kafka -> SQLite: the broker stopped (controlled shutdown) while rows keep coming, then started
    again; both tasks ride it out and every row arrives."""
    src, dst = tmp_path / "src.db", tmp_path / "dst.db"
    con = sqlite3.connect(src, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")  # the source's read transaction, held while Kafka is away, blocks no insert
    con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)")

    def insert(n: int) -> None:
        con.execute("BEGIN")
        con.executemany("INSERT INTO items (name) VALUES (?)", ((f"item-{i}",) for i in range(n)))
        con.execute("COMMIT")

    insert(5_000)
    halted = False
    worker = WorkerProcess(tmp_path / "worker", extra={"bootstrap.servers": kafka_own.bootstrap})
    worker.start()
    try:
        source = items_source(sqlite(src), "broker_", **{"poll.interval.ms": "200"})
        sink = copy_sink(sqlite(dst), "broker_items")
        assert worker.rest("PUT", "/connectors/source/config", source).status_code == 201
        assert worker.rest("PUT", "/connectors/sink/config", sink).status_code == 201
        worker.wait_for(lambda: sqlite_counts(dst, "broker_items")[1] == 5_000, 120, "the first 5,000 rows")
        kafka_own.halt()
        halted = True
        t0 = time.monotonic()
        insert(5_000)  # polled while the broker is down
        outage = min(OUTAGE_S, 30.0)
        status = wait_waiting(worker, "source", 120)
        print(f"\nsource while the broker is down: {status['trace'][:300]}")
        while time.monotonic() - t0 < outage:
            for name in ("source", "sink"):
                assert task_status(worker, name).get("state") == "RUNNING", task_status(worker, name)
            time.sleep(2)
        kafka_own.resume()
        halted = False
        back = time.monotonic()
        worker.wait_for(lambda: sqlite_counts(dst, "broker_items")[1] == 10_000, 180, "all 10,000 rows")
        rows, distinct = sqlite_counts(dst, "broker_items")
        print(
            f"broker down {back - t0:.0f} s: all rows {time.monotonic() - back:.1f} s after it was back, "
            f"{rows - distinct} duplicates"
        )
        for name in ("source", "sink"):
            assert task_status(worker, name)["state"] == "RUNNING"
    finally:
        if halted:
            kafka_own.resume()
        worker.stop()
        con.close()
