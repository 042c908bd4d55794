"""The issue's seed scenario through a real `miniconnect standalone` process: the connector JSON verbatim (only
connection.* pointed at the test MariaDB, PostgreSQL or SQLite) POSTed to the REST API, the seed message produced to
topic `orders` (embedded log through `miniconnect topics produce`, Kafka through aiokafka), the table created and
holding the row."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from servers import DbServer, run_async
from worker_process import WorkerProcess

SEED_CONNECTOR = {
    "name": "my-order-sink-connect",
    "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "connection.url": "jdbc:mariadb://localhost:3306/cloudtest",
        "connection.user": "root",
        "connection.password": "passwd",
        "auto.create": "true",
        "auto.evolve": "true",
        "delete.enabled": "false",
        "tasks.max": "1",
        "topics": "orders",
    },
}
SEED_MESSAGE = (
    '{"schema": {"type": "struct", "fields": [{"type": "string", "optional": true, "field": "order_id"}, '
    '{"type": "string", "optional": true, "field": "user_id"}, {"type": "string", "optional": true, "field": '
    '"product_id"}, {"type": "int32", "optional": true, "field": "qty"}, {"type": "int32", "optional": true, '
    '"field": "unit_price"}, {"type": "int32", "optional": true, "field": "total_price"}], "optional": false, '
    '"name": "orders"}, "payload": {"order_id": "887dfd6a-5bb7-4742-90e8-a793808e93f6", "user_id": '
    '"ea45be72-1806-44ae-b528-ebec466d0d61", "product_id": "CATALOG-002", "qty": 20, "unit_price": 2000, '
    '"total_price": 40000}}'
)
SEED_ROW = (
    "887dfd6a-5bb7-4742-90e8-a793808e93f6",
    "ea45be72-1806-44ae-b528-ebec466d0d61",
    "CATALOG-002",
    20,
    2000,
    40000,
)
COLUMNS = "order_id, user_id, product_id, qty, unit_price, total_price"


class Table:
    """Reads the sink's table `orders` synchronously (the worker runs in another process)."""

    def __init__(
        self,
        kind: str,
        connection: dict[str, str],
        server: DbServer | None = None,
        path: Path | None = None,
        name: str = "orders",
    ):
        self.kind, self.connection, self.server, self.path, self.name = kind, connection, server, path, name

    def query(self, sql: str) -> list[tuple]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as c:  # type: ignore[arg-type]
                return [tuple(r) for r in c.execute(sql).fetchall()]
        server = self.server
        assert server is not None

        async def run() -> list[tuple]:
            conn = await server.connect()
            try:
                if server.kind == "postgresql":
                    return [tuple(r) for r in await conn.fetch(sql)]
                async with conn.cursor() as cur:
                    await cur.execute(sql)
                    return [tuple(r) for r in await cur.fetchall()]
            finally:
                if server.kind == "postgresql":
                    await conn.close()
                else:
                    conn.close()

        return run_async(run)

    def exists(self) -> bool:
        if self.kind == "sqlite":
            sql = f"SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{self.name}'"
        elif self.kind == "postgresql":
            sql = f"SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = '{self.name}'"
        else:
            sql = (
                f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
                f"TABLE_NAME = '{self.name}'"
            )
        return bool(self.query(sql))

    def count(self) -> int:
        try:
            return self.query(f"SELECT COUNT(*) FROM {self.name}")[0][0] if self.exists() else 0
        except Exception:  # the table is being created right now
            return 0

    def rows(self) -> list[tuple]:
        return self.query(f"SELECT {COLUMNS} FROM {self.name} ORDER BY order_id")


