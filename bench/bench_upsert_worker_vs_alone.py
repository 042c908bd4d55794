"""PostgreSQL's CPU per existing key: the same upserts through a `miniconnect standalone` worker and from asyncpg
alone, cases one after another on one PostgreSQL (issue 23: bench_pg_upsert.py measured 0.60-0.65 CPU-s/100k rows
alone, bench_jdbc_sink_kafka.py 0.87-1.22 through the worker).

Run: python bench/bench_upsert_worker_vs_alone.py [N] [--cases worker,lanes,alone,worker,lanes] [--connector K=V]
Each case: a fresh worker fills a fresh table by the upsert of N new keys from the embedded log (untimed), then the
same N keys with other quantities are upserted (timed) by
  worker  the worker (the connector of bench_jdbc_sink_kafka, columns path, two lanes by default);
  lanes   asyncpg over two connections at once, as the worker's lanes write: per 16,000-row put, each connection
          8,000 rows COPYed into a temp stage, then one INSERT ... SELECT ... ON CONFLICT DO UPDATE and COMMIT;
  alone   the same over one connection, 8,000 rows per transaction.
Each line gives rows/s, the database's CPU per 100k rows (every process of the cluster), table and index growth,
WAL per row and the buffers the backends wrote. The first case of a fresh server pays for creating its WAL segment
files: compare cases after it.
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
from typing import NoReturn

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_jdbc_sink_kafka  # noqa: E402
from bench_jdbc_sink_kafka import AllChanged, Db, produce_embedded, run_case, values, wait_done  # noqa: E402
from servers import db_server  # noqa: E402
from worker_process import WorkerProcess  # noqa: E402

BATCH = 8000  # rows per lane and put: the worker's puts from the embedded log are 16,000 records, split over 2 lanes
STATS = (
    "SELECT pg_relation_size('{t}'), pg_relation_size('{t}_pkey'), (SELECT wal_bytes FROM pg_stat_wal), "
    "buffers_backend FROM pg_stat_bgwriter"
)
UPSERT = (
    "INSERT INTO {t} (order_id, user_id, product_id, qty, unit_price, total_price) "
    "SELECT c0, c1, c2, c3, c4, c5 FROM pg_temp.stage ON CONFLICT (order_id) DO UPDATE SET "
    "user_id = EXCLUDED.user_id, product_id = EXCLUDED.product_id, qty = EXCLUDED.qty, "
    "unit_price = EXCLUDED.unit_price, total_price = EXCLUDED.total_price"
)


def rows_of(data: list[bytes]) -> list[tuple]:
    fields = ("order_id", "user_id", "product_id", "qty", "unit_price", "total_price")
    return [tuple(p[f] for f in fields) for p in (orjson.loads(v)["payload"] for v in data)]


async def stats(db: Db, table: str) -> tuple[int, ...]:
    conn = await db.server.connect()
    try:
        return tuple(await conn.fetchrow(STATS.format(t=table)))
    finally:
        await conn.close()


async def upsert(db: Db, table: str, puts: list[list[tuple]]) -> None:
    """Each put in its own transaction: COPY into the stage, one INSERT ... ON CONFLICT, COMMIT."""
    conn = await db.server.connect()
    try:
        await conn.execute(
            "CREATE TEMP TABLE stage (c0 text, c1 text, c2 text, c3 int, c4 int, c5 int) ON COMMIT DELETE ROWS"
        )
        sql = UPSERT.format(t=table) + "; COMMIT"
        for rows in puts:
            await conn.execute("BEGIN")
            await conn.copy_records_to_table("stage", records=rows)
            await conn.execute(sql)
    finally:
        await conn.close()


async def upsert_lanes(db: Db, table: str, rows: list[tuple], lanes: int) -> None:
    """rows in puts of lanes x BATCH rows, each put's slices written over `lanes` connections at once."""
    put = lanes * BATCH
    parts = [[rows[lo + i * BATCH : lo + (i + 1) * BATCH] for lo in range(0, len(rows), put)] for i in range(lanes)]
    await asyncio.gather(*(upsert(db, table, [p for p in part if p]) for part in parts))


def upsert_worker(worker: WorkerProcess, db: Db, topic: str, table: str, n: int) -> None:
    """The sink connector of bench_jdbc_sink_kafka over the topic of changed records, until every row changed."""
    name = f"sink-{uuid.uuid4().hex[:6]}"
    config = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "table.name.format": table,
        "insert.mode": "upsert",
        "pk.mode": "record_value",
        "pk.fields": "order_id",
        **db.connection(),
        **bench_jdbc_sink_kafka.CONNECTOR_EXTRA,
    }
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    assert r.status_code == 201, r.text

    def stuck(count: int) -> NoReturn:
        raise SystemExit(f"stuck at {count} rows\n{worker.log()[-3000:]}")

    wait_done(lambda: db.count(f"SELECT COUNT(*) FROM {table} WHERE qty > 1000"), n, stuck, AllChanged(db, table))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--cases", default="worker,lanes,alone,worker,lanes")
    ap.add_argument("--connector", action="append", default=[], help="K=V added to the worker's connector config")
    args = ap.parse_args()
    n = args.n
    bench_jdbc_sink_kafka.CONNECTOR_EXTRA.update(o.split("=", 1) for o in args.connector)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-upsert-") as tmp:
        db = Db("PostgreSQL", stack.enter_context(db_server("postgresql")))
        data, changed = values(n, False), values(n, False, changed=True)
        rows = rows_of(changed)
        topic = f"orders_{uuid.uuid4().hex[:6]}"
        log_dir = Path(tmp) / "log"
        for t, d in ((topic, data), (f"{topic}_changed", changed)):
            asyncio.run(produce_embedded(log_dir, t, d))
        extra = {"offset.flush.interval.ms": "10000", "embedded.log.dir": str(log_dir)}
        print(f"{n:,} existing keys upserted per case; PostgreSQL from tests/servers", flush=True)
        for i, case in enumerate(args.cases.split(",")):
            worker = WorkerProcess(Path(tmp) / f"w{i}", extra=extra)
            worker.start(30)
            try:
                table = run_case(worker, db, topic, n, "upsert", f"{i + 1}. {case}: the fill, new keys", keep=True)
                before, cpu0, t0 = asyncio.run(stats(db, table)), db.server_cpu(), time.perf_counter()
                if case == "worker":
                    wcpu0 = worker.cpu_seconds()
                    upsert_worker(worker, db, f"{topic}_changed", table, n)
                    wcpu = worker.cpu_seconds() - wcpu0
                elif case in ("lanes", "alone"):
                    asyncio.run(upsert_lanes(db, table, rows, 2 if case == "lanes" else 1))
                else:
                    raise SystemExit(f"unknown case {case!r}")
                secs, cpu = time.perf_counter() - t0, db.server_cpu() - cpu0
                own = f", the worker {wcpu / n * 1e5:.2f}" if case == "worker" else ""
                after = asyncio.run(stats(db, table))
                print(
                    f"{i + 1}. {case:<7} existing keys {n / secs:>9,.0f} rows/s  database {cpu / n * 1e5:.2f}{own} "
                    f"CPU-s/100k  table {before[0] >> 20}->{after[0] >> 20} MB, index {before[1] >> 20}->"
                    f"{after[1] >> 20} MB, WAL {(after[2] - before[2]) / n:.0f} B/row, buffers written by "
                    f"backends {after[3] - before[3]:,}",
                    flush=True,
                )
                db.drop(table)
            finally:
                worker.stop()


if __name__ == "__main__":
    main()
