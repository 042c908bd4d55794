"""A worker killed with SIGKILL while the columnar JDBC source (PostgreSQL through ADBC, MariaDB through connectorx)
streams a table, on Kafka and on the embedded log, then restarted on the same offsets: every row is in the topic, in order, and the only duplicates are
the rows after the offset committed before the kill (no offset is committed before its records are acknowledged)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import orjson
import pytest
from helpers.source_e2e import sql
from servers import DbServer, run_async
from worker_process import WorkerProcess

from miniconnect.connector import TopicPartition
from miniconnect.storage.offsets import FileOffsetStore

ROWS, MORE = 400_000, 1_000
NAME = "columnar"


def transport(bootstrap: str | None, log_dir: Path):
    if bootstrap:
        from miniconnect.transport.kafka import KafkaTransport

        return KafkaTransport(bootstrap)
    from miniconnect.transport.embedded import EmbeddedLog

    return EmbeddedLog(str(log_dir))


def count(bootstrap: str | None, log_dir: Path, topic: str) -> int:
    async def go() -> int:
        t = transport(bootstrap, log_dir)
        await t.start()
        try:
            n = (await t.list_topics()).get(topic)
            return sum((await t.end_offsets([TopicPartition(topic, p) for p in range(n)])).values()) if n else 0
        finally:
            await t.stop()

    return run_async(go)


def ids_in_topic(bootstrap: str | None, log_dir: Path, topic: str, n: int) -> list[int]:
    """The `id` of every record in the topic (one partition), in log order."""

    async def go() -> list[int]:
        t = transport(bootstrap, log_dir)
        await t.start()
        consumer = t.consumer(f"check-{time.monotonic_ns()}", {"auto.offset.reset": "earliest"})
        await consumer.start()
        try:
            await consumer.subscribe([topic])
            out: list[int] = []
            while len(out) < n:
                out += [orjson.loads(r.value)["payload"]["id"] for r in await consumer.poll(50_000, 1000)]
            return out
        finally:
            await consumer.stop()
            await t.stop()

    return run_async(go, timeout=300)


def committed(path: Path) -> int | None:
    """The incrementing offset in the worker's offsets file."""

    async def go() -> int | None:
        store = FileOffsetStore(str(path))
        await store.start()
        try:
            return max((o["incrementing"] for _, o in store.all(NAME) if o), default=None)
        finally:
            await store.stop()

    return asyncio.run(go())


def insert(db: DbServer, first: int, last: int) -> None:
    if db.kind == "postgresql":
        sql(db, f"INSERT INTO kill_src SELECT g, 'name-' || g, g / 7.0 FROM generate_series({first}, {last}) g")
    else:
        sql(db, f"INSERT INTO kill_src SELECT seq, CONCAT('name-', seq), seq / 7.0 FROM seq_{first}_to_{last}")


@pytest.mark.parametrize("where", ["kafka", "embedded"])
@pytest.mark.parametrize(
    "database", [pytest.param("pg_db", marks=pytest.mark.postgres), pytest.param("mysql_db", marks=pytest.mark.mysql)]
)
def test_sigkill_mid_stream(where: str, database: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if where == "kafka" else None
    db: DbServer = request.getfixturevalue(database)
    prefix = f"col-{db.kind}-"  # one topic per database: the Kafka broker is the session's
    topic = prefix + "kill_src"
    sql(db, "CREATE TABLE kill_src (id bigint PRIMARY KEY, name varchar(40) NOT NULL, amount double precision)")
    insert(db, 1, ROWS)
    extra = {"bootstrap.servers": bootstrap} if bootstrap else {}
    worker = WorkerProcess(tmp_path, extra={**extra, "offset.flush.interval.ms": "200"})
    log_dir, offsets_file = tmp_path / "log", tmp_path / "connect.offsets"
    config = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        **db.connection_config(),
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "table.whitelist": "kill_src",
        "topic.prefix": prefix,
        "batch.max.rows": "500",
        "poll.interval.ms": "200",
    }
    worker.start()
    try:
        assert worker.rest("POST", "/connectors", {"name": NAME, "config": config}).status_code == 201
        worker.wait_for(lambda: committed(offsets_file), 120, "a first offset flush")
        assert worker.stop(signal.SIGKILL) == -signal.SIGKILL
        at_kill = committed(offsets_file)
        sent = count(bootstrap, log_dir, topic)
        assert at_kill is not None and 0 < sent < ROWS, f"not killed mid-stream: {sent} records"
        assert at_kill <= sent, "an offset was committed before its records were in the topic"
        insert(db, ROWS + 1, ROWS + MORE)

        worker.start()  # the same offsets file and config: the connector resumes after its committed offset
        worker.wait_for(lambda: count(bootstrap, log_dir, topic) >= sent + ROWS + MORE - at_kill, 300, "every row")
        time.sleep(1.0)  # one more poll: nothing further may come
        total = count(bootstrap, log_dir, topic)
        ids = ids_in_topic(bootstrap, log_dir, topic, total)
        # what was sent before the kill, then everything after the committed offset, once, in order
        assert ids == list(range(1, sent + 1)) + list(range(at_kill + 1, ROWS + MORE + 1))
        assert f"Reading {topic} as Arrow columns" in worker.log()  # the columnar path, not the row path
    finally:
        worker.stop()
