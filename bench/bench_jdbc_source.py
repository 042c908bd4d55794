"""Rows/s of the JDBC source task polling a 1,000,000-row table on PostgreSQL and MariaDB, beside raw driver reads.

Usage: python bench/bench_jdbc_source.py [--rows N] [--batch N] [--only pg|mysql]
Starts throwaway servers from tests/servers unless MINICONNECT_TEST_PG / MINICONNECT_TEST_MYSQL point at yours.
Stages, each over the whole table:
  raw      the driver alone: server-side cursor (asyncpg) / SSCursor (aiomysql), batch rows per fetch
  task     JdbcSourceTask.poll() in incrementing mode until every row came back as a SourceRecord
  task+json  the same, plus JsonConverter.from_connect_batch on every polled batch (what the worker writes)
  columnar   the task with the worker's value envelope: PostgreSQL read through ADBC, MariaDB through connectorx, as
             Arrow batches and the JsonConverter bytes encoded from columns (EncodedRecords); the bytes the worker
             writes
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from miniconnect_plugins.jdbc.source import JdbcSourceTask
from servers import db_server

from miniconnect.connector import EncodedRecords, OffsetStorageReader, SourceTaskContext


class NoOffsets(OffsetStorageReader):
    async def offsets(self, partitions):
        return {}


async def load(server, rows: int) -> None:
    conn = await server.connect()
    t0 = time.perf_counter()
    if server.kind == "postgresql":
        await conn.execute("DROP TABLE IF EXISTS bench_src")
        await conn.execute(
            "CREATE TABLE bench_src (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(10,2), "
            "created_at timestamp NOT NULL, flag boolean)"
        )
        await conn.execute(
            "INSERT INTO bench_src SELECT g, 'name-' || g, g % 100000 / 100.0, "
            "timestamp '2024-01-01' + g * interval '1 millisecond', g % 2 = 0 "
            f"FROM generate_series(1, {rows}) g"
        )
        await conn.execute("VACUUM ANALYZE bench_src")
        await conn.close()
    else:
        async with conn.cursor() as cur:
            await cur.execute("DROP TABLE IF EXISTS bench_src")
            await cur.execute(
                "CREATE TABLE bench_src (id bigint PRIMARY KEY, name varchar(40) NOT NULL, "
                "amount decimal(10,2), created_at datetime(3) NOT NULL, flag tinyint(1))"
            )
            await cur.execute(
                "INSERT INTO bench_src SELECT seq, CONCAT('name-', seq), (seq % 100000) / 100.0, "
                "TIMESTAMPADD(MICROSECOND, seq * 1000, '2024-01-01'), seq % 2 = 0 "
                f"FROM seq_1_to_{rows}"
            )
        conn.close()
    print(f"  loaded {rows:,} rows in {time.perf_counter() - t0:.1f} s")


async def raw(server, batch: int) -> int:
    n = 0
    if server.kind == "postgresql":
        conn = await server.connect()
        async with conn.transaction():
            cur = await (await conn.prepare("SELECT * FROM bench_src WHERE id > $1 ORDER BY id ASC")).cursor(-1)
            while rows := await cur.fetch(batch):
                n += len(rows)
        await conn.close()
    else:
        import aiomysql

        conn = await server.connect()
        cur = await conn.cursor(aiomysql.SSCursor)
        await cur.execute("SELECT * FROM bench_src WHERE id > %s ORDER BY id ASC", (-1,))
        while rows := await cur.fetchmany(batch):
            n += len(rows)
        await cur.close()
        conn.close()
    return n


async def task_run(server, rows: int, batch: int, json: bool, columnar: bool = False) -> int:
    props = {
        **server.connection_config(),
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "topic.prefix": "bench-",
        "batch.max.rows": str(batch),
        "poll.interval.ms": "600000",
        "tables.fetched": "true",
        "tables": '"public"."bench_src"' if server.kind == "postgresql" else f"`{server.database}`.`bench_src`",
    }
    task = JdbcSourceTask()
    task.context = SourceTaskContext("bench", 0, props, NoOffsets())
    conv = None
    if json or columnar:
        from miniconnect.converters.json import JsonConverter

        conv = JsonConverter()
    if columnar:
        task.context.value_envelope = conv.json_struct_envelope
    await task.start(props)
    n = 0
    try:
        while n < rows:
            recs = await task.poll()
            if not recs:
                continue
            if type(recs) is EncodedRecords:
                n += len(recs.values)
                continue
            assert not columnar, "the columnar path did not apply"
            n += len(recs)
            if conv is not None:
                conv.from_connect_batch(recs[0].topic, [r.value_schema for r in recs], [r.value for r in recs])
    finally:
        task.context.stopping.set()
        await task.stop()
    return n


async def bench(server, rows: int, batch: int) -> None:
    await load(server, rows)
    for name, fn in (
        ("raw driver", lambda: raw(server, batch)),
        ("task", lambda: task_run(server, rows, batch, False)),
        ("task+json", lambda: task_run(server, rows, batch, True)),
        ("columnar", lambda: task_run(server, rows, batch, False, columnar=True)),
    ):
        t0, c0 = time.perf_counter(), time.process_time()
        n = await fn()
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"  {name:<11} {n:>9,} rows  {secs:6.2f} s  {n / secs:>9,.0f} rows/s  {cpu / n * 1e5:5.2f} CPU-s/100k")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--only", choices=["pg", "mysql"])
    args = ap.parse_args()
    for kind, db, label in (("pg", "postgresql", "PostgreSQL"), ("mysql", "mysql", "MariaDB")):
        if args.only and args.only != kind:
            continue
        with db_server(db) as server:
            print(f"{label} ({args.rows:,} rows, batch.max.rows={args.batch})")
            asyncio.run(bench(server, args.rows, args.batch))


if __name__ == "__main__":
    main()
