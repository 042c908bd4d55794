"""PostgreSQL's own cost of each way to upsert a staged batch (issue 23): asyncpg alone, no worker, the sink's rows.

Run: python bench/bench_pg_upsert.py [--rows N] [--batch 4000] [--ways onconflict,update-insert,...] [--explain]
(server: MINICONNECT_TEST_PG=postgresql://..., else a throwaway one from tests/servers).
Each way gets a fresh table of the seed orders (order_id text primary key, as auto.create makes it), filled with N
rows by COPY in batch-sized transactions, as the sink's new-key upserts leave it; then "existing keys": the same N
keys with new quantities, staged by COPY into a temp table and upserted in batch-sized transactions; then "new
keys": N more keys the same way (no COPY-first: that is the statement's own cost). Each line gives wall rows/s, the
client's CPU and the whole server's CPU (every process of the cluster: backends, WAL writer, autovacuum) per 100k
rows: on a shared machine the CPU is the steadier figure. Ways: onconflict (the sink's statement), onconflict-sorted
(the stage read in key order), update-insert (UPDATE ... FROM the stage RETURNING the keys, then INSERT ... ON
CONFLICT of the others, one statement), update-insert-nohash (the same with SET LOCAL enable_hashjoin = off),
update;insert (two statements, the insert's NOT EXISTS against the table), merge (PostgreSQL 15+), unnest (no
stage: the columns bound as arrays and unnested by the INSERT ... ON CONFLICT). --explain prints
each statement's plan for the first batch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_jdbc_sink_kafka import process_tree_cpu, values
from servers import db_server

COLS = ["order_id", "user_id", "product_id", "qty", "unit_price", "total_price"]
STAGE = "bench_stage"


def rows(lo: int, hi: int, changed: bool = False) -> list[tuple]:
    """Orders lo..hi-1 as the sink's columns (the payloads of bench_jdbc_sink_kafka's records)."""
    return [tuple(orjson.loads(v)["payload"].values()) for v in values(hi - lo, False, changed, lo)]


def ways(t: str) -> dict[str, str]:
    """The statements each way sends after the COPY into the stage (one round trip)."""
    names = ",".join(COLS)
    stage_cols = ",".join(f"c{i}" for i in range(len(COLS)))
    excluded = ",".join(f"{c}=EXCLUDED.{c}" for c in COLS[1:])
    from_stage = ",".join(f"{c}=s.c{i}" for i, c in enumerate(COLS) if i)
    svals = ",".join(f"s.c{i}" for i in range(len(COLS)))
    on_conflict = f"ON CONFLICT (order_id) DO UPDATE SET {excluded}"
    update_insert = (
        f"WITH u AS (UPDATE {t} SET {from_stage} FROM pg_temp.{STAGE} s WHERE {t}.order_id = s.c0 "
        f"RETURNING s.c0) INSERT INTO {t} ({names}) SELECT {svals} FROM pg_temp.{STAGE} s "
        f"WHERE NOT EXISTS (SELECT FROM u WHERE u.c0 = s.c0) {on_conflict}"
    )
    return {
        "onconflict": f"INSERT INTO {t} ({names}) SELECT {stage_cols} FROM pg_temp.{STAGE} {on_conflict}",
        "onconflict-sorted": (
            f"INSERT INTO {t} ({names}) SELECT {stage_cols} FROM pg_temp.{STAGE} ORDER BY c0 {on_conflict}"
        ),
        "update-insert": (
            f"WITH u AS (UPDATE {t} SET {from_stage} FROM pg_temp.{STAGE} s WHERE {t}.order_id = s.c0 "
            f"RETURNING s.c0) INSERT INTO {t} ({names}) SELECT {svals} FROM pg_temp.{STAGE} s "
            f"WHERE NOT EXISTS (SELECT FROM u WHERE u.c0 = s.c0) {on_conflict}"
        ),
        "update;insert": (
            f"UPDATE {t} SET {from_stage} FROM pg_temp.{STAGE} s WHERE {t}.order_id = s.c0; "
            f"INSERT INTO {t} ({names}) SELECT {svals} FROM pg_temp.{STAGE} s "
            f"WHERE NOT EXISTS (SELECT FROM {t} WHERE {t}.order_id = s.c0) {on_conflict}"
        ),
        "update-insert-nohash": "SET LOCAL enable_hashjoin = off; " + update_insert,
        # no stage: the batch's columns bound as arrays, unnested by the statement (run_way's special case)
        "unnest": (
            f"INSERT INTO {t} ({names}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
            f"$5::int[], $6::int[]) {on_conflict}"
        ),
        "merge": (
            f"MERGE INTO {t} USING pg_temp.{STAGE} s ON {t}.order_id = s.c0 WHEN MATCHED THEN UPDATE SET "
            f"{from_stage} WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({svals})"
        ),
    }


async def run_way(server, way: str, n: int, batch: int, explain: bool) -> None:
    conn = await server.connect()
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    postmaster = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    t = f"bench_up_{uuid.uuid4().hex[:6]}"
    try:
        await conn.execute(
            f"CREATE TABLE {t} (order_id text PRIMARY KEY, user_id text, product_id text, qty int, unit_price int, "
            "total_price int)"
        )
        await conn.execute(
            f"CREATE TEMP TABLE {STAGE} (c0 text, c1 text, c2 text, c3 int, c4 int, c5 int) ON COMMIT DELETE ROWS"
        )
        for lo in range(0, n, batch):
            async with conn.transaction():
                await conn.copy_records_to_table(t, records=rows(lo, min(n, lo + batch)))
        await conn.execute("CHECKPOINT")
        sql = ways(t)[way]
        for label, lo0, changed in (("existing keys", 0, True), ("new keys", n, False)):
            batches = [rows(lo, min(lo0 + n, lo + batch), changed) for lo in range(lo0, lo0 + n, batch)]
            if explain and way != "unnest":
                await conn.execute("BEGIN")
                await conn.copy_records_to_table(STAGE, records=batches[0])
                for stmt in sql.split("; "):
                    if stmt.startswith("SET "):
                        await conn.execute(stmt)
                        continue
                    print("\n".join("    " + r[0] for r in await conn.fetch("EXPLAIN " + stmt)))
                await conn.execute("ROLLBACK")
            cpu0, scpu0, t0 = time.process_time(), process_tree_cpu(postmaster), time.perf_counter()
            for b in batches:
                if way == "unnest":
                    async with conn.transaction():
                        await conn.execute(sql, *map(list, zip(*b)))
                    continue
                await conn.execute("BEGIN")
                await conn.copy_records_to_table(STAGE, records=b)
                await conn.execute(sql + "; COMMIT")
            secs = time.perf_counter() - t0
            cpu, scpu = time.process_time() - cpu0, process_tree_cpu(postmaster) - scpu0
            print(
                f"  {way:<20} {label:<14} {n / secs:>9,.0f} rows/s  client {cpu / n * 1e5:.2f}  "
                f"server {scpu / n * 1e5:.2f} CPU-s/100k  ({secs:.1f} s)",
                flush=True,
            )
        count, changed_rows = await conn.fetchrow(f"SELECT COUNT(*), COUNT(*) FILTER (WHERE qty > 1000) FROM {t}")
        assert (count, changed_rows) == (2 * n, n), (count, changed_rows)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {t}")
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=4000)
    ap.add_argument("--ways", default="onconflict,onconflict-sorted,update-insert,update-insert-nohash,merge")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--explain", action="store_true")
    args = ap.parse_args()
    with ExitStack() as stack:
        server = stack.enter_context(db_server("postgresql"))
        print(f"{args.rows:,} rows, {args.batch} per transaction, load average {os.getloadavg()[0]:.1f}")
        for _ in range(args.repeat):
            for way in args.ways.split(","):
                asyncio.run(run_way(server, way, args.rows, args.batch, args.explain))


if __name__ == "__main__":
    main()
