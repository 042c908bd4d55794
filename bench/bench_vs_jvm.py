"""miniconnect beside Apache Kafka Connect's own JVM worker running Aiven's JDBC connector, on the same broker, the
same databases and the same records, cases interleaved and run twice (issue 23).

Usage: python bench/bench_vs_jvm.py [--rows N] [--runs 2] [--only sink|source|mariadb|startup] [--aiven DIR]
Needs what scripts/test-deps.sh sets up (Kafka and Kafka Connect 4.1.1 jars, PostgreSQL, MariaDB, java) and Maven
for the connector's dependencies. The JVM side: connect-runtime/-json/-file 4.1.1 from
~/.cache/miniconnect/connect-4.1.1/libs, started as bin/connect-standalone.sh starts it (heap -Xms256M -Xmx2G, G1),
with the connector jar of ../shared/anchors/aiven-jdbc/ (its README) and its dependencies (deps-pom.xml, plus
MySQL Connector/J for MariaDB) resolved by Maven into ~/.cache/miniconnect/aiven-jdbc/ as a plugin.path folder.

Every case starts a fresh worker process (standalone, JsonConverter with schemas for keys and values) and times
from POST /connectors until the work is done: sink cases until the table holds every row (upsert of existing keys:
until every row changed), source cases until the topic holds every row. CPU seconds are the worker process's own
(/proc: user + system, every thread), peak RSS its VmHWM. Cases:
  sink insert        N envelope records (Kafka's JsonConverter bytes) from a 4-partition topic into a new table
  sink insert / upsert (JVM, reWriteBatchedInserts=true)   the same, the PostgreSQL driver rewriting batches into
                     multi-row statements
  sink upsert new / existing keys   pk.mode=record_value; then a topic of the same keys with other values
  (sink cases also as mini-log: the same records, appended once at the start to the embedded log that every
   mini-log worker opens, as the Kafka topics are produced once)
  source incrementing / bulk        an N-row table (id, name, amount double, created timestamp) into a topic
  MariaDB sink insert / source incrementing   the same on MariaDB (jdbc:mysql URLs for both workers)
  start-up           process start until REST answers; RSS with 10 JDBC source connectors running and idle
Ceilings in the same run: PostgreSQL COPY in and out (asyncpg, binary), aiokafka produce and consume of the sink's
bytes. Ratios are miniconnect over the JVM (rows/s: higher is better; CPU and RSS: lower is better).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_jdbc_sink_kafka import AllChanged, Db, produce_embedded, produce_kafka, values, wait_done  # noqa: E402
from bench_jdbc_source_e2e import records_in, transport_for  # noqa: E402
from jvm_connect import JvmConnectWorker, connect_libs  # noqa: E402
from servers import db_server, delete_topics, kafka_server  # noqa: E402
from worker_process import WorkerProcess  # noqa: E402

JSON = "org.apache.kafka.connect.json.JsonConverter"
AIVEN_CANDIDATES = (ROOT.parent / "shared/anchors/aiven-jdbc", Path("/work/shared/anchors/aiven-jdbc"))
CACHE = Path.home() / ".cache/miniconnect/aiven-jdbc"
MYSQL_DRIVER = ("com.mysql", "mysql-connector-j", "8.4.0")
CLASSES = {
    "jvm": ("io.aiven.connect.jdbc.JdbcSinkConnector", "io.aiven.connect.jdbc.JdbcSourceConnector"),
    "mini": ("io.confluent.connect.jdbc.JdbcSinkConnector", "io.confluent.connect.jdbc.JdbcSourceConnector"),
}
CLASSES["mini-log"] = CLASSES["mini"]


class ScriptJvm(JvmConnectWorker):
    """The JVM worker with bin/connect-standalone.sh's heap and kafka-run-class.sh's performance options."""

    java_options = (
        "-Xms256M",
        "-Xmx2G",
        "-server",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:MaxInlineLevel=15",
        "-Djava.awt.headless=true",
    )


# -- set-up --------------------------------------------------------------------------------------------------------
def aiven_plugin(anchor: Path | None) -> Path:
    """The plugin.path folder holding Aiven's connector jar and its runtime dependencies (resolved once)."""
    anchor = anchor or next((p for p in AIVEN_CANDIDATES if p.exists()), None)
    if anchor is None:
        raise SystemExit(f"Aiven's JDBC connector not found in {', '.join(map(str, AIVEN_CANDIDATES))}")
    jar = next(anchor.glob("jdbc-connector-for-apache-kafka-*.jar"))
    plugin = CACHE / "plugins" / "aiven-jdbc"
    if (CACHE / ".complete").exists() and (plugin / jar.name).exists():
        return plugin.parent
    plugin.mkdir(parents=True, exist_ok=True)
    pom = (anchor / "deps-pom.xml").read_text()
    g, a, v = MYSQL_DRIVER
    pom = pom.replace(
        "</dependencies>",
        f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>"
        "</dependencies>",
    )
    (CACHE / "pom.xml").write_text(pom)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(CACHE / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={plugin}",
        ],
        check=True,
    )
    shutil.copy(jar, plugin / jar.name)
    (CACHE / ".complete").touch()
    return plugin.parent


