"""Avro (and JSON Schema, Protobuf) beside JSON, on the same rows: converter records/s (encode and decode, batched
as the runners call them: a poll's records, and the sink runner's read-ahead slices while put() runs), JDBC sink rows/s and CPU-s/100k rows (decode + put into PostgreSQL and MariaDB) and JDBC source rows/s and
CPU-s/100k rows (PostgreSQL poll + encode), each by the record path and by the column path (what the worker takes
where it applies: the sink's put_columns, the source's EncodedRecords built from Arrow columns).

Run: python bench/bench_avro.py [N]   (default 100000 rows; a Schema Registry is served in-process on a temp
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

from miniconnect.connector import EncodedRecords, SinkTaskContext, SourceTaskContext
from miniconnect.converters import avro as avro_module
from miniconnect.converters.avro import AvroConverter
from miniconnect.converters.json import JsonConverter
from miniconnect.converters.json_schema import JsonSchemaConverter
from miniconnect.converters.protobuf import ProtobufConverter
from miniconnect.converters.string import StringConverter
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
from miniconnect.runtime.runner import relax_gc
from miniconnect.runtime.sink_columns import ColumnConverter
from miniconnect.runtime.sink_task import READ_AHEAD_SLICE
from miniconnect.schema_registry.pending import converted, sleep
from miniconnect.transport.base import RecordBatch

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


def _each(decode, topic: str, encoded: list[list[bytes]]) -> None:
    """Decodes the batches one after the other, each dropped before the next as a runner drops it after put():
    holding every decoded record until the end makes the collector's full passes the larger part of the time."""
    for e in encoded:
        decode(topic, e)


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
            dec = best(lambda conv=conv, encoded=encoded, topic=topic: _each(conv.to_connect_batch, topic, encoded))
            size = sum(map(len, encoded[0])) / len(encoded[0])
            print(f"  {name:<10} encode {n / enc:>10,.0f}/s   decode {n / dec:>10,.0f}/s   {size:.0f} bytes/record")
            # while put() runs, the sink runner reads ahead and converts in slices of READ_AHEAD_SLICE records
            slices = [e[lo : lo + READ_AHEAD_SLICE] for e in encoded for lo in range(0, len(e), READ_AHEAD_SLICE)]
            sliced = best(lambda conv=conv, slices=slices, topic=topic: _each(conv.to_connect_batch, topic, slices))
            print(f"  {name:<10} decode in the read-ahead's slices of {READ_AHEAD_SLICE} {n / sliced:>10,.0f}/s")
            if name == "avro":  # the record path's decode without polars' checked read, for batches below its size
                threshold, avro_module.COLUMN_BATCH = avro_module.COLUMN_BATCH, sys.maxsize
                try:
                    gen = best(
                        lambda conv=conv, encoded=encoded, topic=topic: _each(conv.to_connect_batch, topic, encoded)
                    )
                finally:
                    avro_module.COLUMN_BATCH = threshold
                print(f"  {name:<10} decode by the generated decoder {n / gen:>10,.0f}/s")
            if name != "jsonschema":  # the sink's column path: each batch read into Arrow columns at once
                if not read_columns(conv, topic, encoded[:1]):
                    print(
                        f"  {name:<10} decode to columns: no column form (Protobuf: nested messages, or Decimal scales)"
                    )
                    continue
                cols = best(lambda conv=conv, encoded=encoded, topic=topic: read_columns(conv, topic, encoded))
                print(f"  {name:<10} decode to columns {n / cols:>10,.0f}/s")
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


PATHS = ("records", "columns")  # the sink's and source's record path, and their column path where it applies


async def sink_once(name: str, conv, server, raw: list[bytes], n: int, path: str) -> tuple[float, float]:
    """Wall and CPU seconds to write the rows as the worker's sink runner does: a batch read as columns and given to
    put_columns() (path "columns", where the converter has a column reader), else converted to records in the
    read-ahead's slices (READ_AHEAD_SLICE records each) and given to put()."""
    scheme = "mariadb" if server.kind != "postgresql" else None
    topic = f"{name}-orders"  # the subject the rows were registered under
    props = {
        "name": "bench",
        "topics": topic,
        "auto.create": "true",
        "table.name.format": "orders",
        **(server.connection_config(scheme=scheme) if scheme else server.connection_config()),
    }
    conn = await server.connect()
    if server.kind == "postgresql":
        await conn.execute('DROP TABLE IF EXISTS "orders"')
        await conn.close()
    else:
        async with conn.cursor() as cur:
            await cur.execute("DROP TABLE IF EXISTS `orders`")
        conn.close()
    task = JdbcSinkTask()
    task.context = SinkTaskContext("bench", 0, props)
    await task.start(props)
    columns = ColumnConverter(StringConverter(), conv)
    by_columns = 0
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    for lo in range(0, n, 3000):
        chunk = raw[lo : lo + 3000]
        if path == "columns":
            k = len(chunk)
            batch = RecordBatch(topic, 0, list(range(lo, lo + k)), [0] * k, [None] * k, chunk, [()] * k, "CreateTime")
            units = columns.plan([batch])
            read = await asyncio.to_thread(columns.read, units) if units is not None else None
            if read is not None and await task.put_columns(read):
                by_columns += k
                continue
        # as the sink runner converts under load, while the put before runs: in read-ahead slices, registry requests
        # off the loop (the first batch's schema)
        decoded = []
        for at in range(0, len(chunk), READ_AHEAD_SLICE):
            part = chunk[at : at + READ_AHEAD_SLICE]
            decoded += await converted(lambda c=part: conv.to_connect_batch(topic, c), "bench", sleep)
        await task.put([SinkRecord(topic, 0, None, None, s, v, lo + j) for j, (s, v) in enumerate(decoded)])
    await task.flush({})
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    await task.stop()
    assert (by_columns == n) == (path == "columns"), f"{name}: {by_columns} of {n} rows went as columns"
    return secs, cpu


