"""JdbcSourceTask against real PostgreSQL and MariaDB: modes, query mode, restarts, types, seed configs, tasks."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import uuid

import pytest
from helpers.jdbc_source import Harness, connector_for, values

from miniconnect.data import schema as S

UTC = dt.UTC


class Sql:
    """Autocommit statements on the test server (a separate session from the connector's)."""

    def __init__(self, server):
        self.server = server
        self.conn = None

    async def __aenter__(self):
        self.conn = await self.server.connect()
        return self

    async def __aexit__(self, *exc):
        if self.server.kind == "postgresql":
            await self.conn.close()
        else:
            self.conn.close()

    async def run(self, *statements: str, args=None):
        for s in statements:
            if self.server.kind == "postgresql":
                await self.conn.execute(s, *(args or ()))
            else:
                async with self.conn.cursor() as cur:
                    await cur.execute(s, args)


class ThroughSqlAlchemy:
    """A server reached through the generic dialect: its connection.url in SQLAlchemy's async form."""

    def __init__(self, server, driver: str):
        self._server, self._driver = server, driver

    def __getattr__(self, name):
        return getattr(self._server, name)

    def connection_config(self, *args, **kwargs) -> dict:
        cfg = self._server.connection_config(*args, **kwargs)
        return {**cfg, "connection.url": cfg["connection.url"].replace("jdbc:postgresql://", f"{self._driver}://")}


@pytest.fixture(params=["pg", "mysql", "pg-generic"])
def server(request):
    if request.param == "pg-generic":  # PostgreSQL through SQLAlchemy Core and asyncpg
        return ThroughSqlAlchemy(request.getfixturevalue("pg_db"), "postgresql+asyncpg")
    return request.getfixturevalue("pg_db" if request.param == "pg" else "mysql_db")


def conf(server, table: str | None, **kw) -> dict:
    cfg = {**server.connection_config(), "topic.prefix": "t-", "poll.interval.ms": 50, "poll.linger.ms": 100}
    if table is not None:
        rendered = f'"public"."{table}"' if server.kind == "postgresql" else f"`{server.database}`.`{table}`"
        cfg.update({"tables": rendered, "tables.fetched": "true"})
    cfg.update(kw)
    return cfg


def fqn(server, table: str) -> str:
    return f"public.{table}" if server.kind == "postgresql" else f"{server.database}.{table}"


def serial(server) -> str:
    return "SERIAL PRIMARY KEY" if server.kind == "postgresql" else "INT AUTO_INCREMENT PRIMARY KEY"


def ts_type(server) -> str:
    return "TIMESTAMP(6)" if server.kind == "postgresql" else "DATETIME(6)"


async def test_incrementing_restart_without_loss_or_repeat(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE orders (id {serial(server)}, name VARCHAR(20) NOT NULL)")
        for i in range(7):
            await db.run(f"INSERT INTO orders (name) VALUES ('n{i}')")
        cfg = conf(server, "orders", mode="incrementing", **{"incrementing.column.name": "id", "batch.max.rows": 3})
        task = await h.start_task(cfg)
        recs = await h.poll(task, 7)
        assert values(recs) == list(range(1, 8))
        assert recs[0].source_partition == {"protocol": "1", "table": fqn(server, "orders")}
        assert recs[0].topic == "t-orders" and recs[0].value_schema.name == "orders"
        q = '"' if server.kind == "postgresql" else "`"
        t = f"{q}public{q}.{q}orders{q}" if server.kind == "postgresql" else f"`{server.database}`.`orders`"
        assert task.queriers[0].build_sql()[0] == f"SELECT * FROM {t} WHERE {t}.{q}id{q} > ? ORDER BY {t}.{q}id{q} ASC"
        task = await h.restart(cfg)
        await db.run("INSERT INTO orders (name) VALUES ('late')")
        assert values(await h.poll(task, 1)) == [8]
        assert h.stored() == [({"protocol": "1", "table": fqn(server, "orders")}, {"incrementing": 8})]


async def test_timestamp_incrementing_updates_and_equal_timestamps(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE ev (id INT PRIMARY KEY, ts {ts_type(server)} NOT NULL, v VARCHAR(10))")
        for i in range(1, 6):
            await db.run(f"INSERT INTO ev VALUES ({i}, '2024-01-02 03:04:05.123456', 'v{i}')")
        cfg = conf(
            server,
            "ev",
            mode="timestamp+incrementing",
            **{"incrementing.column.name": "id", "timestamp.column.name": "ts", "batch.max.rows": 2},
        )
        task = await h.start_task(cfg)
        recs = await h.poll(task, 5)
        assert values(recs) == [1, 2, 3, 4, 5]
        ms = int(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()) * 1000 + 123
        assert recs[4].source_offset == {"timestamp_nanos": 123456000, "incrementing": 5, "timestamp": ms}
        await db.run("UPDATE ev SET ts = '2024-01-02 03:04:06', v = 'new' WHERE id = 2")
        recs = await h.poll(task, 1)
        assert values(recs) == [2] and recs[0].value.get("v") == "new"
        # restart in the middle of an equal-timestamp group
        await h.store.put(
            "src",
            {next(iter(h.store._data["src"])): {"timestamp_nanos": 123456000, "incrementing": 3, "timestamp": ms}},
        )
        task = await h.restart(cfg)
        assert values(await h.poll(task, 3)) == [4, 5, 2]


async def test_timestamp_mode_and_delay(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE e (id INT, ts {ts_type(server)} NOT NULL)")
        await db.run(
            "INSERT INTO e VALUES (1, '2024-01-01 00:00:01'), (2, '2024-01-01 00:00:01'), (3, '2024-01-01 00:00:02')"
        )
        cfg = conf(server, "e", mode="timestamp", **{"timestamp.column.name": "ts", "batch.max.rows": 1})
        task = await h.start_task(cfg)
        recs = await h.poll(task, 3)
        assert values(recs) == [1, 2, 3]
        assert [r.source_offset.get("timestamp") for r in recs] == [None, 1704067201000, 1704067202000]
        await h.stop()
        # a row from "now" is held back while it is younger than timestamp.delay.interval.ms
        now = "now()" if server.kind == "postgresql" else "UTC_TIMESTAMP(6)"
        await db.run(f"INSERT INTO e VALUES (4, {now})")
        task = await h.start_task({**cfg, "timestamp.delay.interval.ms": 1500})
        assert await h.poll(task, 1, timeout=0.8, quiet=0) == []
        assert values(await h.poll(task, 1, timeout=4)) == [4]


async def test_bulk_and_query_mode(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run("CREATE TABLE b (id INT NOT NULL, v VARCHAR(5))", "INSERT INTO b VALUES (1, 'a'), (2, 'b')")
        task = await h.start_task(conf(server, "b", mode="bulk"))
        recs = await h.poll(task, 4, timeout=3)
        assert values(recs)[:4] == [1, 2, 1, 2] and recs[0].source_partition == {"table": "b"}
        await h.stop()
        cfg = conf(
            server,
            None,
            mode="incrementing",
            query="SELECT id, v FROM b",
            **{"incrementing.column.name": "id", "topic.prefix": "only-topic"},
        )
        task = await h.start_task(cfg)
        recs = await h.poll(task, 2)
        assert values(recs) == [1, 2] and recs[0].topic == "only-topic" and recs[0].value_schema.name is None
        assert recs[1].source_partition == {"query": "query"} and recs[1].source_offset == {"incrementing": 2}


async def test_several_tasks_and_include_exclude(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        for t in ("t1", "t2", "t3", "other"):
            await db.run(f"CREATE TABLE {t} (id INT PRIMARY KEY)", f"INSERT INTO {t} VALUES (1)")
        schema = "public" if server.kind == "postgresql" else server.database
        c = await connector_for(
            {
                **conf(server, None, mode="incrementing"),
                "table.include.list": f"{schema}\\.t.*",
                "table.exclude.list": ".*t2",
                "incrementing.column.mapping": ".*:id",
            }
        )
        try:
            cfgs = await c.task_configs(2)
        finally:
            await c.stop()
        assert len(cfgs) == 2
        recs = []
        for i, cfg in enumerate(cfgs):
            task = await h.start_task(cfg, task_id=i)
            recs += await h.poll(task, 1)
        assert sorted(r.topic for r in recs) == ["t-t1", "t-t3"]


async def test_validate_non_null_on_server(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE n (id INT, ts {ts_type(server)} NULL)")
        with pytest.raises(Exception) as e:
            await h.start_task(conf(server, "n", mode="timestamp", **{"timestamp.column.name": "ts"}))
        assert str(e.value) == (
            f"Cannot make incremental queries using timestamp columns ts on {fqn(server, 'n')} "
            f"because all of these columns are nullable."
        )


async def test_postgres_types(pg_db, tmp_path):
    async with Sql(pg_db) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run("CREATE TYPE mood AS ENUM ('ok', 'sad')")
        await db.run("""CREATE TABLE ty (id serial PRIMARY KEY, i2 smallint NOT NULL, i4 integer, i8 bigint,
            r real, d double precision, m money, n102 numeric(10,2), n100 numeric(10,0), n4 numeric(4), nu numeric,
            b boolean, c char(3), vc varchar(9), tx text, js json, jb jsonb, u uuid, by bytea, dt date, tm time,
            ts timestamp, tz timestamptz, arr int[], iv interval, e mood)""")
        u = uuid.uuid4()
        await db.run(
            """INSERT INTO ty (i2,i4,i8,r,d,m,n102,n100,n4,nu,b,c,vc,tx,js,jb,u,by,dt,tm,ts,tz,arr,iv,e) VALUES
            (1, 2, 3, 1.5, 2.25, 12.34, 123.45, 1234567890, 12, 183.9382, true, 'ab', 'hello', 'text', '{"a": 1}',
             '{"b": 2}', $1, '\\x0102', '2023-11-14', '01:02:03.456', '2023-11-14 22:13:20.123456',
             '2023-11-14 22:13:20.123+00', '{1,2}', '1 day', 'ok')""",
            args=[u],
        )
        task = await h.start_task(conf(pg_db, "ty", mode="incrementing", **{"incrementing.column.name": "id"}))
        (r,) = await h.poll(task, 1)
        sch = {f.name: f.schema for f in r.value_schema.fields}
        v = r.value
        assert "arr" not in sch and "iv" not in sch  # arrays and intervals are dropped, as in Java
        assert sch["id"] == S.INT32_SCHEMA and sch["i2"] == S.INT16_SCHEMA and sch["i4"] == S.OPTIONAL_INT32_SCHEMA
        assert sch["i8"] == S.OPTIONAL_INT64_SCHEMA and sch["r"] == S.OPTIONAL_FLOAT32_SCHEMA
        assert sch["d"] == S.OPTIONAL_FLOAT64_SCHEMA and sch["m"] == S.OPTIONAL_FLOAT64_SCHEMA and v.get("m") == 12.34
        assert sch["n102"] == S.decimal_schema(2, True, 10) and v.get("n102") == decimal.Decimal("123.45")
        assert sch["n100"] == S.decimal_schema(0, True, 10) and sch["n4"] == S.decimal_schema(0, True, 4)
        assert sch["nu"] == S.decimal_schema(127, True, 0)
        assert sch["b"] == S.OPTIONAL_BOOLEAN_SCHEMA and v.get("b") is True
        for k, want in (
            ("c", "ab "),
            ("vc", "hello"),
            ("tx", "text"),
            ("js", '{"a": 1}'),
            ("jb", '{"b": 2}'),
            ("u", str(u)),
            ("e", "ok"),
        ):
            assert sch[k] == S.OPTIONAL_STRING_SCHEMA and v.get(k) == want, k
        assert sch["by"] == S.OPTIONAL_BYTES_SCHEMA and v.get("by") == b"\x01\x02"
        assert sch["dt"] == S.date_schema(True) and S.date_to_days(v.get("dt")) == 19675
        assert sch["tm"] == S.time_schema(True) and S.time_to_millis(v.get("tm")) == 3723456
        assert sch["ts"] == S.timestamp_schema(True) and S.timestamp_to_millis(v.get("ts")) == 1700000000123
        assert S.timestamp_to_millis(v.get("tz")) == 1700000000123
        v.validate()
        await h.stop()
        # unconstrained numeric under best_fit maps to INT8 and a fractional value fails, as in Java (#480)
        task = await h.start_task(conf(pg_db, "ty", mode="bulk", **{"numeric.mapping": "best_fit"}))
        with pytest.raises(Exception, match="Bad value for type byte : 183.9382"):
            await h.poll(task, 1)
        await h.stop()
        await db.run("ALTER TABLE ty DROP COLUMN nu")
        task = await h.start_task(conf(pg_db, "ty", mode="bulk", **{"numeric.mapping": "best_fit"}))
        (r,) = (await h.poll(task, 1))[:1]
        sch = {f.name: f.schema for f in r.value_schema.fields}
        assert sch["n102"] == S.OPTIONAL_FLOAT64_SCHEMA and r.value.get("n102") == 123.45
        assert sch["n100"] == S.OPTIONAL_INT64_SCHEMA and r.value.get("n100") == 1234567890
        assert sch["n4"] == S.OPTIONAL_INT16_SCHEMA


async def test_mariadb_types(mysql_db, tmp_path):
    async with Sql(mysql_db) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run("""CREATE TABLE ty (id INT AUTO_INCREMENT PRIMARY KEY, t1 TINYINT(1), ti TINYINT NOT NULL,
            tu TINYINT UNSIGNED, su SMALLINT UNSIGNED, iu INT UNSIGNED, bi BIGINT UNSIGNED, f FLOAT, d DOUBLE,
            de DECIMAL(10,2), vc VARCHAR(10), tx TEXT, js JSON, bl BLOB, vb VARBINARY(4), bt BIT(1),
            dt DATE, tm TIME(3), dtm DATETIME(3), tsp TIMESTAMP(3) NULL, yr YEAR, en ENUM('a','b'))""")
        await db.run("""INSERT INTO ty (t1,ti,tu,su,iu,bi,f,d,de,vc,tx,js,bl,vb,bt,dt,tm,dtm,tsp,yr,en) VALUES
            (1, -5, 200, 60000, 4000000000, 5, 1.5, 2.25, 123.45, 'hi', 'long', '{"a":1}', x'0102', x'03', b'1',
             '2023-11-14', '01:02:03.456', '2023-11-14 22:13:20.123', '2023-11-14 22:13:20.123', 2023, 'b')""")
        task = await h.start_task(conf(mysql_db, "ty", mode="incrementing", **{"numeric.mapping": "best_fit"}))
        (r,) = await h.poll(task, 1)
        sch = {f.name: f.schema for f in r.value_schema.fields}
        v = r.value
        assert sch["id"] == S.INT32_SCHEMA and task.queriers[0].inc_column == "id"
        assert sch["t1"] == S.OPTIONAL_INT8_SCHEMA and v.get("t1") == 1
        assert sch["ti"] == S.INT8_SCHEMA and v.get("ti") == -5
        assert sch["tu"] == S.OPTIONAL_INT16_SCHEMA and sch["su"] == S.OPTIONAL_INT32_SCHEMA
        assert sch["iu"] == S.OPTIONAL_INT64_SCHEMA and v.get("iu") == 4000000000
        assert sch["bi"] == S.OPTIONAL_INT64_SCHEMA
        assert sch["f"] == S.OPTIONAL_FLOAT32_SCHEMA and sch["d"] == S.OPTIONAL_FLOAT64_SCHEMA
        assert sch["de"] == S.decimal_schema(2, True, 10) and v.get("de") == decimal.Decimal("123.45")
        for k, want in (("vc", "hi"), ("tx", "long"), ("en", "b")):
            assert sch[k] == S.OPTIONAL_STRING_SCHEMA and v.get(k) == want, k
        assert sch["js"] == S.OPTIONAL_STRING_SCHEMA and v.get("js").replace(" ", "") == '{"a":1}'
        assert sch["bl"] == S.OPTIONAL_BYTES_SCHEMA and v.get("bl") == b"\x01\x02" and v.get("vb") == b"\x03"
        assert sch["bt"] == S.OPTIONAL_INT8_SCHEMA and v.get("bt") == 1
        assert sch["dt"] == S.date_schema(True) and S.date_to_days(v.get("dt")) == 19675
        assert sch["yr"] == S.date_schema(True) and v.get("yr") == dt.date(2023, 1, 1)
        assert sch["tm"] == S.time_schema(True) and S.time_to_millis(v.get("tm")) == 3723456
        assert sch["dtm"] == S.timestamp_schema(True) and S.timestamp_to_millis(v.get("dtm")) == 1700000000123
        assert S.timestamp_to_millis(v.get("tsp")) == 1700000000123
        v.validate()


async def test_seed_configs_verbatim(mysql_db, tmp_path):
    """The two configs of issue 4, pointed at the test server (url, user, password replaced)."""
    seeds = [
        {
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
        {
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
    ]
    async with Sql(mysql_db) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(
            "CREATE TABLE test (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(10))",
            "INSERT INTO test (msg) VALUES ('a'), ('b')",
            "CREATE TABLE tb_iv_member_join (mem_uno BIGINT AUTO_INCREMENT PRIMARY KEY, "
            "mem_join_date DATETIME NULL, name VARCHAR(10))",
            "INSERT INTO tb_iv_member_join (mem_join_date, name) VALUES ('2024-01-01 10:00:00', 'x'), "
            "('2024-01-01 10:00:00', 'y')",
        )
        for seed, topic in zip(seeds, ("my_connect_test", "topic_tb_iv_member_join")):
            seed = {**seed, **mysql_db.connection_config()}
            c = await connector_for(seed)
            assert not any(v.errors for v in c.validate(seed).values())
            try:
                cfgs = await c.task_configs(int(seed.get("tasks.max", 1)))
            finally:
                await c.stop()
            assert len(cfgs) == 1
            task = await h.start_task(cfgs[0])
            recs = await h.poll(task, 2, timeout=6)
            assert [r.topic for r in recs] == [topic, topic]
            await h.stop()


@pytest.mark.parametrize("kind", ["pg", "mysql"])
async def test_late_commit_is_not_missed(kind, request, tmp_path):
    """T1 inserts first (earlier timestamp) but commits after T2; the task polls throughout; no row is missed."""
    server = request.getfixturevalue("pg_db" if kind == "pg" else "mysql_db")
    now = "clock_timestamp()" if kind == "pg" else "NOW(6)"
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE lc (id {serial(server)}, ts {ts_type(server)} NOT NULL)")
        cfg = conf(
            server,
            "lc",
            mode="timestamp+incrementing",
            **{"incrementing.column.name": "id", "timestamp.column.name": "ts", "poll.interval.ms": 20},
        )
        task = await h.start_task(cfg)
        t1, t2 = await server.connect(), await server.connect()
        seen: list[int] = []
        try:

            async def ex(conn, sql):
                if kind == "pg":
                    await conn.execute(sql)
                else:
                    async with conn.cursor() as cur:
                        await cur.execute(sql)

            await ex(t1, "BEGIN")
            await ex(t1, f"INSERT INTO lc (ts) VALUES ({now})")  # id 1, earlier timestamp
            await asyncio.sleep(0.05)
            await ex(t2, "BEGIN")
            await ex(t2, f"INSERT INTO lc (ts) VALUES ({now})")  # id 2, later timestamp
            await ex(t2, "COMMIT")
            seen += values(await h.poll(task, 1, timeout=1.5, quiet=0))  # T2 committed, T1 still open
            await ex(t1, "COMMIT")
            seen += values(await h.poll(task, 2 - len(seen), timeout=4))
        finally:
            for c in (t1, t2):
                await c.close() if kind == "pg" else c.close()
        assert sorted(seen) == [1, 2]


async def test_postgres_row_envelope_as_kafka_connect_writes_it(pg_db, tmp_path):
    """Reference §6.3: the JsonConverter bytes of a PostgreSQL row, byte for byte."""
    from miniconnect.converters.json import JsonConverter

    async with Sql(pg_db) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(
            "CREATE TABLE orders (id serial PRIMARY KEY, customer varchar(50) NOT NULL, amount numeric(10,2), "
            "created_at timestamp NOT NULL, ship_date date, active boolean, doc jsonb, uid uuid)"
        )
        await db.run(
            "INSERT INTO orders (customer, amount, created_at, ship_date, active, doc, uid) VALUES "
            "('alice', 123.45, '2023-11-14 22:13:20.123', '2023-11-14', true, '{\"a\": 1}', "
            "'5f0c0000-0000-4000-8000-000000000001')"
        )
        task = await h.start_task(conf(pg_db, "orders", mode="incrementing", **{"topic.prefix": "pg-"}))
        (r,) = await h.poll(task, 1)
        assert r.topic == "pg-orders"
        data = JsonConverter().from_connect_data(r.topic, r.value_schema, r.value)
        assert data == (
            b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},'
            b'{"type":"string","optional":false,"field":"customer"},'
            b'{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,'
            b'"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"},'
            b'{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,'
            b'"field":"created_at"},'
            b'{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,'
            b'"field":"ship_date"},{"type":"boolean","optional":true,"field":"active"},'
            b'{"type":"string","optional":true,"field":"doc"},{"type":"string","optional":true,"field":"uid"}],'
            b'"optional":false,"name":"orders"},"payload":{"id":1,"customer":"alice","amount":"MDk=",'
            b'"created_at":1700000000123,"ship_date":19675,"active":true,"doc":"{\\"a\\": 1}",'
            b'"uid":"5f0c0000-0000-4000-8000-000000000001"}}'
        )
        assert h.stored() == [({"protocol": "1", "table": "public.orders"}, {"incrementing": 1})]


async def test_table_monitor_new_dropped_and_duplicate_tables(pg_db):
    async with Sql(pg_db) as db:
        await db.run("CREATE TABLE a (id INT PRIMARY KEY)", "CREATE TABLE b (id INT PRIMARY KEY)")
        c = await connector_for(
            {**conf(pg_db, None, mode="bulk"), "table.blacklist": "public.zzz", "table.poll.interval.ms": 100}
        )
        try:
            assert [x["tables"] for x in await c.task_configs(4)] == ['"public"."a"', '"public"."b"']
            await db.run("CREATE TABLE c (id INT PRIMARY KEY)")
            await asyncio.wait_for(c.context.reconfiguration_requested.wait(), 5)
            assert [x["tables"] for x in await c.task_configs(2)] == ['"public"."a","public"."b"', '"public"."c"']
            c.context.reconfiguration_requested.clear()
            await db.run("DROP TABLE a")
            await asyncio.wait_for(c.context.reconfiguration_requested.wait(), 5)
            assert [x["tables"] for x in await c.task_configs(2)] == ['"public"."b"', '"public"."c"']
            await db.run("CREATE SCHEMA other", "CREATE TABLE other.b (id INT)")
            for _ in range(50):
                if c.context.error is not None:
                    break
                await asyncio.sleep(0.1)
            assert "duplicate unqualified table names" in str(c.context.error)
        finally:
            await c.stop()


@pytest.mark.parametrize("kind", ["pg", "mysql"])
async def test_many_writers_committing_out_of_order(kind, request, tmp_path):
    """20 concurrent writers each insert at a different moment and commit after a random pause, while the task
    polls every 20 ms in timestamp+incrementing mode: every row arrives exactly once."""
    import random

    server = request.getfixturevalue("pg_db" if kind == "pg" else "mysql_db")
    now = "clock_timestamp()" if kind == "pg" else "NOW(6)"
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE w (id {serial(server)}, ts {ts_type(server)} NOT NULL)")
        task = await h.start_task(
            conf(
                server,
                "w",
                mode="timestamp+incrementing",
                **{"incrementing.column.name": "id", "timestamp.column.name": "ts", "poll.interval.ms": 20},
            )
        )
        rnd = random.Random(4)

        async def writer(i: int) -> None:
            await asyncio.sleep(i * 0.03)
            conn = await server.connect()
            try:
                if kind == "pg":
                    async with conn.transaction():
                        await conn.execute(f"INSERT INTO w (ts) VALUES ({now})")
                        await asyncio.sleep(rnd.uniform(0, 0.6))
                else:
                    async with conn.cursor() as cur:
                        await cur.execute("BEGIN")
                        await cur.execute(f"INSERT INTO w (ts) VALUES ({now})")
                        await asyncio.sleep(rnd.uniform(0, 0.6))
                        await cur.execute("COMMIT")
            finally:
                await conn.close() if kind == "pg" else conn.close()

        writers = asyncio.gather(*(writer(i) for i in range(20)))
        recs = await h.poll(task, 20, timeout=15, quiet=1.5)
        await writers
        got = values(recs)
        assert sorted(got) == list(range(1, 21)), got


async def test_mariadb_url_isolation_and_query_retries(mysql_db, tmp_path):
    async with Sql(mysql_db) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run("CREATE TABLE m (id INT PRIMARY KEY)", "INSERT INTO m VALUES (1)")
        cfg = {
            **conf(
                mysql_db,
                "m",
                mode="incrementing",
                **{
                    "incrementing.column.name": "id",
                    "transaction.isolation.mode": "READ_COMMITTED",
                    "query.retry.attempts": 2,
                },
            ),
            "connection.url": mysql_db.jdbc_url(scheme="mariadb"),
        }
        task = await h.start_task(cfg)
        assert values(await h.poll(task, 1)) == [1]
        await db.run("DROP TABLE m")
        with pytest.raises(Exception, match="Failed to query table after retries"):
            await h.poll(task, 1, timeout=5)


async def test_timestamp_mode_restart_from_conservative_offset(server, tmp_path):
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE r (id INT, ts {ts_type(server)} NOT NULL)")
        await db.run(
            "INSERT INTO r VALUES (1, '2024-01-01 00:00:01'), (2, '2024-01-01 00:00:01'), (3, '2024-01-01 00:00:02')"
        )
        cfg = conf(
            server,
            "r",
            mode="timestamp",
            **{"timestamp.column.name": "ts", "batch.max.rows": 1, "transaction.isolation.mode": "REPEATABLE_READ"},
        )
        task = await h.start_task(cfg)
        recs = await h.poll(task, 3)
        assert values(recs) == [1, 2, 3]
        # the worker had only flushed the first record's offset ({}): a restart re-reads, never skips
        await h.store.put("src", {next(iter(h.store._data["src"])): recs[0].source_offset})
        task = await h.restart(cfg)
        assert values(await h.poll(task, 3)) == [1, 2, 3]
        # offset of record 2 (= ts of row 1, complete): the restart continues after that timestamp
        await h.store.put("src", {next(iter(h.store._data["src"])): recs[1].source_offset})
        task = await h.restart(cfg)
        assert values(await h.poll(task, 1)) == [3]


class _FailsOnce:
    """The task's database with one read failing after its first chunk (a connection lost mid-result)."""

    def __init__(self, db):
        self.db, self.failed = db, False

    def __getattr__(self, name):
        return getattr(self.db, name)

    async def query(self, *args, **kwargs):
        stream = await self.db.query(*args, **kwargs)
        if self.failed:
            return stream
        self.failed = True
        chunks = stream.chunks

        async def first_then_fail():
            async for rows in chunks():
                yield rows
                raise ConnectionResetError("the connection dropped mid-result (test)")

        stream.chunks = first_then_fail
        return stream


async def test_timestamp_mode_read_failing_mid_result_loses_no_row(server, tmp_path, monkeypatch):
    """Timestamp mode holds back each chunk's last row until a later timestamp follows; a read that fails after a
    chunk must resume from what was emitted, not from the held-back row (which the retry would otherwise skip)."""
    monkeypatch.setenv("MINICONNECT_JDBC_COLUMNAR", "off")
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(f"CREATE TABLE f (id INT, ts {ts_type(server)} NOT NULL)")
        await db.run("INSERT INTO f VALUES " + ", ".join(f"({i}, '2024-01-01 00:00:{i:02d}')" for i in range(1, 8)))
        cfg = conf(server, "f", mode="timestamp", **{"timestamp.column.name": "ts", "batch.max.rows": 3})
        task = await h.start_task(cfg)
        task.db = _FailsOnce(task.db)
        for q in task.queriers:
            q.db = task.db
        got = values(await h.poll(task, 7, timeout=15))
        assert task.db.failed
        assert sorted(set(got)) == list(range(1, 8)), got  # row 3 (held back when the read failed) is not skipped


async def test_schema_pattern_narrows_listing(pg_db):
    async with Sql(pg_db) as db:
        await db.run("CREATE SCHEMA sales", "CREATE TABLE sales.orders (id INT)", "CREATE TABLE public.misc (id INT)")
        c = await connector_for(
            {**conf(pg_db, None, mode="bulk"), "schema.pattern": "sal%", "table.include.list": ".*"}
        )
        try:
            assert [x["tables"] for x in await c.task_configs(2)] == ['"sales"."orders"']
        finally:
            await c.stop()


async def _delay_bound_is_used(h, server, user: str, caplog, hint: str) -> None:
    """Table f read by `user`, who cannot see other sessions: the row arrives, bounded by the delay, and the one
    log line about the bound says why, naming `hint` (the privilege that is missing)."""
    import logging

    cfg = {
        **conf(
            server,
            "f",
            mode="timestamp+incrementing",
            **{"incrementing.column.name": "id", "timestamp.column.name": "ts", "timestamp.delay.interval.ms": 100},
        ),
        "connection.user": user,
        "connection.password": "pw",
    }
    with caplog.at_level(logging.INFO, logger="miniconnect_plugins.jdbc.source.querier"):
        task = await h.start_task(cfg)
        assert values(await h.poll(task, 1)) == [1]
    msgs = [r.getMessage() for r in caplog.records if "Upper timestamp bound" in r.getMessage()]
    assert len(msgs) == 1 and "timestamp.delay.interval.ms=100 (open transactions not visible" in msgs[0]
    assert hint in msgs[0]


async def test_bound_falls_back_to_delay_without_privileges(mysql_db, tmp_path, caplog):
    """A user without PROCESS cannot see open transactions: the delay bound is used and the log says so."""
    user = f"np{uuid.uuid4().hex[:8]}"
    async with Sql(mysql_db) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(
            f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'",
            f"GRANT ALL ON `{mysql_db.database}`.* TO '{user}'@'%'",
            "CREATE TABLE f (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL)",
            "INSERT INTO f VALUES (1, '2024-01-01 00:00:00')",
        )
        try:
            await _delay_bound_is_used(h, mysql_db, user, caplog, "PROCESS")
        finally:
            await h.stop()
            await db.run(f"DROP USER '{user}'@'%'")


async def test_pg_bound_falls_back_to_delay_when_sessions_are_hidden(pg_db, tmp_path, caplog):
    """Without pg_read_all_stats another user's session shows '<insufficient privilege>': the delay bound is used
    and the log says so (a backend that is merely starting up must not cause this; see the writers test)."""
    user = f"np{uuid.uuid4().hex[:8]}"
    async with Sql(pg_db) as db, Harness(str(tmp_path / "o.json")) as h:  # db: a superuser session, hidden
        await db.run(
            f"CREATE ROLE {user} LOGIN PASSWORD 'pw'",
            "CREATE TABLE f (id INT PRIMARY KEY, ts TIMESTAMP(6) NOT NULL)",
            "INSERT INTO f VALUES (1, '2024-01-01 00:00:00')",
            f"GRANT SELECT ON f TO {user}",
        )
        try:
            await _delay_bound_is_used(h, pg_db, user, caplog, "pg_read_all_stats")
        finally:
            await h.stop()
            await db.run(f"DROP OWNED BY {user}", f"DROP ROLE {user}")


async def test_timestamp_initial_current_time_skips_history(server, tmp_path):
    now = "clock_timestamp()" if server.kind == "postgresql" else "NOW(6)"
    async with Sql(server) as db, Harness(str(tmp_path / "o.json")) as h:
        await db.run(
            f"CREATE TABLE hi (id INT PRIMARY KEY, ts {ts_type(server)} NOT NULL)",
            "INSERT INTO hi VALUES (1, '2020-01-01 00:00:00'), (2, '2021-01-01 00:00:00')",
        )
        task = await h.start_task(
            conf(
                server,
                "hi",
                mode="timestamp+incrementing",
                **{"incrementing.column.name": "id", "timestamp.column.name": "ts", "timestamp.initial": -1},
            )
        )
        await asyncio.sleep(0.05)
        await db.run(f"INSERT INTO hi VALUES (3, {now})")
        assert values(await h.poll(task, 1, timeout=4)) == [3]
