"""Rows/s of the generic JDBC dialect (SQLAlchemy Core) beside the hand-tuned paths, sink and source.

Run: python bench/bench_jdbc_generic.py [N] [PUT_SIZE]   (defaults 100000 and 3000 = batch.size)
Cases, each on a fresh table: the sink puts N seed-format order records (insert, then upsert with 20% repeated
keys, pk.mode=record_value on order_id), then a source task reads the table back in bulk mode (one poll stream
until N records came). Databases: PostgreSQL through asyncpg (jdbc:postgresql, the fast path) and through
SQLAlchemy (postgresql+asyncpg://); SQLite through aiosqlite (jdbc:sqlite) and through SQLAlchemy
(sqlite+aiosqlite://); DuckDB through duckdb-engine (only the generic dialect reaches it; a thread per connection).
A throwaway PostgreSQL is started from tests/servers (or MINICONNECT_TEST_PG).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_jdbc_sink import make_records
from miniconnect_plugins.jdbc.sink import JdbcSinkTask
from miniconnect_plugins.jdbc.source import JdbcSourceTask
from servers import db_server

from miniconnect.connector import OffsetStorageReader, SinkTaskContext, SourceTaskContext


class NoOffsets(OffsetStorageReader):
    async def offsets(self, partitions):
        return {}


async def sink(props: dict[str, str], records, put_size: int) -> float:
    task = JdbcSinkTask()
    task.context = SinkTaskContext("bench", 0, props)
    await task.start(props)
    gc.collect()
    t0 = time.perf_counter()
    for lo in range(0, len(records), put_size):
        await task.put(records[lo : lo + put_size])
    secs = time.perf_counter() - t0
    await task.stop()
    return len(records) / secs


async def source(props: dict[str, str], n: int, table: str) -> float:
    cfg = {
        **props,
        "mode": "bulk",
        "tables": table,
        "tables.fetched": "true",
        "topic.prefix": "b-",
        "batch.max.rows": "1000",
        "poll.interval.ms": "3600000",
    }
    task = JdbcSourceTask()
    task.context = SourceTaskContext("bench", 0, cfg, NoOffsets())
    gc.collect()
    t0 = time.perf_counter()
    await task.start(cfg)
    got = 0
    while got < n:
        batch = await task.poll()
        got += len(batch or ())
    secs = time.perf_counter() - t0
    task.context.stopping.set()
    await task.stop()
    return got / secs


async def bench(label: str, props: dict[str, str], table: str, drop, n: int, put_size: int) -> None:
    records, upserts = make_records(n), make_records(n, repeat_every=5)
    up = {**props, "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "order_id"}
    await drop()
    ins = await sink({**props, "name": "bench", "topics": "orders", "auto.create": "true"}, records, put_size)
    src = await source(props, n, table)
    await drop()
    ups = await sink({**up, "name": "bench", "topics": "orders", "auto.create": "true"}, upserts, put_size)
    await drop()
    print(f"{label:<36} {ins:>10,.0f} {ups:>10,.0f} {src:>10,.0f}", flush=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    put_size = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    print(f"{n:,} seed-format records, {put_size} per put(); rows/s")
    print(f"{'':<36} {'insert':>10} {'upsert':>10} {'source':>10}")
    with db_server("postgresql") as server, tempfile.TemporaryDirectory() as tmp:

        async def pg_drop() -> None:
            conn = await server.connect()
            try:
                await conn.execute('DROP TABLE IF EXISTS "orders"')
            finally:
                await conn.close()

        def file_drop(path: Path):
            async def drop() -> None:
                for p in path.parent.glob(path.name + "*"):
                    p.unlink()

            return drop

        pg = server.connection_config()
        sa_pg = {**pg, "connection.url": pg["connection.url"].replace("jdbc:postgresql://", "postgresql+asyncpg://")}
        sq, duck = Path(tmp) / "b.db", Path(tmp) / "b.duckdb"
        cases = [
            ("PostgreSQL, asyncpg (fast path)", pg, '"public"."orders"', pg_drop),
            ("PostgreSQL, SQLAlchemy + asyncpg", sa_pg, '"public"."orders"', pg_drop),
            ("SQLite, aiosqlite (fast path)", {"connection.url": f"jdbc:sqlite:{sq}"}, '"orders"', file_drop(sq)),
            (
                "SQLite, SQLAlchemy + aiosqlite",
                {"connection.url": f"sqlite+aiosqlite:///{sq}"},
                '"orders"',
                file_drop(sq),
            ),
            (
                "DuckDB, SQLAlchemy + duckdb-engine",
                {"connection.url": f"duckdb:///{duck}"},
                '"orders"',
                file_drop(duck),
            ),
        ]
        for label, props, table, drop in cases:
            asyncio.run(bench(label, props, table, drop, n, put_size))


if __name__ == "__main__":
    main()
