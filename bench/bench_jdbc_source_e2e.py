"""Rows/s of the JDBC source through a real `miniconnect standalone` worker, into Kafka and into the embedded log,
beside raw reading of the same table with the driver.

Usage: python bench/bench_jdbc_source_e2e.py [--rows N] [--mysql-rows N] [--only pg|mysql]
                                             [--transport kafka|embedded] [--batch-max-rows N]
                                             [--paths columnar,rows] [--repeat N] [--baseline DIR]
Starts throwaway PostgreSQL / MariaDB / Kafka from tests/servers unless MINICONNECT_TEST_PG / MINICONNECT_TEST_MYSQL /
MINICONNECT_TEST_KAFKA point at yours. Per database: the table bench_src (bigint id, text, numeric(10,2), timestamp,
boolean) is loaded once; then
  raw driver   server-side cursor (asyncpg) / SSCursor (aiomysql), 1000 rows per fetch, rows discarded
  worker       a JdbcSourceConnector (mode incrementing, JsonConverter) POSTed to a fresh worker process (--paths:
               the columnar read, the row path, or both interleaved); the time
               from the POST until the topic's end offset reaches the row count (end offsets read through the
               transport's admin API every 50 ms); also the worker process's CPU seconds over that time, since
               wall-clock figures on a shared machine mostly measure the other processes' load
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

from bench_jdbc_source import load, raw  # noqa: E402
from servers import db_server, delete_topics, kafka_server  # noqa: E402
from worker_process import WorkerProcess  # noqa: E402

from miniconnect.connector import TopicPartition  # noqa: E402


def transport_for(bootstrap: str | None, log_dir: Path):
    if bootstrap:
        from miniconnect.transport.kafka import KafkaTransport

        return KafkaTransport(bootstrap)
    from miniconnect.transport.embedded import EmbeddedLog

    return EmbeddedLog(str(log_dir))


async def records_in(transport, topic: str) -> int:
    n = (await transport.list_topics()).get(topic)
    if not n:
        return 0
    return sum((await transport.end_offsets([TopicPartition(topic, p) for p in range(n)])).values())


async def through_worker(
    server,
    rows: int,
    bootstrap: str | None,
    batch_max_rows: int | None,
    worker_props: dict[str, str],
    connector_props: dict[str, str],
    columnar: bool = True,
    code: str | None = None,
) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-jdbc-src-") as tmp:
        workdir = Path(tmp)
        extra = {"bootstrap.servers": bootstrap} if bootstrap else {}
        worker = WorkerProcess(
            workdir,
            extra={**extra, "offset.flush.interval.ms": "10000", **worker_props},
            env={
                **({} if columnar else {"MINICONNECT_JDBC_COLUMNAR": "off"}),
                **({"PYTHONPATH": code} if code else {}),
            },
        )
        worker.start()
        transport = transport_for(bootstrap, workdir / "log")
        await transport.start()
        prefix = f"bench-{uuid.uuid4().hex[:6]}-"
        config = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            **server.connection_config(),
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": "bench_src",
            "topic.prefix": prefix,
            "tasks.max": "1",
        }
        if batch_max_rows:
            config["batch.max.rows"] = str(batch_max_rows)
        config.update(connector_props)
        topic = prefix + "bench_src"
        try:
            cpu0 = worker.cpu_seconds()
            t0 = time.perf_counter()
            r = await asyncio.to_thread(worker.rest, "POST", "/connectors", {"name": "bench", "config": config})
            assert r.status_code == 201, r.text
            deadline = t0 + 1800
            checked = t0
            while (n := await records_in(transport, topic)) < rows:
                failed = time.perf_counter() > deadline or worker.proc.poll() is not None
                if not failed and time.perf_counter() - checked > 2:  # a failed task would never get there
                    checked = time.perf_counter()
                    status = (await asyncio.to_thread(worker.rest, "GET", "/connectors/bench/status")).json()
                    failed = "FAILED" in [status["connector"]["state"], *(t["state"] for t in status["tasks"])]
                if failed:
                    raise RuntimeError(f"{n:,} of {rows:,} records; worker log:\n{worker.log()[-3000:]}")
                await asyncio.sleep(0.05)
            secs = time.perf_counter() - t0
            cpu = worker.cpu_seconds() - cpu0
            peak = worker.memory_mb()[1]
        finally:
            await transport.stop()
            worker.stop()
            if bootstrap:
                await delete_topics(bootstrap, [topic])
        return secs, cpu, peak


async def bench(
    server,
    rows: int,
    bootstrap: str | None,
    transports: list[str],
    batch_max_rows: int | None,
    worker_props: dict[str, str],
    skip_raw: bool = False,
    connector_props: dict[str, str] | None = None,
    paths: tuple[str, ...] = ("columnar",),
    repeat: int = 1,
    baseline: str | None = None,
) -> None:
    await load(server, rows)
    if not skip_raw:
        t0 = time.perf_counter()
        n = await raw(server, 1000)
        secs = time.perf_counter() - t0
        print(f"  {'raw driver':<22} {n:>9,} rows  {secs:6.2f} s  {n / secs:>9,.0f} rows/s", flush=True)
    codes = [None, baseline] if baseline else [None]
    cases = [(t, p, c) for _ in range(repeat) for t in transports for p in paths for c in codes]
    for name, path, code in cases:  # interleaved
        secs, cpu, peak = await through_worker(
            server,
            rows,
            bootstrap if name == "kafka" else None,
            batch_max_rows,
            worker_props,
            connector_props or {},
            columnar=path == "columnar",
            code=code,
        )
        label = f"{path} -> {name}{' (baseline)' if code else ''}"
        print(
            f"  {label:<22} {rows:>9,} rows  {secs:6.2f} s  {rows / secs:>9,.0f} rows/s   (worker CPU {cpu:.1f} s, "
            f"{cpu / rows * 1e5:.2f} CPU-s/100k rows; peak RSS {peak:.0f} MB; load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000, help="PostgreSQL table rows")
    ap.add_argument("--mysql-rows", type=int, default=500_000, help="MariaDB table rows")
    ap.add_argument("--only", choices=["pg", "mysql"])
    ap.add_argument("--transport", choices=["kafka", "embedded"])
    ap.add_argument("--batch-max-rows", type=int, help="connector batch.max.rows (default: the connector's, 1000)")
    ap.add_argument(
        "--worker-prop",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an extra worker property (repeatable), e.g. producer.batch.size=65536",
    )
    ap.add_argument(
        "--connector-prop",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an extra connector property (repeatable), e.g. max.buffer.size=1000",
    )
    ap.add_argument("--skip-raw", action="store_true", help="skip the raw driver read")
    ap.add_argument(
        "--paths",
        default="columnar",
        help="comma-separated: columnar (the default path) and/or rows (MINICONNECT_JDBC_COLUMNAR=off), interleaved",
    )
    ap.add_argument("--repeat", type=int, default=1, help="run every case this many times, interleaved")
    ap.add_argument(
        "--baseline",
        metavar="DIR",
        help="also run each case with the worker importing miniconnect from DIR (another checkout, with a "
        "`miniconnect_plugins` link to its plugins/), interleaved: before and after a change in one run",
    )
    args = ap.parse_args()
    worker_props = dict(p.split("=", 1) for p in args.worker_prop)
    connector_props = dict(p.split("=", 1) for p in args.connector_prop)
    transports = [args.transport] if args.transport else ["kafka", "embedded"]
    with ExitStack() as servers:
        bootstrap = servers.enter_context(kafka_server()) if "kafka" in transports else None
        for kind, db, label, rows in (
            ("pg", "postgresql", "PostgreSQL", args.rows),
            ("mysql", "mysql", "MariaDB", args.mysql_rows),
        ):
            if args.only and args.only != kind:
                continue
            with db_server(db) as server:
                print(f"{label} ({rows:,} rows, batch.max.rows={args.batch_max_rows or 'default'})", flush=True)
                asyncio.run(
                    bench(
                        server,
                        rows,
                        bootstrap,
                        transports,
                        args.batch_max_rows,
                        worker_props,
                        args.skip_raw,
                        connector_props,
                        tuple(args.paths.split(",")),
                        args.repeat,
                        args.baseline,
                    )
                )


if __name__ == "__main__":
    main()