REWRITE = "reWriteBatchedInserts=true"  # pgjdbc: a batch of one INSERT becomes multi-row statements
TUNED = ", JVM reWriteBatchedInserts"  # label suffix of the JVM cases run with REWRITE


def start_worker(impl: str, workdir: Path, bootstrap: str, plugins: Path, log_dir: Path) -> tuple[WorkerProcess, float]:
    props = {
        "bootstrap.servers": bootstrap,
        "key.converter": JSON,
        "value.converter": JSON,
        "offset.storage.file.filename": str(workdir / "offsets"),
        "offset.flush.interval.ms": "10000",
    }
    if impl == "jvm":
        worker: WorkerProcess = ScriptJvm(workdir, {**props, "plugin.path": str(plugins)}, mode="standalone")
        return worker, worker.start(180)
    if impl == "mini-log":  # miniconnect on its embedded log (log_dir, shared by the runs) instead of Kafka
        del props["bootstrap.servers"]
        props["embedded.log.dir"] = str(log_dir)
    worker = WorkerProcess(workdir, extra=props)
    return worker, worker.start(60)


async def load_source(server, table: str, rows: int) -> None:
    """The issue's source table: id, name, amount double, created timestamp."""
    conn = await server.connect()
    if server.kind == "postgresql":
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text NOT NULL, amount double precision, "
            "created timestamp NOT NULL)"
        )
        await conn.execute(
            f"INSERT INTO {table} SELECT g, 'name-' || g, (g % 100000) / 100.0, "
            f"timestamp '2024-01-01' + g * interval '1 millisecond' FROM generate_series(1, {rows}) g"
        )
        await conn.execute(f"VACUUM ANALYZE {table}")
        await conn.close()
        return
    async with conn.cursor() as cur:
        await cur.execute(f"DROP TABLE IF EXISTS {table}")
        await cur.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, name varchar(40) NOT NULL, amount double, "
            "created datetime(3) NOT NULL)"
        )
        await cur.execute(
            f"INSERT INTO {table} SELECT seq, CONCAT('name-', seq), (seq % 100000) / 100.0, "
            f"TIMESTAMPADD(MICROSECOND, seq * 1000, '2024-01-01') FROM seq_1_to_{rows}"
        )
    await conn.commit()
    conn.close()


async def topic_count(bootstrap: str | None, log_dir: Path, topic: str) -> int:
    """Records in the topic: on Kafka, or in the embedded log of a worker without bootstrap.servers."""
    transport = transport_for(bootstrap, log_dir)
    await transport.start()
    try:
        return await records_in(transport, topic)
    finally:
        await transport.stop()


# -- cases ---------------------------------------------------------------------------------------------------------
@dataclass
class Result:
    rows: int
    secs: float
    cpu: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.rows / self.secs

    @property
    def cpu_per_100k(self) -> float:
        return self.cpu / self.rows * 1e5


def timed(worker: WorkerProcess, name: str, config: dict[str, str], done, n: int, label: str, finished=None) -> Result:
    """From POST /connectors until done() counts n, or finished() (see wait_done)."""
    cpu0 = worker.cpu_seconds()
    t0 = time.perf_counter()
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    assert r.status_code == 201, r.text

    def stuck(count: int) -> NoReturn:
        raise SystemExit(f"{label}: stuck at {count:,} of {n:,}\n{worker.log()[-4000:]}")

    wait_done(done, n, stuck, finished, stall_s=120)
    secs = time.perf_counter() - t0
    return Result(n, secs, worker.cpu_seconds() - cpu0, worker.memory_mb()[1])


