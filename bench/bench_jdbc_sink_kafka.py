"""Rows/s of the JDBC sink through a real worker: N seed-format records from Kafka (and from the embedded log) into
PostgreSQL and MariaDB: insert, upsert of new keys, and upsert of the same keys again with new values.

Run: python bench/bench_jdbc_sink_kafka.py [N] [--only kafka|embedded] [--db postgresql|mariadb]
     [--mode insert|upsert|upsert-existing] [--override K=V ...] [--connector K=V ...] [--skip-raw]
     [--tasks N]
     [--paths columns,records] [--rounds R]
     (N defaults to 1,000,000; --override adds worker properties, e.g. consumer.max.poll.records=500)
Servers: MINICONNECT_TEST_KAFKA=host:port, MINICONNECT_TEST_PG=postgresql://..., MINICONNECT_TEST_MYSQL=mysql://...
name servers to use; otherwise throwaway ones are started from tests/servers and stopped at the end.

First, unless --skip-raw, the database's own figures: asyncpg alone writes the same rows to PostgreSQL in 4,000-row
transactions, by COPY and by ON CONFLICT through a temp table (the sink's upsert of batches that meet existing keys;
batches of new keys it writes by COPY).
Then the records are produced (aiokafka, large batches; the embedded log's own producer), so each figure is the
sink alone: a `miniconnect standalone` process gets the connector through POST /connectors (a fresh group, a fresh
table created by auto.create) and the clock runs from the POST until the table holds all N rows. Values are the
seed message's JsonConverter envelope with unique order ids; upsert is pk.mode=record_value, pk.fields=order_id.
"upsert, existing keys" then upserts a second topic of the same orders with other quantities onto the table the
new-key upsert filled, until every row has changed. Each line also gives the worker's CPU per row, the database
server's (every process of the PostgreSQL cluster, or mariadbd; the bench's own COUNT(*) polls included) and the
worker's resident memory after the case and at its peak so far.
--paths runs each case once per sink path, a fresh worker each: "columns" (the default: batches parsed as Arrow
columns and written by put_columns) and "records" (MINICONNECT_SINK_COLUMNS=0: a SinkRecord per record), the paths
interleaved, --rounds times (default 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from servers import db_server, delete_topics, kafka_server  # noqa: E402
from worker_process import WorkerProcess  # noqa: E402

from miniconnect.transport.base import ProducerRecord  # noqa: E402

SCHEMA = (
    '{"type": "struct", "fields": [{"type": "string", "optional": true, "field": "order_id"}, '
    '{"type": "string", "optional": true, "field": "user_id"}, {"type": "string", "optional": true, "field": '
    '"product_id"}, {"type": "int32", "optional": true, "field": "qty"}, {"type": "int32", "optional": true, '
    '"field": "unit_price"}, {"type": "int32", "optional": true, "field": "total_price"}], "optional": false, '
    '"name": "orders"}'
)
PARTITIONS = 4


def values(n: int, spaced: bool, changed: bool = False, start: int = 0) -> list[bytes]:
    """The seed message's envelope, one order per record: compact as Kafka's JsonConverter writes it, or spaced
    exactly like the seed message (as Python's json.dumps writes it). changed: the same orders with other
    quantities (over 1,000), for upserts onto existing keys. start: the first order's number."""
    out = []
    for i in range(start, start + n):
        qty, price = i % 50 + 1 + (1000 if changed else 0), (i % 7 + 1) * 1000
        out.append(
            (
                f'{{"schema": {SCHEMA}, "payload": {{"order_id": "{uuid.UUID(int=i * 7919 + 1)}", '
                f'"user_id": "{uuid.UUID(int=i * 104729)}", "product_id": "CATALOG-{i % 1000:03d}", '
                f'"qty": {qty}, "unit_price": {price}, "total_price": {qty * price}}}}}'
            ).encode()
        )
    if not spaced:
        out = [orjson.dumps(orjson.loads(v)) for v in out]
    return out


async def produce_kafka(bootstrap: str, topic: str, data: list[bytes]) -> float:
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=50, max_batch_size=1 << 20)
    await producer.start()
    t0 = time.perf_counter()
    try:
        for lo in range(0, len(data), 50_000):  # batches built by hand: far cheaper than one send() per record
            futures = []
            batch = producer.create_batch()
            p = 0
            for v in data[lo : lo + 50_000]:
                if batch.append(key=None, value=v, timestamp=None) is None:
                    futures.append(await producer.send_batch(batch, topic, partition=p))
                    p = (p + 1) % PARTITIONS
                    batch = producer.create_batch()
                    batch.append(key=None, value=v, timestamp=None)
            futures.append(await producer.send_batch(batch, topic, partition=p))
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - t0


