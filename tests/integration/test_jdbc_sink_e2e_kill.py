"""A worker killed with SIGKILL in the middle of a JDBC sink stream (PostgreSQL, MariaDB) loses no row: positions
are committed only after the rows are in the database, so the restarted worker redelivers whatever was not committed
(insert mode: at least once, duplicates counted; upsert: exactly one row per key, holding the key's last value).
These batches go the column path (put_columns, parsed in a worker thread while the previous batch is written); the
"records" runs turn it off (MINICONNECT_SINK_COLUMNS=0) and go record by record."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from helpers.jdbc_sink import kafka_produce, topics_produce
from helpers.sink_stream import UPDATES, Counter, N, order_id, stream
from servers import DbServer
from worker_process import WorkerProcess

COLUMNS_LOG = "JDBC sink task writes batches as columns"


@pytest.mark.parametrize(
    "transport,mode,db,path",
    [
        ("kafka", "insert", "pg_db", "columns"),
        ("kafka", "upsert", "pg_db", "columns"),
        ("embedded", "insert", "pg_db", "columns"),
        ("embedded", "upsert", "pg_db", "columns"),
        ("kafka", "insert", "mysql_db", "columns"),
        ("kafka", "upsert", "mysql_db", "columns"),
        ("embedded", "upsert", "mysql_db", "columns"),
        ("kafka", "upsert", "pg_db", "records"),
        ("embedded", "insert", "mysql_db", "records"),
    ],
)
def test_sigkill_mid_stream_loses_no_row(
    transport: str, mode: str, db: str, path: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server: DbServer = request.getfixturevalue(db)
    topic = f"orders_{transport}_{mode}_{uuid.uuid4().hex[:6]}"
    records = stream(UPDATES if mode == "upsert" else 0)
    extra = {}
    if transport == "kafka":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        extra["bootstrap.servers"] = bootstrap
        kafka_produce(
            bootstrap, topic, [v.encode() for _, v in records], [k.encode() for k, _ in records], partitions=3
        )
    env = {"MINICONNECT_SINK_COLUMNS": "1" if path == "columns" else "0"}
    worker = WorkerProcess(tmp_path, extra=extra, env=env)
    if transport == "embedded":
        topics_produce(worker, topic, [f"{k}\t{v}" for k, v in records], key_separator="\t")
    scheme = "mariadb" if server.kind == "mysql" else None  # jdbc:mariadb:, as in the seed config
    config = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "table.name.format": "orders",
        "auto.create": "true",
        **server.connection_config(scheme=scheme),
    }
    if mode == "upsert":
        # record_key on the key's order_id (a string key); record_value would do the same for these records
        config.update({"insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "order_id"})
    counter = Counter(server, "orders")

    worker.start()
    try:
        r = worker.rest("POST", "/connectors", {"name": "orders-sink", "config": config})
        assert r.status_code == 201, r.text
        at_kill = counter.wait_at_least(N // 5, timeout=120)
        worker.kill()
    finally:
        worker.stop()
    assert at_kill < N, "the worker finished before it could be killed mid-stream: raise N"

    restarted = WorkerProcess(tmp_path, extra=extra, port=worker.port, env=env)
    restarted.start()
    try:
        restarted.wait_running("orders-sink")
        restarted.wait_for(
            lambda: counter.fetch("SELECT COUNT(DISTINCT order_id) FROM orders")[0][0] == N,
            timeout=180,
            what="every order",
        )
        if mode == "upsert":  # and every update applied
            restarted.wait_for(
                lambda: counter.fetch("SELECT COUNT(*) FROM orders WHERE qty > 1000")[0][0] == UPDATES,
                timeout=180,
                what="the updates",
            )
        # let the worker finish whatever it still has: the count must stay where it is
        time.sleep(1.5)
        total, distinct = counter.fetch("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM orders")[0]
        assert distinct == N
        if mode == "insert":
            print(f"\n{transport} insert into {server.kind}: {total - N} duplicate rows after SIGKILL at {at_kill}")
            assert total >= N
        else:
            assert total == N  # exactly one row per key
            wrong = counter.fetch("SELECT COUNT(*) FROM orders WHERE total_price <> qty * unit_price")[0][0]
            assert wrong == 0
            expected = {order_id(i): (i % 50 + 1001 if i < UPDATES else i % 50 + 1) for i in range(N)}
            got = dict(counter.fetch("SELECT order_id, qty FROM orders"))
            assert got == expected
        status = restarted.rest("GET", "/connectors/orders-sink/status").json()
        assert [t["state"] for t in status["tasks"]] == ["RUNNING"], status
        assert (COLUMNS_LOG in restarted.log()) == (path == "columns")
    finally:
        assert restarted.stop() == 0
