"""Issue 4's two seed JDBC source configs, verbatim but for connection.url/user/password, POSTed to a real
`miniconnect standalone` worker on Kafka, against the test MariaDB and PostgreSQL: topics, JsonConverter bytes
field by field, one task for one table although tasks.max is 3, and the Java connector's offsets over REST."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from servers import DbServer, run_async
from worker_process import WorkerProcess

from miniconnect.connector import TopicPartition

SEED_1 = {
    "name": "my-first-connect",
    "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": "jdbc:mysql://127.0.0.1:3306/testdb",
        "connection.user": "root",
        "connection.password": "passwd",
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "table.whitelist": "test",
        "topic.prefix": "my_connect_",
        "tasks.max": "3",
    },
}
SEED_2 = {
    "name": "source_tb_iv_member_join",
    "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": "jdbc:mysql://localhost:3306/kafka_test",
        "connection.user": "root",
        "connection.password": "qwer1234",
        "topic.prefix": "topic_",
        "poll.interval.ms": 2000,
        "table.whitelist": "tb_iv_member_join",
        "mode": "timestamp+incrementing",
        "incrementing.column.name": "mem_uno",
        "timestamp.column.name": "mem_join_date",
        "topic.creation.default.replication.factor": 1,
        "topic.creation.default.partitions": 1,
        "validate.non.null": "false",
    },
}
TOPIC_1, TOPIC_2 = "my_connect_test", "topic_tb_iv_member_join"


def seed(connector: dict[str, Any], server: DbServer) -> dict[str, Any]:
    """The seed JSON with only the connection settings pointed at the test server (the seeds say jdbc:mysql; the
    PostgreSQL variant says jdbc:postgresql)."""
    return {"name": connector["name"], "config": {**connector["config"], **server.connection_config()}}


def sql(server: DbServer, *statements: str) -> list[tuple]:
    """Runs autocommit statements in a separate session; returns the last one's rows."""

    async def go() -> list[tuple]:
        conn = await server.connect()
        rows: list[tuple] = []
        try:
            for s in statements:
                if server.kind == "postgresql":
                    rows = [tuple(r) for r in await conn.fetch(s)]
                else:
                    async with conn.cursor() as cur:
                        await cur.execute(s)
                        rows = [tuple(r) for r in await cur.fetchall()]
        finally:
            if server.kind == "postgresql":
                await conn.close()
            else:
                conn.close()
        return rows

    return run_async(go, timeout=300)


async def _kafka(bootstrap: str, fn: Any) -> Any:
    from miniconnect.transport.kafka import KafkaTransport

    transport = KafkaTransport(bootstrap)
    await transport.start()
    try:
        return await fn(transport)
    finally:
        await transport.stop()


def end_offset(bootstrap: str, topic: str) -> int:
    """Records in the topic so far (0 when it does not exist yet); the topics here have one partition."""

    async def go(t: Any) -> int:
        partitions = (await t.list_topics()).get(topic)
        if not partitions:
            return 0
        return sum((await t.end_offsets([TopicPartition(topic, p) for p in range(partitions)])).values())

    return run_async(lambda: _kafka(bootstrap, go))


def partitions(bootstrap: str, topic: str) -> int:
    return run_async(lambda: _kafka(bootstrap, lambda t: t.list_topics()))[topic]


def read(bootstrap: str, topic: str, start: int, count: int, timeout: float = 120) -> list[tuple[Any, bytes]]:
    """(key, value) of partition 0's records [start, start + count)."""

    async def go() -> list[tuple[Any, bytes]]:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.structs import TopicPartition as TP

        c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=1 << 24)
        await c.start()
        try:
            tp = TP(topic, 0)
            c.assign([tp])
            c.seek(tp, start)
            out: list[tuple[Any, bytes]] = []
            while len(out) < count:
                for records in (await c.getmany(timeout_ms=1000, max_records=50_000)).values():
                    out += [(r.key, r.value) for r in records]
            return out[:count]
        finally:
            await c.stop()

    return run_async(go, timeout=timeout)


def wait_end(worker: WorkerProcess, bootstrap: str, topic: str, n: int, timeout: float = 60) -> int:
    return worker.wait_for(
        lambda: end_offset(bootstrap, topic) >= n and end_offset(bootstrap, topic), timeout, f"{n} records in {topic}"
    )


