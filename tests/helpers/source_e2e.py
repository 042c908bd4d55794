"""The JDBC source end-to-end scenario: the seed connectors, SQL on the test server, reading topics and offsets."""

from __future__ import annotations

from typing import Any

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


TOPIC_1 = "my_connect_test"


TOPIC_2 = "topic_tb_iv_member_join"


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