def make_table(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Table:
    """kind: "mariadb" (jdbc:mariadb:), "postgresql" or "sqlite"; a fresh, empty database."""
    if kind == "sqlite":
        path = tmp_path / "cloudtest.db"
        return Table("sqlite", {"connection.url": f"jdbc:sqlite:{path}"}, path=path)
    if kind == "postgresql":
        server = request.getfixturevalue("pg_db")
        return Table("postgresql", server.connection_config(), server)
    server = request.getfixturevalue("mysql_db")
    return Table("mysql", server.connection_config(scheme="mariadb"), server)


def seed_connector(table: Table) -> dict[str, Any]:
    """The seed JSON with only connection.url (and the test server's credentials) changed."""
    config = dict(SEED_CONNECTOR["config"])
    if table.kind == "sqlite":  # no user or password for a file
        config["connection.url"] = table.connection["connection.url"]
    else:
        config.update(table.connection)
    return {"name": SEED_CONNECTOR["name"], "config": config}


def topics_produce(worker: WorkerProcess, topic: str, lines: list[str], key_separator: str | None = None) -> None:
    args = [sys.executable, "-m", "miniconnect.cli", "topics", str(worker.props), "produce", topic]
    if key_separator:
        args += ["--key-separator", key_separator]
    subprocess.run(args, input="".join(f"{line}\n" for line in lines).encode(), check=True, timeout=120)


def kafka_produce(
    bootstrap: str, topic: str, values: list[bytes], keys: list[bytes | None] | None = None, partitions: int = 1
) -> None:
    """Creates the topic if needed and sends the records in large batches (aiokafka, acks=all)."""

    async def run() -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            if topic not in await admin.list_topics():
                await admin.create_topics([NewTopic(topic, partitions, 1)])
        finally:
            await admin.close()
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20, compression_type=None
        )
        await producer.start()
        try:
            futures = []
            ks = keys or [None] * len(values)
            for i, (k, v) in enumerate(zip(ks, values)):
                futures.append(await producer.send(topic, v, key=k))
                if len(futures) >= 20000:
                    await asyncio.gather(*futures)
                    futures = []
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    run_async(run, timeout=600)


def delete_group(bootstrap: str, group: str) -> None:
    async def run() -> None:
        from aiokafka.errors import GroupCoordinatorNotAvailableError

        from miniconnect.transport.base import GroupNotEmpty
        from miniconnect.transport.kafka import KafkaTransport

        transport = KafkaTransport(bootstrap)
        await transport.start()
        try:
            for _ in range(100):
                try:
                    await transport.delete_group(group)
                    return
                except (GroupNotEmpty, GroupCoordinatorNotAvailableError):  # left just now / no offsets topic yet
                    await asyncio.sleep(0.2)
            raise TimeoutError(f"group {group} stayed non-empty")
        finally:
            await transport.stop()

    run_async(run)


def wait_rows(worker: WorkerProcess, table: Table, n: int, timeout: float = 60.0) -> None:
    worker.wait_for(lambda: table.count() >= n, timeout, f"{n} rows in {table.kind} table {table.name}")


@pytest.mark.parametrize("kind", ["mariadb", "postgresql", "sqlite"])
def test_seed_scenario_on_the_embedded_log(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    table = make_table(kind, request, tmp_path)
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        r = worker.rest("POST", "/connectors", seed_connector(table))
        assert r.status_code == 201, r.text
        worker.wait_running("my-order-sink-connect")
        topics_produce(worker, "orders", [SEED_MESSAGE])
        wait_rows(worker, table, 1)
        assert table.rows() == [SEED_ROW]
        status = worker.rest("GET", "/connectors/my-order-sink-connect/status").json()
        assert [t["state"] for t in status["tasks"]] == ["RUNNING"]
    finally:
        assert worker.stop() == 0


def test_seed_scenario_on_kafka(kafka_bootstrap: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """One seed message on Kafka's `orders`; the verbatim connector into each database in turn (between them the
    connector is deleted and its consumer group dropped, so each database starts from the first record)."""
    kafka_produce(kafka_bootstrap, "orders", [SEED_MESSAGE.encode()])
    worker = WorkerProcess(tmp_path, extra={"bootstrap.servers": kafka_bootstrap})
    worker.start()
    try:
        for kind in ("mariadb", "postgresql", "sqlite"):
            delete_group(kafka_bootstrap, "connect-my-order-sink-connect")
            table = make_table(kind, request, tmp_path)
            r = worker.rest("POST", "/connectors", seed_connector(table))
            assert r.status_code == 201, r.text
            worker.wait_running("my-order-sink-connect")
            wait_rows(worker, table, 1)
            # a Kafka named by MINICONNECT_TEST_KAFKA keeps the seed messages of earlier runs: each is this row
            rows = table.rows()
            assert rows and set(rows) == {SEED_ROW}, kind
            assert worker.rest("DELETE", "/connectors/my-order-sink-connect").status_code == 204
            worker.wait_for(lambda: worker.rest("GET", "/connectors").json() == [], what="connector deleted")
    finally:
        assert worker.stop() == 0