def offsets(worker: WorkerProcess, name: str) -> list[dict[str, Any]]:
    r = worker.rest("GET", f"/connectors/{name}/offsets")
    assert r.status_code == 200, r.text
    return r.json()["offsets"]


def ms(wall: str) -> int:
    """Epoch ms of a wall-clock time read in db.timezone (UTC by default)."""
    return int(dt.datetime.fromisoformat(wall).replace(tzinfo=dt.UTC).timestamp() * 1000)


def b64_unscaled(n: int) -> str:
    return base64.b64encode(n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)).decode()


DECIMAL_10_2 = {
    "type": "bytes",
    "optional": True,
    "name": "org.apache.kafka.connect.data.Decimal",
    "version": 1,
    "parameters": {"scale": "2", "connect.decimal.precision": "10"},
}
TIMESTAMP = {"type": "int64", "optional": False, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1}


def create_tables(server: DbServer) -> None:
    pg = server.kind == "postgresql"
    serial = "SERIAL PRIMARY KEY" if pg else "INT AUTO_INCREMENT PRIMARY KEY"
    ts = "TIMESTAMP(3)" if pg else "DATETIME(3)"
    flag = "BOOLEAN" if pg else "TINYINT(1)"
    sql(
        server,
        f"CREATE TABLE test (id {serial}, name VARCHAR(32) NOT NULL, amount DECIMAL(10,2), active {flag})",
        "INSERT INTO test (name, amount, active) VALUES ('alice', 123.45, TRUE), ('bob', -123.45, FALSE), "
        "('carol', NULL, NULL)",
        f"CREATE TABLE tb_iv_member_join (mem_uno {serial}, mem_id VARCHAR(20) NOT NULL, mem_join_date {ts} NOT NULL, "
        "mem_point DECIMAL(10,2))",
        "INSERT INTO tb_iv_member_join (mem_id, mem_join_date, mem_point) VALUES "
        "('m1', '2024-05-01 10:20:30.123', 0), ('m2', '2024-05-01 10:20:30.123', 1.50), "
        "('m3', '2024-05-02 00:00:00.000', NULL)",
    )


def fqn(server: DbServer, table: str) -> str:
    return f"public.{table}" if server.kind == "postgresql" else f"{server.database}.{table}"


