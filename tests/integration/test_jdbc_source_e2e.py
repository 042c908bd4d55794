"""Issue 4's two seed JDBC source configs, verbatim but for connection.url/user/password, POSTed to a real
`miniconnect standalone` worker on Kafka, against the test MariaDB and PostgreSQL: topics, JsonConverter bytes
field by field, one task for one table although tasks.max is 3, and the Java connector's offsets over REST."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from helpers.source_e2e import SEED_1, SEED_2, TOPIC_1, TOPIC_2, _kafka, end_offset, offsets, read, seed, sql, wait_end
from servers import DbServer, run_async
from worker_process import WorkerProcess


def partitions(bootstrap: str, topic: str) -> int:
    return run_async(lambda: _kafka(bootstrap, lambda t: t.list_topics()))[topic]


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