def sink_case(worker, impl: str, db: Db, topic: str, n: int, mode: str, table: str, url_extra: str = "") -> Result:
    existing = mode == "upsert-existing"
    config = {
        "connector.class": CLASSES[impl][0],
        "tasks.max": "1",
        "topics": topic,
        "table.name.format": table,
        "auto.create": "true",
        **db.connection(),
    }
    config["connection.url"] += url_extra
    if mode.startswith("upsert"):
        config.update({"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "order_id"})
    done_sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE qty > 1000" if existing else "")
    finished = AllChanged(db, table) if existing else None
    return timed(
        worker, f"sink-{uuid.uuid4().hex[:6]}", config, lambda: db.count(done_sql), n, f"{impl} sink {mode}", finished
    )


def source_case(worker, impl: str, db: Db, bootstrap: str, table: str, n: int, mode: str, log_dir: Path) -> Result:
    prefix = f"src-{uuid.uuid4().hex[:6]}-"
    config = {
        "connector.class": CLASSES["jvm" if impl == "jvm" else "mini"][1],
        "tasks.max": "1",
        "mode": mode,
        "table.whitelist": table,
        "topic.prefix": prefix,
        "poll.interval.ms": "3600000",  # bulk: one pass over the table within the case
        **db.connection(),
    }
    if mode == "incrementing":
        config["incrementing.column.name"] = "id"
    topic = prefix + table
    kafka = None if impl == "mini-log" else bootstrap
    try:
        return timed(
            worker, f"source-{prefix}", config, lambda: asyncio.run(topic_count(kafka, log_dir, topic)), n, impl + mode
        )
    finally:
        if kafka:
            asyncio.run(delete_topics(bootstrap, [topic]))


def idle_connectors(worker, impl: str, db: Db, table: str, count: int = 10) -> float:
    """RSS (MB) with `count` JDBC source connectors polling a small table, once all run and the first rows went."""
    for i in range(count):
        config = {
            "connector.class": CLASSES[impl][1],
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": table,
            "topic.prefix": f"idle-{i}-",
            **db.connection(),
        }
        assert worker.rest("POST", "/connectors", {"name": f"idle-{i}", "config": config}).status_code == 201
    for i in range(count):
        worker.wait_running(f"idle-{i}", timeout=120)
    time.sleep(5)
    return worker.memory_mb()[0]


# -- ceilings ------------------------------------------------------------------------------------------------------
async def ceilings(server, bootstrap: str, table: str, data: list[bytes], n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    conn = await server.connect()
    try:
        rows = await conn.fetch(f"SELECT * FROM {table}")
        await conn.execute(f"CREATE TEMP TABLE copy_in (LIKE {table})")
        t0 = time.perf_counter()
        await conn.copy_records_to_table("copy_in", records=rows)
        out["PostgreSQL COPY in (asyncpg, binary)"] = len(rows) / (time.perf_counter() - t0)

        async def discard(chunk: bytes) -> None:
            pass

        t0 = time.perf_counter()
        await conn.copy_from_query(f"SELECT * FROM {table}", output=discard, format="binary")
        out["PostgreSQL COPY out (binary)"] = len(rows) / (time.perf_counter() - t0)
    finally:
        await conn.close()
    topic = f"ceiling-{uuid.uuid4().hex[:6]}"
    out["aiokafka produce (the sink's bytes)"] = len(data) / await produce_kafka(bootstrap, topic, data)
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        t0, got = time.perf_counter(), 0
        while got < len(data):
            for records in (await consumer.getmany(timeout_ms=1000, max_records=50_000)).values():
                got += len(records)
        out["aiokafka consume (the same)"] = got / (time.perf_counter() - t0)
    finally:
        await consumer.stop()
        await delete_topics(bootstrap, [topic])
    return out


# -- the run -------------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--only", choices=["sink", "source", "mariadb", "startup"], action="append")
    ap.add_argument("--aiven", type=Path, help="folder of Aiven's connector jar and deps-pom.xml")
    args = ap.parse_args()
    if connect_libs() is None:
        raise SystemExit("Kafka Connect's jars or java are missing: run scripts/test-deps.sh")
    plugins = aiven_plugin(args.aiven)
    n, only = args.rows, set(args.only or ["sink", "source", "mariadb", "startup"])
    results: dict[str, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
    startup: dict[str, list[float]] = defaultdict(list)
    idle_rss: dict[str, list[float]] = defaultdict(list)
    print(
        f"bench_vs_jvm {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {n:,} rows, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-vs-jvm-") as tmp:
        log_dir = Path(tmp) / "log"  # the embedded log of every mini-log worker
        bootstrap = stack.enter_context(kafka_server())
        pg = Db("PostgreSQL", stack.enter_context(db_server("postgresql")))
        maria = Db("MariaDB", stack.enter_context(db_server("mysql"))) if "mariadb" in only else None
        if maria is not None:  # jdbc:mysql for both workers (the JVM side has MySQL Connector/J)
            maria.connection = lambda: maria.server.connection_config(scheme="mysql")  # type: ignore[method-assign]
        asyncio.run(load_source(pg.server, "src_rows", n))
        asyncio.run(load_source(pg.server, "src_small", 100))
        if maria is not None:
            asyncio.run(load_source(maria.server, "src_rows", n))
        data = values(n, spaced=False)
        datas = {"new": data, "changed": values(n, spaced=False, changed=True) if "sink" in only else []}
        topics = {"new": f"vs-{uuid.uuid4().hex[:6]}", "changed": f"vs-{uuid.uuid4().hex[:6]}"}
        if only & {"sink", "mariadb"}:
            asyncio.run(produce_kafka(bootstrap, topics["new"], data))
            asyncio.run(produce_kafka(bootstrap, topics["changed"], datas["changed"]))
            # the embedded log's copies too, once, as the Kafka topics: each mini-log worker reads this log
            for key, topic in topics.items():
                asyncio.run(produce_embedded(log_dir, topic, datas[key]))
        print("ceilings:", flush=True)
        ceiling = asyncio.run(ceilings(pg.server, bootstrap, "src_rows", data, n))
        for name, rate in ceiling.items():
            print(f"  {name:<40} {rate:>12,.0f} rows/s", flush=True)
        run_id = 0

        def case(label: str, impl: str, fn) -> None:
            nonlocal run_id
            run_id += 1
            workdir = Path(tmp) / f"{run_id:03d}-{impl}"
            worker, up = start_worker(impl, workdir, bootstrap, plugins, log_dir)
            startup[impl].append(up)
            try:
                r = fn(worker)
            finally:
                try:
                    worker.stop()
                except subprocess.TimeoutExpired:  # stop() killed it; the case was measured before
                    print(f"  ({impl} worker still running 30 s after SIGTERM: killed)", flush=True)
            results[label][impl].append(r)
            print(
                f"  {label:<44} {impl:<4} {r.rate:>9,.0f} rows/s  {r.cpu_per_100k:5.2f} CPU-s/100k  "
                f"peak RSS {r.peak_mb:5.0f} MB  ({r.secs:.1f} s)",
                flush=True,
            )

        for run in range(1, args.runs + 1):
            print(f"run {run}:", flush=True)
            # who goes first alternates, the embedded log included: a case late in a run meets the database's
            # checkpoints and autovacuum of the cases before it
            every = ("jvm", "mini", "mini-log") if run % 2 else ("mini-log", "mini", "jvm")
            order = tuple(i for i in every if i != "mini-log")
            if "sink" in only:
                for label, mode, topic, extra, impls in (
                    ("PG sink insert", "insert", "new", "", every),
                    ("PG sink insert" + TUNED, "insert", "new", "?" + REWRITE, ("jvm",)),
                ):
                    for impl in impls:
                        table = f"t_{uuid.uuid4().hex[:8]}"
                        case(
                            label,
                            impl,
                            lambda w, impl=impl, table=table, mode=mode, topic=topic, extra=extra: sink_case(
                                w, impl, pg, topics[topic], n, mode, table, extra
                            ),
                        )
                        pg.drop(table)
                # the JVM's upsert is INSERT ... VALUES (?, ...) ON CONFLICT ... DO UPDATE SET c = EXCLUDED.c, which
                # pgjdbc rewrites into multi-row statements too (pgjdbc #1130)
                for impl, suffix, extra in (*((i, "", "") for i in every), ("jvm", TUNED, "?" + REWRITE)):
                    table = f"t_{uuid.uuid4().hex[:8]}"
                    case(
                        "PG sink upsert, new keys" + suffix,
                        impl,
                        lambda w, impl=impl, table=table, extra=extra: sink_case(
                            w, impl, pg, topics["new"], n, "upsert", table, extra
                        ),
                    )
                    case(
                        "PG sink upsert, existing keys" + suffix,
                        impl,
                        lambda w, impl=impl, table=table, extra=extra: sink_case(
                            w, impl, pg, topics["changed"], n, "upsert-existing", table, extra
                        ),
                    )
                    pg.drop(table)
            if "source" in only:
                for mode in ("incrementing", "bulk"):
                    for impl in every:
                        case(
                            f"PG source {mode}",
                            impl,
                            lambda w, impl=impl, mode=mode: source_case(
                                w, impl, pg, bootstrap, "src_rows", n, mode, log_dir
                            ),
                        )
            if maria is not None:
                for impl in order:
                    table = f"t_{uuid.uuid4().hex[:8]}"
                    case(
                        "MariaDB sink insert",
                        impl,
                        lambda w, impl=impl, table=table: sink_case(w, impl, maria, topics["new"], n, "insert", table),
                    )
                    maria.drop(table)
                    case(
                        "MariaDB source incrementing",
                        impl,
                        lambda w, impl=impl: source_case(
                            w, impl, maria, bootstrap, "src_rows", n, "incrementing", log_dir
                        ),
                    )
            if "startup" in only:
                for impl in order:
                    workdir = Path(tmp) / f"idle-{run}-{impl}"
                    worker, up = start_worker(impl, workdir, bootstrap, plugins, log_dir)
                    startup[impl].append(up)
                    try:
                        idle_rss[impl].append(idle_connectors(worker, impl, pg, "src_small"))
                    finally:
                        worker.stop()
                    print(
                        f"  {'RSS with 10 source connectors':<44} {impl:<4} {idle_rss[impl][-1]:>9.0f} MB", flush=True
                    )
        for name in topics.values():
            asyncio.run(delete_topics(bootstrap, [name]))
        summary(results, startup, idle_rss, ceiling)


def summary(results, startup, idle_rss, ceiling) -> None:
    print("\nsummary (median of the runs; ratio = miniconnect / JVM):")
    print(
        f"  {'case':<44} {'JVM rows/s':>11} {'mini rows/s':>12} {'ratio':>6}  {'JVM CPU':>8} {'mini CPU':>8}"
        f"  {'JVM RSS':>7} {'mini RSS':>8}"
    )
    for label, by in results.items():
        if "mini" not in by:
            continue
        jvm = by.get("jvm") or []
        tuned = results.get(label + TUNED, {}).get("jvm")
        if tuned:  # the embedded log against the tuned JVM, the stricter
            rows = [("(vs stock JVM)", jvm, by["mini"]), ("(vs JVM reWriteBatchedInserts)", tuned, by["mini"])]
            if "mini-log" in by:
                rows.append(("(embedded log, vs JVM reWriteBatchedInserts)", tuned, by["mini-log"]))
        else:
            rows = [("", jvm, by["mini"])]
            if "mini-log" in by:
                rows.append(("(mini on its embedded log)", jvm, by["mini-log"]))
        for suffix, j, mini in rows:
            m_rate = statistics.median(r.rate for r in mini)
            m_cpu = statistics.median(r.cpu_per_100k for r in mini)
            m_rss = statistics.median(r.peak_mb for r in mini)
            if j:
                j_rate = statistics.median(r.rate for r in j)
                j_cpu = statistics.median(r.cpu_per_100k for r in j)
                j_rss = statistics.median(r.peak_mb for r in j)
                print(
                    f"  {label + ' ' + suffix:<44} {j_rate:>11,.0f} {m_rate:>12,.0f} {m_rate / j_rate:>5.2f}x"
                    f"  {j_cpu:>8.2f} {m_cpu:>8.2f}  {j_rss:>6.0f}M {m_rss:>7.0f}M"
                )
    for impl in ("jvm", "mini"):
        if startup[impl]:
            print(
                f"  start-up to REST, {impl}: median {statistics.median(startup[impl]):.2f} s "
                f"(min {min(startup[impl]):.2f}, max {max(startup[impl]):.2f}, {len(startup[impl])} starts)"
            )
    if idle_rss["jvm"] and idle_rss["mini"]:
        j, m = statistics.median(idle_rss["jvm"]), statistics.median(idle_rss["mini"])
        print(f"  RSS with 10 source connectors: JVM {j:.0f} MB, miniconnect {m:.0f} MB ({m / j:.2f}x)")
    print("  CPU in CPU-seconds per 100k rows; RSS is each worker's peak during the case")
    for name, rate in ceiling.items():
        print(f"  ceiling: {name:<40} {rate:>12,.0f} rows/s")


if __name__ == "__main__":
    main()
