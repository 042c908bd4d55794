"""Avro (and JSON Schema, Protobuf) beside JSON, on the same rows: converter records/s (encode and decode, batched as the runners call them),
JDBC sink rows/s (decode + put into MariaDB) and JDBC source rows/s (PostgreSQL poll + encode).

Run: python bench/bench_avro.py [N]   (default 200000 rows; a Schema Registry is served in-process on a temp
embedded log, PostgreSQL and MariaDB are started from tests/servers unless MINICONNECT_TEST_PG / _MYSQL are set).
fastavro's per-record schemaless reader/writer is shown for reference: AvroConverter does not use it on the hot path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import gc
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fastavro
from bench_converters import ORDERS
from bench_converters import make_records as orders
from bench_jdbc_source import NoOffsets, load
from miniconnect_plugins.jdbc.sink import JdbcSinkTask
from miniconnect_plugins.jdbc.source import JdbcSourceTask
from registry_testkit import running_registry
from servers import db_server

from miniconnect.connector import SinkTaskContext, SourceTaskContext
from miniconnect.converters.avro import AvroConverter
from miniconnect.converters.json import JsonConverter
from miniconnect.converters.json_schema import JsonSchemaConverter
from miniconnect.converters.protobuf import ProtobufConverter
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import (
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    decimal_schema,
    timestamp_schema,
)

BATCH = 500
WIDE = Schema.struct(
    [
        ("id", INT64_SCHEMA),
        ("name", STRING_SCHEMA),
        ("amount", decimal_schema(2, optional=True)),
        ("created_at", timestamp_schema()),
        ("note", OPTIONAL_STRING_SCHEMA),
    ],
    name="wide",
)


def wide(n: int) -> list[Struct]:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return [
        Struct(
            WIDE,
            [
                i,
                f"name-{i}",
                decimal.Decimal(i % 100000) / 100,
                t0 + dt.timedelta(milliseconds=i),
                None if i % 3 else "n",
            ],
        )
        for i in range(n)
    ]


def best(fn, runs: int = 5) -> float:
    """Least CPU time of the runs (process time: the machine may be shared)."""
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def converters(url: str) -> dict[str, object]:
    js = JsonConverter()
    js.configure({"schemas.enable": "true"}, False)
    av = AvroConverter()
    av.configure({"schema.registry.url": url}, False)
    jss = JsonSchemaConverter()
    jss.configure({"schema.registry.url": url}, False)
    pb = ProtobufConverter()
    pb.configure({"schema.registry.url": url}, False)
    return {"json": js, "avro": av, "jsonschema": jss, "protobuf": pb}


def bench_converters(url: str, n: int) -> None:
    for label, schema, values in (("orders", ORDERS, orders(n)), ("wide (decimal, timestamp)", WIDE, wide(n))):
        print(f"converter, {n:,} {label} records, batches of {BATCH}")
        for name, conv in converters(url).items():
            topic = f"bench-{name}-{label.split()[0]}"  # a subject per converter: schema types do not mix
            schemas = [schema] * BATCH
            chunks = [values[lo : lo + BATCH] for lo in range(0, n, BATCH)]
            encoded = [conv.from_connect_batch(topic, schemas[: len(c)], c) for c in chunks]
            enc = best(
                lambda conv=conv, chunks=chunks, schemas=schemas, topic=topic: [
                    conv.from_connect_batch(topic, schemas[: len(c)], c) for c in chunks
                ]
            )
            dec = best(
                lambda conv=conv, encoded=encoded, topic=topic: [conv.to_connect_batch(topic, e) for e in encoded]
            )
            size = sum(map(len, encoded[0])) / len(encoded[0])
            print(f"  {name:<10} encode {n / enc:>10,.0f}/s   decode {n / dec:>10,.0f}/s   {size:.0f} bytes/record")
        if label == "orders":
            avro = fastavro.parse_schema(
                {
                    "type": "record",
                    "name": "orders",
                    "fields": [
                        {
                            "name": f.name,
                            "type": ["null", "string" if f.schema.type.value == "string" else "int"],
                            "default": None,
                        }
                        for f in ORDERS.fields
                    ],
                }
            )
            dicts = [v.as_dict() for v in values]

            def write(d, avro=avro):
                b = io.BytesIO()
                fastavro.schemaless_writer(b, avro, d)
                return b.getvalue()

            blobs = [write(d) for d in dicts]
            enc = best(lambda: [write(d) for d in dicts], 1)
            dec = best(lambda: [fastavro.schemaless_reader(io.BytesIO(b), avro, None) for b in blobs], 1)
            print(
                f"  {'fastavro':<9} encode {n / enc:>10,.0f}/s   decode {n / dec:>10,.0f}/s   (dicts, no Connect values)"
            )


async def sink_once(name: str, conv, server, raw: list[bytes], n: int) -> float:
    props = {"name": "bench", "topics": "orders", "auto.create": "true", **server.connection_config(scheme="mariadb")}
    conn = await server.connect()
    async with conn.cursor() as cur:
        await cur.execute("DROP TABLE IF EXISTS `orders`")
    conn.close()
    task = JdbcSinkTask()
    task.context = SinkTaskContext("bench", 0, props)
    await task.start(props)
    gc.collect()
    t0 = time.perf_counter()
    for lo in range(0, n, 3000):
        decoded = conv.to_connect_batch(f"{name}-orders", raw[lo : lo + 3000])
        await task.put([SinkRecord("orders", 0, None, None, s, v, lo + j) for j, (s, v) in enumerate(decoded)])
    await task.flush({})
    secs = time.perf_counter() - t0
    await task.stop()
    return secs


async def bench_sink(url: str, server, n: int) -> None:
    """Each converter twice, alternating (json, avro, json, avro): the best of each, on a shared machine."""
    values = orders(n)
    convs = converters(url)
    raws = {}
    for name, conv in convs.items():
        raws[name] = []
        for lo in range(0, n, BATCH):
            chunk = values[lo : lo + BATCH]
            raws[name] += conv.from_connect_batch(f"{name}-orders", [ORDERS] * len(chunk), chunk)
    best_secs: dict[str, float] = {}
    for _ in range(2):
        for name, conv in convs.items():
            secs = await sink_once(name, conv, server, raws[name], n)
            best_secs[name] = min(secs, best_secs.get(name, secs))
    for name, secs in best_secs.items():
        print(f"  MariaDB sink, {name:<10} decode + put  {n / secs:>10,.0f} rows/s")


async def source_once(conv, server, n: int) -> float:
    props = {
        **server.connection_config(),
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "topic.prefix": "bench-",
        "batch.max.rows": "1000",
        "poll.interval.ms": "600000",
        "tables": '"public"."bench_src"',
    }
    task = JdbcSourceTask()
    task.context = SourceTaskContext("bench", 0, props, NoOffsets())
    await task.start(props)
    got = 0
    gc.collect()
    t0 = time.perf_counter()
    while got < n:
        recs = await task.poll()
        if recs:
            got += len(recs)
            topic = f"{recs[0].topic}-{type(conv).__name__}"
            conv.from_connect_batch(topic, [r.value_schema for r in recs], [r.value for r in recs])
    secs = time.perf_counter() - t0
    task.context.stopping.set()
    await task.stop()
    return secs


async def bench_source(url: str, server, n: int) -> None:
    await load(server, n)
    convs = converters(url)
    best_secs: dict[str, float] = {}
    for _ in range(2):
        for name, conv in convs.items():
            secs = await source_once(conv, server, n)
            best_secs[name] = min(secs, best_secs.get(name, secs))
    for name, secs in best_secs.items():
        print(f"  PostgreSQL source, {name:<10} poll + encode  {n / secs:>10,.0f} rows/s")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp) / "log") as registry:
        url = registry.urls[0]
        bench_converters(url, n)
        print(f"pipelines, {n:,} rows")
        with db_server("mysql") as server:
            asyncio.run(bench_sink(url, server, n))
        with db_server("postgresql") as server:
            asyncio.run(bench_source(url, server, n))


if __name__ == "__main__":
    main()