def figures(label: str, n: int, secs: float, cpu: float) -> str:
    return f"  {label:<44} {n / secs:>10,.0f} rows/s   {cpu / n * 100_000:>5.2f} CPU-s/100k rows"


def read_columns(conv, topic: str, encoded: list[list[bytes]]) -> bool:
    """Each batch read as columns; False if a batch has no column form."""
    columns = ColumnConverter(StringConverter(), conv)
    for chunk in encoded:
        k = len(chunk)
        units = columns.plan([RecordBatch(topic, 0, list(range(k)), [0] * k, [None] * k, chunk, [()] * k, "")])
        if units is None or columns.read(units) is None:
            return False
    return True


def runs_of(convs: dict[str, object], source: bool = False) -> list[tuple[str, str]]:
    """(converter, path) pairs: the column path for the converters that have one (JSON Schema has none; Protobuf
    reads columns in the sink but does not encode them in the source)."""
    without = {"jsonschema", "protobuf"} if source else {"jsonschema"}
    return [(name, path) for name in convs for path in PATHS if path == "records" or name not in without]


async def bench_sink(url: str, server, n: int) -> None:
    """Each (converter, path) twice, alternating: the best wall time and the least CPU of each, on a shared
    machine. The bench process's CPU only: the database's is not counted."""
    values = orders(n)
    convs = converters(url)
    raws = {}
    for name, conv in convs.items():
        raws[name] = []
        for lo in range(0, n, BATCH):
            chunk = values[lo : lo + BATCH]
            raws[name] += await converted(
                lambda c=chunk, n=name, v=conv: v.from_connect_batch(f"{n}-orders", [ORDERS] * len(c), c),
                "bench",
                sleep,
            )
    best_secs: dict[tuple[str, str], tuple[float, float]] = {}
    for _ in range(2):
        for name, path in runs_of(convs):
            secs, cpu = await sink_once(name, convs[name], server, raws[name], n, path)
            was = best_secs.get((name, path), (secs, cpu))
            best_secs[(name, path)] = (min(secs, was[0]), min(cpu, was[1]))
    db = "PostgreSQL" if server.kind == "postgresql" else "MariaDB"
    for (name, path), (secs, cpu) in best_secs.items():
        print(figures(f"{db} sink, {name:<10} {path:<7} decode + put", n, secs, cpu))


async def source_once(name: str, conv, server, n: int, path: str) -> tuple[float, float]:
    """Wall and CPU seconds to poll n rows and have their value bytes: records encoded by the converter, or (path
    "columns") EncodedRecords the task built from Arrow columns, as the worker offers it."""
    props = {
        **server.connection_config(),
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "topic.prefix": f"bench-{name}-",  # a subject per converter: schema types do not mix
        "batch.max.rows": "1000",
        "poll.interval.ms": "600000",
        "tables": '"public"."bench_src"',
    }
    task = JdbcSourceTask()
    task.context = SourceTaskContext("bench", 0, props, NoOffsets())
    if path == "columns":
        task.context.value_envelope = conv.json_struct_envelope
        task.context.value_avro_header = conv.avro_struct_header
    await task.start(props)
    got = encoded = 0
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    while got < n:
        recs = await task.poll()
        if type(recs) is EncodedRecords:
            got += len(recs.values)
            encoded += len(recs.values)
        elif recs:
            got += len(recs)
            await converted(
                lambda rs=recs: conv.from_connect_batch(
                    rs[0].topic, [r.value_schema for r in rs], [r.value for r in rs]
                ),
                "bench",
                sleep,
            )
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    task.context.stopping.set()
    await task.stop()
    assert (encoded == n) == (path == "columns"), f"{encoded} of {n} rows encoded from columns"
    return secs, cpu


async def bench_source(url: str, server, n: int) -> None:
    await load(server, n)
    convs = converters(url)
    best_secs: dict[tuple[str, str], tuple[float, float]] = {}
    for _ in range(2):
        for name, path in runs_of(convs, source=True):
            secs, cpu = await source_once(name, convs[name], server, n, path)
            was = best_secs.get((name, path), (secs, cpu))
            best_secs[(name, path)] = (min(secs, was[0]), min(cpu, was[1]))
    for (name, path), (secs, cpu) in best_secs.items():
        print(figures(f"PostgreSQL source, {name:<10} {path:<7} poll + encode", n, secs, cpu))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    relax_gc()  # the collector's threshold as a worker's task runners set it
    with tempfile.TemporaryDirectory() as tmp, running_registry(Path(tmp) / "log") as registry:
        url = registry.urls[0]
        bench_converters(url, n)
        print(f"pipelines, {n:,} rows (rows/s: the best of 2 runs; CPU: this process's, the least of 2 runs)")
        with db_server("postgresql") as server:
            asyncio.run(bench_sink(url, server, n))
            asyncio.run(bench_source(url, server, n))
        with db_server("mysql") as server:
            asyncio.run(bench_sink(url, server, n))


if __name__ == "__main__":
    main()
