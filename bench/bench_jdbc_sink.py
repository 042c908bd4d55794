"""Rows/s for the JDBC sink: 1,000,000 seed-format order records put into PostgreSQL and MariaDB, insert and upsert.

Run: python bench/bench_jdbc_sink.py [N] [PUT_SIZE] [--json-only]   (defaults 1000000 and 3000 = batch.size)
Throwaway servers are started from tests/servers (or use MINICONNECT_TEST_PG / MINICONNECT_TEST_MYSQL URLs).
Each case drives JdbcSinkTask.put directly with PUT_SIZE records per call (one transaction per put), into a fresh
table created by auto.create; "json" cases also decode each record's seed-format envelope with JsonConverter
(schemas.enable=true) first, as the worker would; "columns" cases read the same envelopes as Arrow columns
(runtime/sink_columns) and write them with put_columns (the column path the worker takes for such batches). Upsert
uses pk.mode=record_value, pk.fields=order_id, with 20% of the keys repeated (updates of existing rows). Each line
gives the process's CPU seconds per 100k rows too (the machine may be shared: CPU is the steadier figure).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from miniconnect_plugins.jdbc.sink import JdbcSinkTask
from servers import db_server

from miniconnect.connector import SinkTaskContext
from miniconnect.converters.json import JsonConverter
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import OPTIONAL_INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, Schema, Struct
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.transport.base import RecordBatch

ORDERS = Schema.struct(
    [
        ("order_id", OPTIONAL_STRING_SCHEMA),
        ("user_id", OPTIONAL_STRING_SCHEMA),
        ("product_id", OPTIONAL_STRING_SCHEMA),
        ("qty", OPTIONAL_INT32_SCHEMA),
        ("unit_price", OPTIONAL_INT32_SCHEMA),
        ("total_price", OPTIONAL_INT32_SCHEMA),
    ],
    name="orders",
)


def make_records(n: int, repeat_every: int = 0) -> list[SinkRecord]:
    out = []
    for i in range(n):
        k = i - i % 5 if repeat_every and i % 5 == 4 else i  # every 5th record re-uses the previous key
        qty, price = i % 50 + 1, (i % 7 + 1) * 1000
        v = Struct(
            ORDERS,
            [
                str(uuid.UUID(int=k * 7919 + 1)),
                str(uuid.UUID(int=i * 104729)),
                f"CATALOG-{i % 1000:03d}",
                qty,
                price,
                qty * price,
            ],
        )
        out.append(SinkRecord("orders", i % 4, None, None, ORDERS, v, i))
    return out


def encode(records: list[SinkRecord]) -> list[bytes]:
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    return [conv.from_connect_data("orders", r.value_schema, r.value) for r in records]


async def run_case(
    label: str,
    props: dict[str, str],
    records: list[SinkRecord],
    put_size: int,
    raw: list[bytes] | None,
    drop: callable,
    columns: bool = False,
) -> None:
    await drop()
    task = JdbcSinkTask()
    task.context = SinkTaskContext("bench", 0, props)
    await task.start(props)
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    reader = ColumnConverter(JsonConverter(), conv)
    gc.collect()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for lo in range(0, len(records), put_size):
        if columns:
            assert raw is not None
            part = raw[lo : lo + put_size]
            n = len(part)
            batch = [RecordBatch("orders", 0, list(range(lo, lo + n)), [0] * n, [None] * n, part, [()] * n, "")]
            units = reader.plan(batch)
            cols = reader.read(units) if units is not None else None
            assert cols is not None and await task.put_columns(cols), "the column path refused the batch"
            continue
        if raw is not None:
            chunk = []
            for j, data in enumerate(raw[lo : lo + put_size], lo):
                s, v = conv.to_connect_data("orders", data)
                chunk.append(SinkRecord("orders", j % 4, None, None, s, v, j))
        else:
            chunk = records[lo : lo + put_size]
        await task.put(chunk)
    await task.flush({})
    secs, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await task.stop()
    print(
        f"{label:<48} {len(records) / secs:>10,.0f} rows/s  ({secs:.1f} s, {cpu / len(records) * 1e5:.2f} CPU-s/100k)",
        flush=True,
    )


async def bench_db(kind: str, server, n: int, put_size: int, records, upserts, raw, raw_up) -> None:
    base = {
        "name": "bench",
        "topics": "orders",
        "auto.create": "true",
        **server.connection_config(scheme="mariadb" if kind == "mysql" else None),
    }
    q = '"' if kind == "postgresql" else "`"

    async def drop() -> None:
        conn = await server.connect()
        try:
            sql = f"DROP TABLE IF EXISTS {q}orders{q}"
            if kind == "postgresql":
                await conn.execute(sql)
            else:
                async with conn.cursor() as cur:
                    await cur.execute(sql)
        finally:
            if kind == "postgresql":
                await conn.close()
            else:
                conn.close()

    name = "PostgreSQL" if kind == "postgresql" else "MariaDB"
    up = {**base, "insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "order_id"}

    async def both_paths() -> None:
        for _ in range(2):  # the record path and the column path interleaved, twice
            await run_case(f"{name} insert, JsonConverter decode + put", base, records, put_size, raw, drop)
            await run_case(f"{name} insert, columns + put_columns", base, records, put_size, raw, drop, True)
            await run_case(f"{name} upsert, JsonConverter decode + put", up, upserts, put_size, raw_up, drop)
            await run_case(f"{name} upsert, columns + put_columns", up, upserts, put_size, raw_up, drop, True)

    if JSON_ONLY:
        await both_paths()
        await drop()
        return
    await run_case(f"{name} insert, Structs", base, records, put_size, None, drop)
    await run_case(f"{name} upsert, Structs", up, upserts, put_size, None, drop)
    await both_paths()
    if put_size != 500:
        await run_case(f"{name} insert, Structs, 500 per put", base, records, 500, None, drop)
        await run_case(f"{name} upsert, Structs, 500 per put", up, upserts, 500, None, drop)
    await drop()


JSON_ONLY = "--json-only" in sys.argv  # only the two paths from JsonConverter envelopes


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    put_size = int(args[1]) if len(args) > 1 else 3000
    records, upserts = make_records(n), make_records(n, repeat_every=5)
    raw, raw_up = encode(records), encode(upserts)
    print(f"{n:,} seed-format records, {put_size} per put(), batch.size 3000")
    for kind in ("postgresql", "mysql"):
        with db_server(kind) as server:
            asyncio.run(bench_db(kind, server, n, put_size, records, upserts, raw, raw_up))


if __name__ == "__main__":
    main()
