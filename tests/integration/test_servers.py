"""The real servers the integration tests use answer like the real thing."""

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def test_postgres_answers_queries(pg_db):
    conn = await pg_db.connect()
    try:
        await conn.execute("CREATE TABLE t (id serial PRIMARY KEY, name text NOT NULL)")
        await conn.executemany("INSERT INTO t (name) VALUES ($1)", [("a",), ("b",)])
        assert await conn.fetchval("SELECT current_database()") == pg_db.database
        assert [r["name"] for r in await conn.fetch("SELECT name FROM t ORDER BY id")] == ["a", "b"]
    finally:
        await conn.close()
    assert pg_db.jdbc_url() == f"jdbc:postgresql://{pg_db.host}:{pg_db.port}/{pg_db.database}"


async def test_postgres_databases_are_fresh_per_test(pg_db, pg):
    assert pg_db.database != pg.database
    conn = await pg_db.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await conn.close()


async def test_mariadb_answers_queries(mysql_db):
    conn = await mysql_db.connect()
    try:
        async with conn.cursor() as cur:
            await cur.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL)")
            await cur.executemany("INSERT INTO t (name) VALUES (%s)", [("a",), ("b",)])
            await cur.execute("SELECT DATABASE()")
            assert (await cur.fetchone())[0] == mysql_db.database
            await cur.execute("SELECT name FROM t ORDER BY id")
            assert [r[0] for r in await cur.fetchall()] == ["a", "b"]
    finally:
        conn.close()
    assert mysql_db.jdbc_url(scheme="mariadb").startswith("jdbc:mariadb://127.0.0.1:")


async def test_kafka_accepts_produce_and_consume(kafka_bootstrap):
    topic = f"servers-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for i in range(3):
            await producer.send(topic, key=b"k", value=f"v{i}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(values) < 3 and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                values += [r.value for r in records]
        assert values == [b"v0", b"v1", b"v2"]
    finally:
        await consumer.stop()


def test_server_urls_parse_into_db_servers():
    from servers import parse_db_url

    pg = parse_db_url("postgresql://u%40x:p%3Aw@db.local:6543/app")
    assert (pg.kind, pg.host, pg.port, pg.user, pg.password, pg.database) == (
        "postgresql",
        "db.local",
        6543,
        "u@x",
        "p:w",
        "app",
    )
    assert pg.jdbc_url() == "jdbc:postgresql://db.local:6543/app"
    assert pg.dsn("other") == "postgresql://u%40x:p%3Aw@db.local:6543/other"
    my = parse_db_url("mysql://test:test@127.0.0.1/shop")
    assert my.port == 3306 and my.jdbc_url(scheme="mariadb") == "jdbc:mariadb://127.0.0.1:3306/shop"
    assert my.connection_config() == {
        "connection.url": "jdbc:mysql://127.0.0.1:3306/shop",
        "connection.user": "test",
        "connection.password": "test",
    }


def test_server_dirs_of_dead_sessions_are_swept(tmp_path, monkeypatch):
    import os
    import subprocess
    import tempfile
    import time

    from servers.proc import server_dir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is free now
    (tmp_path / "miniconnect-kafka-dead").mkdir()
    (tmp_path / "miniconnect-kafka-dead" / ".owner-pid").write_text(str(dead.pid))
    (tmp_path / "miniconnect-pg-live").mkdir()
    (tmp_path / "miniconnect-pg-live" / ".owner-pid").write_text(str(os.getpid()))
    for name, age in (("miniconnect-mariadb-old", 2 * 86400), ("miniconnect-mariadb-recent", 60)):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (time.time() - age, time.time() - age))
    (tmp_path / "other-dir").mkdir()
    fresh = server_dir("kafka")
    assert (fresh / ".owner-pid").read_text() == str(os.getpid())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh.name, "miniconnect-pg-live", "miniconnect-mariadb-recent", "other-dir"]
    )