async def produce_embedded(log_dir: Path, topic: str, data: list[bytes]) -> float:
    from miniconnect.transport.base import NewTopic
    from miniconnect.transport.embedded import EmbeddedLog

    log = EmbeddedLog(str(log_dir), default_partitions=PARTITIONS)
    await log.start()
    t0 = time.perf_counter()
    try:
        await log.create_topics([NewTopic(topic, PARTITIONS, 1)])
        producer = log.producer({})
        await producer.start()
        try:
            for lo in range(0, len(data), 500):  # 500 per batch, as `topics produce` and source tasks write
                await producer.send_batch(
                    [ProducerRecord(topic, None, v, partition=(lo // 500) % PARTITIONS) for v in data[lo : lo + 500]]
                )
        finally:
            await producer.stop()
    finally:
        await log.stop()
    return time.perf_counter() - t0


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process (every thread), the children it has reaped, and its children alive now."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Db:
    """A database server of the bench. Its polls (count) go through one connection kept open in a thread of their
    own: a connection per poll cost PostgreSQL about 4 ms of CPU each (fork and authentication), 10 times a second
    during a case, taken from the sink under test."""

    def __init__(self, label: str, server) -> None:
        self.label, self.server = label, server
        self.pg = server.kind == "postgresql"
        self._server_pid: int | None = None
        self._poll_loop: asyncio.AbstractEventLoop | None = None
        self._poll_conn = None

    async def _pid(self) -> int:
        """The server's process: PostgreSQL's postmaster (the parent of this session's backend), or mariadbd.
        The backend's parent is read while its session is open: a closed session's backend exits, at times
        before /proc was read (then every case printed "nan" for the database)."""
        if not self.pg:
            return int(Path(await self._run("SELECT @@pid_file")).read_text())
        conn = await self.server.connect()
        try:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        finally:
            await conn.close()

    def server_cpu(self) -> float:
        """CPU seconds the database server has used so far (every process of a PostgreSQL cluster: backends, WAL
        writer, autovacuum...); NaN when it is not a process of this machine."""
        try:
            if self._server_pid is None:
                self._server_pid = asyncio.run(self._pid())
            return process_tree_cpu(self._server_pid)
        except (OSError, ValueError, TypeError):
            return float("nan")

    async def _value(self, conn, sql: str):
        """The query's first value on conn."""
        if self.pg:
            return await conn.fetchval(sql)
        async with conn.cursor() as cur:
            await cur.execute(sql)
            row = await cur.fetchone()
            return row[0] if row else None

    async def _close(self, conn) -> None:
        await conn.close() if self.pg else conn.close()

    async def _run(self, sql: str):
        conn = await self.server.connect()
        try:
            return await self._value(conn, sql)
        finally:
            await self._close(conn)

    async def _poll(self, sql: str):
        if self._poll_conn is None:
            self._poll_conn = await self.server.connect()
        conn = self._poll_conn
        try:
            return await self._value(conn, sql)
        except Exception:
            self._poll_conn = None
            await self._close(conn)
            raise

    def count(self, sql: str) -> int:
        """The query's one value (0 when it fails: the table is not there yet, ...)."""
        if self._poll_loop is None:
            self._poll_loop = asyncio.new_event_loop()
            threading.Thread(target=self._poll_loop.run_forever, daemon=True).start()
        try:
            return asyncio.run_coroutine_threadsafe(self._poll(sql), self._poll_loop).result() or 0
        except Exception:
            return 0

    def drop(self, table: str) -> None:
        asyncio.run(self._run(f"DROP TABLE IF EXISTS {table}"))

    def connection(self) -> dict[str, str]:
        return self.server.connection_config(scheme=None if self.pg else "mariadb")


CONNECTOR_EXTRA: dict[str, str] = {}  # --connector K=V


class AllChanged:
    """Asked whether every row of an existing-key upsert case changed (its new quantities are over 1,000), which
    COUNT(*) would answer at 100-200 ms of a core on 1M rows and their dead versions each time: CPU that a sink
    using both cores would otherwise have. It looks for one row not changed yet, from the page where it found the
    last one (PostgreSQL: a TID range scan; the records come in about the table's order, so the pages before it
    hold dead versions mostly), and says yes only after a scan of the whole table found none."""

    def __init__(self, db: Db, table: str):
        self.db, self.table, self.page = db, table, 0

    def __call__(self) -> bool:
        db, t = self.db, self.table
        if db.pg and self.page:
            found = db.count(
                f"SELECT (ctid::text::point)[0]::int + 1 FROM {t} WHERE ctid >= '({self.page},0)' "
                "AND qty <= 1000 LIMIT 1"
            )
            if found:
                self.page = found - 1
                return False
        if db.pg:
            found = db.count(f"SELECT (ctid::text::point)[0]::int + 1 FROM {t} WHERE qty <= 1000 LIMIT 1")
            self.page = max(0, found - 1)
            return not found and db.count(f"SELECT 1 FROM {t} LIMIT 1") == 1
        return db.count(f"SELECT CASE WHEN EXISTS (SELECT 1 FROM {t} WHERE qty <= 1000) THEN 0 ELSE 1 END") == 1


def wait_done(
    count: Callable[[], int],
    n: int,
    stuck: Callable[[int], NoReturn],
    finished: Callable[[], bool] | None = None,
    stall_s: float = 60,
) -> None:
    """Returns once count() reaches n, or finished() (if given: asked every 0.1 s, count() then only every 10 s to
    notice a stall); stuck(count) when the count did not move for stall_s. COUNT(*) scans the table and competes
    with the sink for the database's CPU: it is asked again after about half the estimated remaining time (never
    more than 1 s, never less than 50 ms)."""
    t0 = time.perf_counter()
    last, last_change = -1, time.monotonic()
    while True:
        if finished is not None:
            asked = time.monotonic()
            while time.monotonic() - asked < 10:
                if finished():
                    return
                time.sleep(0.1)
        done = count()
        if done >= n:
            return
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            stuck(done)
        elapsed = time.perf_counter() - t0
        remaining = (n - done) * elapsed / done if done > 0 else 1.0
        time.sleep(min(1.0, max(0.05, remaining / 2)))


def run_case(
    worker: WorkerProcess,
    db: Db,
    topic: str,
    n: int,
    mode: str,
    label: str,
    tasks: int = 1,
    table: str | None = None,
    keep: bool = False,
) -> str:
    """One sink connector over the topic until the table holds its n records; with `table`, the rows of that
    table are all updated (mode upsert-existing: the topic holds the same keys with quantities over 1,000)."""
    existing = table is not None
    table = table or f"bench_{uuid.uuid4().hex[:8]}"
    name = f"sink-{table}-{mode}"
    done_sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE qty > 1000" if existing else "")
    config = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "tasks.max": str(tasks),
        "topics": topic,
        "table.name.format": table,
        "auto.create": "true",
        **db.connection(),
    }
    if mode.startswith("upsert"):
        config.update({"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "order_id"})
    config.update(CONNECTOR_EXTRA)
    cpu0, db_cpu0 = worker.cpu_seconds(), db.server_cpu()
    t0 = time.perf_counter()
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    assert r.status_code == 201, r.text

    def stuck(count: int) -> NoReturn:
        raise SystemExit(f"{label}: stuck at {count} rows\n{worker.log()[-3000:]}")

    wait_done(lambda: db.count(done_sql), n, stuck, AllChanged(db, table) if existing else None)
    secs = time.perf_counter() - t0
    cpu, db_cpu = worker.cpu_seconds() - cpu0, db.server_cpu() - db_cpu0
    rss, peak = worker.memory_mb()
    print(
        f"{label:<50} {n / secs:>10,.0f} rows/s  ({secs:.1f} s; worker CPU {cpu:.1f} s = "
        f"{cpu / n * 1e5:.2f} CPU-s/100k rows, database {db_cpu / n * 1e5:.2f}; RSS {rss:.0f} MB, peak {peak:.0f} MB)",
        flush=True,
    )
    worker.rest("DELETE", f"/connectors/{name}")
    time.sleep(0.5)
    if not keep:
        db.drop(table)
    return table


async def raw_postgres(db: Db, data: list[bytes], batch: int = 4000) -> None:
    """The database's own ceiling for the same rows: asyncpg alone (no Kafka, no JSON, no worker) writes the
    payloads in transactions of `batch` rows the way the sink does (binary COPY; upsert through a temp table and
    INSERT ... ON CONFLICT), twice for upsert: new keys, then the same keys again."""
    rows = [tuple(orjson.loads(v)["payload"].values()) for v in data]
    conn = await db.server.connect()
    table = f"bench_raw_{uuid.uuid4().hex[:8]}"
    try:
        await conn.execute(
            f"CREATE TABLE {table} (order_id text PRIMARY KEY, user_id text, product_id text, "
            "qty int, unit_price int, total_price int)"
        )
        await conn.execute(
            "CREATE TEMP TABLE bench_stage (c0 text, c1 text, c2 text, c3 int, c4 int, c5 int) ON COMMIT DELETE ROWS"
        )
        upsert = (
            f"INSERT INTO {table} SELECT * FROM bench_stage ON CONFLICT (order_id) DO UPDATE SET "
            "user_id=EXCLUDED.user_id, product_id=EXCLUDED.product_id, qty=EXCLUDED.qty, "
            "unit_price=EXCLUDED.unit_price, total_price=EXCLUDED.total_price"
        )
        for label in ("insert (COPY)", "upsert (ON CONFLICT), new keys", "upsert (ON CONFLICT), same keys"):
            if label.startswith("upsert, new"):
                await conn.execute(f"TRUNCATE {table}")
            t0 = time.perf_counter()
            for lo in range(0, len(rows), batch):
                async with conn.transaction():
                    if label.startswith("insert"):
                        await conn.copy_records_to_table(table, records=rows[lo : lo + batch])
                    else:
                        await conn.copy_records_to_table("bench_stage", records=rows[lo : lo + batch])
                        await conn.execute(upsert)
            secs = time.perf_counter() - t0
            print(
                f"{'raw asyncpg -> PostgreSQL ' + label:<40} {len(rows) / secs:>10,.0f} rows/s  ({secs:.1f} s)",
                flush=True,
            )
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()


def run_cases(
    worker: WorkerProcess, dbs: list[Db], modes: list[str], transport: str, path: str, topic: str, n: int, tasks: int
) -> None:
    for db in dbs:
        for mode in modes:
            label = f"{transport} -> {db.label} {path} "
            if mode != "upsert-existing":
                run_case(worker, db, topic, n, mode, label + mode, tasks)
                continue
            filled = run_case(worker, db, topic, n, "upsert", label + "upsert, new keys", tasks, keep=True)
            run_case(worker, db, f"{topic}_changed", n, mode, label + "upsert, existing keys", tasks, table=filled)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--only", choices=["kafka", "embedded"])
    ap.add_argument("--db", choices=["postgresql", "mariadb"])
    ap.add_argument(
        "--mode",
        choices=["insert", "upsert", "upsert-existing"],
        help="upsert: new keys into a fresh table; upsert-existing: then each key again, new values",
    )
    ap.add_argument("--override", action="append", default=[])
    ap.add_argument("--connector", action="append", default=[], help="K=V added to the connector's config")
    ap.add_argument("--tasks", type=int, default=1, help="tasks.max (the seed config and the targets: 1)")
    ap.add_argument("--spaced", action="store_true", help="values spaced exactly like the seed message")
    ap.add_argument("--skip-raw", action="store_true", help="skip the raw-driver baseline (PostgreSQL)")
    ap.add_argument("--paths", default="columns", help="sink paths to run, interleaved: columns,records")
    ap.add_argument("--rounds", type=int, default=1, help="how many times each path runs every case")
    ap.add_argument(
        "--start-timeout",
        type=float,
        default=20.0,
        help="seconds for the worker to answer (a worker under valgrind needs minutes)",
    )
    args = ap.parse_args()
    n = args.n
    extra = dict(o.split("=", 1) for o in args.override)
    CONNECTOR_EXTRA.update(o.split("=", 1) for o in args.connector)
    with ExitStack() as servers:
        dbs = []
        for label, kind in (("PostgreSQL", "postgresql"), ("MariaDB", "mysql")):
            if args.db and args.db != label.lower():
                continue
            dbs.append(Db(label, servers.enter_context(db_server(kind))))
        modes = [args.mode] if args.mode else ["insert", "upsert-existing"]  # the latter runs upsert first
        data = values(n, args.spaced)
        changed = values(n, args.spaced, changed=True) if "upsert-existing" in modes else []
        print(
            f"{n:,} seed-format records ({sum(map(len, data)) / n:.0f} bytes each), {PARTITIONS} partitions, "
            f"{'spaced' if args.spaced else 'compact'} JSON, {args.tasks} task{'s' if args.tasks > 1 else ''}"
            f"{', ' + ', '.join(args.override + args.connector) if args.override or args.connector else ''}",
            flush=True,
        )
        if not args.skip_raw:
            for db in dbs:
                if db.pg:
                    asyncio.run(raw_postgres(db, data))
        transports = [args.only] if args.only else ["kafka", "embedded"]
        for transport in transports:
            with tempfile.TemporaryDirectory(prefix="bench-jdbc-") as tmp:
                workdir = Path(tmp)
                topic = f"orders_{uuid.uuid4().hex[:6]}"
                topics = {topic: data, f"{topic}_changed": changed} if changed else {topic: data}
                wextra = dict(extra)
                secs = 0.0
                if transport == "kafka":
                    bootstrap = servers.enter_context(kafka_server())
                    wextra["bootstrap.servers"] = bootstrap
                    for t, d in topics.items():
                        secs += asyncio.run(produce_kafka(bootstrap, t, d))
                else:
                    for t, d in topics.items():
                        secs += asyncio.run(produce_embedded(workdir / "log", t, d))
                print(f"{transport}: produced {len(topics) * n:,} records in {secs:.1f} s", flush=True)
                try:
                    for _ in range(args.rounds):
                        for path in args.paths.split(","):
                            env = {"MINICONNECT_SINK_COLUMNS": "0" if path == "records" else "1"}
                            worker = WorkerProcess(
                                workdir, extra={"offset.flush.interval.ms": "10000", **wextra}, env=env
                            )
                            worker.start(args.start_timeout)
                            try:
                                run_cases(worker, dbs, modes, transport, path, topic, n, args.tasks)
                            finally:
                                worker.stop()
                finally:
                    if transport == "kafka":
                        asyncio.run(delete_topics(bootstrap, list(topics)))


if __name__ == "__main__":
    main()