@pytest.mark.parametrize("kind", ["mariadb", "postgresql"])
def test_seed_configs_on_kafka(kind: str, kafka_bootstrap: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: DbServer = request.getfixturevalue("mysql_db" if kind == "mariadb" else "pg_db")
    pg = server.kind == "postgresql"
    create_tables(server)
    start_1, start_2 = end_offset(kafka_bootstrap, TOPIC_1), end_offset(kafka_bootstrap, TOPIC_2)
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap})
    worker.start()
    try:
        for connector in (SEED_1, SEED_2):
            r = worker.rest("POST", "/connectors", seed(connector, server))
            assert r.status_code == 201, r.text
        # one table -> one task, as Java's JdbcSourceConnector: min(tables, tasks.max)
        worker.wait_running("my-first-connect", tasks=1)
        worker.wait_running("source_tb_iv_member_join", tasks=1)
        assert len(worker.rest("GET", "/connectors/my-first-connect/tasks").json()) == 1

        wait_end(worker, kafka_bootstrap, TOPIC_1, start_1 + 3)
        wait_end(worker, kafka_bootstrap, TOPIC_2, start_2 + 3)
        if start_2 == 0:  # created by the worker from the seed's topic.creation.default.* settings
            assert partitions(kafka_bootstrap, TOPIC_2) == 1

        recs = read(kafka_bootstrap, TOPIC_1, start_1, 3)
        assert [k for k, _ in recs] == [None] * 3  # no key, as the Java connector
        first = json.loads(recs[0][1])
        assert list(first) == ["schema", "payload"]
        assert first["schema"] == {
            "type": "struct",
            "fields": [
                {"type": "int32", "optional": False, "field": "id"},
                {"type": "string", "optional": False, "field": "name"},
                {**DECIMAL_10_2, "field": "amount"},
                # TINYINT(1) is BIT for MySQL's driver, and Java maps BIT to INT8
                {"type": "boolean" if pg else "int8", "optional": True, "field": "active"},
            ],
            "optional": False,
            "name": "test",
        }
        # Kafka's JsonConverter writes compact JSON in schema field order
        assert recs[0][1] == json.dumps(first, separators=(",", ":")).encode()
        payloads = [json.loads(v)["payload"] for _, v in recs]
        true, false = (True, False) if pg else (1, 0)
        assert payloads == [
            {"id": 1, "name": "alice", "amount": b64_unscaled(12345), "active": true},
            {"id": 2, "name": "bob", "amount": b64_unscaled(-12345), "active": false},
            {"id": 3, "name": "carol", "amount": None, "active": None},
        ]
        assert payloads[0]["amount"] == "MDk=" and payloads[1]["amount"] == "z8c="

        recs = read(kafka_bootstrap, TOPIC_2, start_2, 3)
        second = json.loads(recs[0][1])
        assert second["schema"] == {
            "type": "struct",
            "fields": [
                {"type": "int32", "optional": False, "field": "mem_uno"},
                {"type": "string", "optional": False, "field": "mem_id"},
                {**TIMESTAMP, "field": "mem_join_date"},
                {**DECIMAL_10_2, "field": "mem_point"},
            ],
            "optional": False,
            "name": "tb_iv_member_join",
        }
        assert [json.loads(v)["payload"] for _, v in recs] == [
            {"mem_uno": 1, "mem_id": "m1", "mem_join_date": ms("2024-05-01 10:20:30.123"), "mem_point": "AA=="},
            {"mem_uno": 2, "mem_id": "m2", "mem_join_date": ms("2024-05-01 10:20:30.123"), "mem_point": "AJY="},
            {"mem_uno": 3, "mem_id": "m3", "mem_join_date": ms("2024-05-02 00:00:00"), "mem_point": None},
        ]

        # the Java connector's partition and offset maps (offsets flush every 500 ms here)
        worker.wait_for(
            lambda: (
                offsets(worker, "my-first-connect")
                == [{"partition": {"protocol": "1", "table": fqn(server, "test")}, "offset": {"incrementing": 3}}]
            ),
            10,
            "offsets of my-first-connect",
        )
        join = ms("2024-05-02 00:00:00")
        worker.wait_for(
            lambda: (
                offsets(worker, "source_tb_iv_member_join")
                == [
                    {
                        "partition": {"protocol": "1", "table": fqn(server, "tb_iv_member_join")},
                        "offset": {"timestamp_nanos": 0, "incrementing": 3, "timestamp": join},
                    }
                ]
            ),
            10,
            "offsets of source_tb_iv_member_join",
        )

        # new rows in both; an update that moves mem_join_date forward is emitted again in timestamp+incrementing
        sql(
            server,
            "INSERT INTO test (name) VALUES ('dave')",
            "INSERT INTO tb_iv_member_join (mem_id, mem_join_date) VALUES ('m4', '2024-05-03 01:02:03.456')",
            "UPDATE tb_iv_member_join SET mem_join_date = '2024-05-04 00:00:00.007', mem_point = 2 WHERE mem_uno = 1",
        )
        wait_end(worker, kafka_bootstrap, TOPIC_1, start_1 + 4, timeout=30)
        wait_end(worker, kafka_bootstrap, TOPIC_2, start_2 + 5, timeout=30)
        assert json.loads(read(kafka_bootstrap, TOPIC_1, start_1 + 3, 1)[0][1])["payload"] == {
            "id": 4,
            "name": "dave",
            "amount": None,
            "active": None,
        }
        assert [json.loads(v)["payload"] for _, v in read(kafka_bootstrap, TOPIC_2, start_2 + 3, 2)] == [
            {"mem_uno": 4, "mem_id": "m4", "mem_join_date": ms("2024-05-03 01:02:03.456"), "mem_point": None},
            {"mem_uno": 1, "mem_id": "m1", "mem_join_date": ms("2024-05-04 00:00:00.007"), "mem_point": "AMg="},
        ]
        worker.wait_for(
            lambda: (
                offsets(worker, "source_tb_iv_member_join")[0]["offset"]
                == {"timestamp_nanos": 7_000_000, "incrementing": 1, "timestamp": ms("2024-05-04 00:00:00.007")}
            ),
            10,
            "offsets after the update",
        )
        for name in ("my-first-connect", "source_tb_iv_member_join"):
            status = worker.rest("GET", f"/connectors/{name}/status").json()
            assert [t["state"] for t in status["tasks"]] == ["RUNNING"], status
    finally:
        assert worker.stop() == 0
    assert end_offset(kafka_bootstrap, TOPIC_1) == start_1 + 4
    assert end_offset(kafka_bootstrap, TOPIC_2) == start_2 + 5
