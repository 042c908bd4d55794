"""JdbcSourceTask / JdbcSourceConnector against real SQLite files: every mode, query mode, restarts, tables."""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3

import pytest
from helpers.jdbc_source import Harness, connector_for, values

from miniconnect.data import schema as S


class DbFile(str):
    """The database file's path, and the connection.url that opens it."""

    url: str


class DuckDbCon:
    """sqlite3's execute/executemany (autocommit, `?` markers) on a DuckDB file, opened through duckdb-engine as the
    connector opens it (DuckDB shares a file's database in a process only between alike-configured connections)."""

    def __init__(self, path: str):
        import sqlalchemy as sa

        self.engine = sa.create_engine(f"duckdb:///{path}", poolclass=sa.pool.NullPool)

    def execute(self, sql: str, params: tuple = ()) -> None:
        with self.engine.begin() as c:
            c.exec_driver_sql(sql, tuple(params) or None)

    def executemany(self, sql: str, rows: list) -> None:
        with self.engine.begin() as c:
            c.exec_driver_sql(sql, [tuple(r) for r in rows])

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(params=["jdbc", "generic", "generic-duckdb"])
def db(request, tmp_path):
    """Scenarios that hold for any path: the hand-tuned one; the same file through SQLAlchemy Core and aiosqlite
    (the generic dialect); and DuckDB, which only the generic dialect reaches."""
    if request.param == "generic-duckdb":
        path = DbFile(tmp_path / "src.duckdb")
        path.url = f"jdbc:duckdb:{path}"
        con = DuckDbCon(path)
    else:
        path = DbFile(tmp_path / "src.db")
        path.url = f"sqlite+aiosqlite:///{path}" if request.param == "generic" else f"jdbc:sqlite:{path}"
        con = sqlite3.connect(path, isolation_level=None)
    yield path, con
    con.close()


@pytest.fixture
def jdbc_db(tmp_path):
    """sqlite-jdbc's own view (declared types of query columns, AUTOINCREMENT, tables without a schema): the
    hand-tuned path only."""
    path = str(tmp_path / "src.db")
    con = sqlite3.connect(path, isolation_level=None)
    yield path, con
    con.close()


def base(path: str, **kw) -> dict:
    cfg = {
        "connection.url": getattr(path, "url", f"jdbc:sqlite:{path}"),
        "topic.prefix": "sq-",
        "poll.interval.ms": 50,
        "poll.linger.ms": 100,
    }
    cfg.update(kw)
    return cfg


def cfg_for(path: str, tables: str, **kw) -> dict:
    return base(path, tables=tables, **{"tables.fetched": "true"}, **kw)


async def test_incrementing_inserts_and_restart(db, tmp_path):
    path, con = db
    if isinstance(con, DuckDbCon):  # DuckDB numbers rows from a sequence
        con.execute("CREATE SEQUENCE orders_id START 1")
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY DEFAULT nextval('orders_id'), name TEXT NOT NULL)")
    else:
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)")
    con.executemany("INSERT INTO orders (name) VALUES (?)", [(f"n{i}",) for i in range(5)])
    cfg = cfg_for(path, '"orders"', mode="incrementing", **{"incrementing.column.name": "id", "batch.max.rows": 2})
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg)
        recs = await h.poll(task, 5)
        assert values(recs) == [1, 2, 3, 4, 5]
        r = recs[0]
        assert r.topic == "sq-orders" and r.key is None and r.key_schema is None
        assert r.source_partition == {"protocol": "1", "table": "orders"}
        assert recs[-1].source_offset == {"incrementing": 5}
        assert r.value_schema.name == "orders" and not r.value_schema.optional
        assert [f.name for f in r.value_schema.fields] == ["id", "name"]
        assert task.queriers[0].build_sql()[0] == (
            'SELECT * FROM "orders" WHERE "orders"."id" > ? ORDER BY "orders"."id" ASC'
        )
        con.executemany("INSERT INTO orders (name) VALUES (?)", [("x",), ("y",)])
        assert values(await h.poll(task, 2)) == [6, 7]
        task = await h.restart(cfg)
        con.execute("INSERT INTO orders (name) VALUES ('z')")
        assert values(await h.poll(task, 1)) == [8]
        assert h.stored() == [({"protocol": "1", "table": "orders"}, {"incrementing": 8})]


async def test_bulk_rereads_whole_table(db, tmp_path):
    path, con = db
    con.execute("CREATE TABLE t (id INTEGER NOT NULL, v TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b")])
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg_for(path, '"t"', mode="bulk"))
        recs = await h.poll(task, 4, timeout=3)
        assert values(recs)[:4] == [1, 2, 1, 2]
        assert recs[0].source_partition == {"table": "t"} and recs[0].source_offset is None
        assert h.stored() == []


async def test_timestamp_incrementing_equal_timestamps_across_batches(db, tmp_path):
    path, con = db
    con.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts TIMESTAMP NOT NULL, v TEXT)")
    same = "2024-01-02 03:04:05.678"
    con.executemany("INSERT INTO ev VALUES (?, ?, ?)", [(i, same, f"v{i}") for i in range(1, 6)])
    con.execute("INSERT INTO ev VALUES (6, '2024-01-02 03:04:06', 'later')")
    cfg = cfg_for(
        path,
        '"ev"',
        mode="timestamp+incrementing",
        **{"incrementing.column.name": "id", "timestamp.column.name": "ts", "batch.max.rows": 2},
    )
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg)
        recs = await h.poll(task, 6)
        assert values(recs) == [1, 2, 3, 4, 5, 6]
        ms = int(dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC).timestamp() * 1000)
        assert recs[2].source_offset == {
            "timestamp_nanos": 5_678_000_000 % 1_000_000_000,
            "incrementing": 3,
            "timestamp": ms,
        }
        assert recs[0].value.get("ts") == dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
        assert S.timestamp_to_millis(recs[0].value.get("ts")) == ms
        # stop after a partial read of the equal-timestamp group: restart resumes exactly
        await h.store.put(
            "src",
            {'{"protocol":"1","table":"ev"}': {"timestamp_nanos": 678_000_000, "incrementing": 3, "timestamp": ms}},
        )
        task = await h.restart(cfg)
        assert values(await h.poll(task, 3)) == [4, 5, 6]
        con.execute("UPDATE ev SET ts = '2024-01-02 03:04:07', v = 'upd' WHERE id = 2")
        recs = await h.poll(task, 1)
        assert values(recs) == [2] and recs[0].value.get("v") == "upd"


async def test_timestamp_mode_conservative_offsets(db, tmp_path):
    path, con = db
    con.execute("CREATE TABLE e (id INTEGER, ts TIMESTAMP NOT NULL)")
    rows = [
        (1, "2024-01-01 00:00:01"),
        (2, "2024-01-01 00:00:01"),
        (3, "2024-01-01 00:00:02"),
        (4, "2024-01-01 00:00:02"),
        (5, "2024-01-01 00:00:03"),
    ]
    con.executemany("INSERT INTO e VALUES (?, ?)", rows)
    cfg = cfg_for(path, '"e"', mode="timestamp", **{"timestamp.column.name": "ts", "batch.max.rows": 2})
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg)
        recs = await h.poll(task, 5)
        assert values(recs) == [1, 2, 3, 4, 5]
        t1, t2, t3 = (1704067201000, 1704067202000, 1704067203000)
        assert [r.source_offset.get("timestamp") for r in recs] == [None, t1, t1, t2, t3]
        assert recs[0].source_offset == {}
        assert task.queriers[0].build_sql()[0] == (
            'SELECT * FROM "e" WHERE "e"."ts" > ? AND "e"."ts" < ? ORDER BY "e"."ts" ASC'
        )
        con.execute("INSERT INTO e VALUES (6, '2024-01-01 00:00:04')")
        assert values(await h.poll(task, 1)) == [6]


async def test_coalesce_of_two_timestamp_columns_and_initial(db, tmp_path):
    path, con = db
    con.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, created TIMESTAMP NOT NULL, updated TIMESTAMP)")
    con.executemany(
        "INSERT INTO c VALUES (?, ?, ?)",
        [
            (1, "2020-01-01 00:00:00", None),
            (2, "2020-01-01 00:00:00", "2030-01-01 00:00:00"),
            (3, "2021-06-01 00:00:00", None),
        ],
    )
    cfg = cfg_for(
        path,
        '"c"',
        mode="timestamp",
        **{"timestamp.column.name": "updated,created", "timestamp.initial": 1577923200000},
    )  # 2020-01-02
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg)
        assert 'COALESCE("c"."updated","c"."created") > ?' in task.queriers[0].build_sql()[0]
        assert values(await h.poll(task, 1, timeout=2)) == [3]  # row 2's 2030 is beyond the DB clock


async def test_query_mode(jdbc_db, tmp_path):
    path, con = jdbc_db
    con.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, amount DECIMAL(10,2), d DATE)")
    con.executemany("INSERT INTO q VALUES (?, ?, ?)", [(1, "12.50", "2023-11-14"), (2, "3.1", "2023-11-15")])
    cfg = base(
        path,
        query="SELECT id, amount, d FROM q",
        mode="incrementing",
        **{"incrementing.column.name": "id", "topic.prefix": "qtopic", "tables": "", "tables.fetched": "true"},
    )
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg)
        recs = await h.poll(task, 2)
        assert values(recs) == [1, 2]
        r = recs[0]
        assert r.topic == "qtopic" and r.source_partition == {"query": "query"} and r.value_schema.name is None
        assert task.queriers[0].build_sql()[0] == 'SELECT id, amount, d FROM q WHERE "id" > ? ORDER BY "id" ASC'
        amount = r.value_schema.field("amount").schema
        assert amount == S.decimal_schema(2, True, 10)
        assert r.value.get("amount") == decimal.Decimal("12.50") and recs[1].value.get("amount") == decimal.Decimal(
            "3.10"
        )
        assert r.value_schema.field("d").schema == S.date_schema(True)
        assert r.value.get("d") == dt.date(2023, 11, 14)
        assert h.stored() == [({"query": "query"}, {"incrementing": 2})]


async def test_sqlite_type_mapping(jdbc_db, tmp_path):
    path, con = jdbc_db
    con.execute(
        "CREATE TABLE ty (id INTEGER PRIMARY KEY AUTOINCREMENT, b BOOLEAN, ti TINYINT, si SMALLINT, "
        "i INT, bi BIGINT NOT NULL, r REAL, f FLOAT, n NUMERIC(5,0), dd DECIMAL(6,3), s VARCHAR(10), "
        "bl BLOB, d DATE, ts TIMESTAMP)"
    )
    con.execute(
        "INSERT INTO ty (b, ti, si, i, bi, r, f, n, dd, s, bl, d, ts) VALUES "
        "(1, 7, 300, 70000, 9000000000, 1.5, 2.25, 12345, 1.5, 'hi', x'0102', '2023-11-14', "
        "'2023-11-14 22:13:20.123')"
    )
    cfg = cfg_for(path, '"ty"', mode="incrementing", **{"numeric.mapping": "best_fit"})
    async with Harness(str(tmp_path / "off.json")) as h:
        task = await h.start_task(cfg)
        (r,) = await h.poll(task, 1)
        sch = {f.name: f.schema for f in r.value_schema.fields}
        assert task.queriers[0].inc_column == "id"  # auto-detected AUTOINCREMENT column
        assert sch["id"] == S.INT32_SCHEMA
        assert sch["b"] == S.OPTIONAL_BOOLEAN_SCHEMA and r.value.get("b") is True
        assert sch["ti"] == S.OPTIONAL_INT16_SCHEMA and sch["si"] == S.OPTIONAL_INT32_SCHEMA
        assert sch["i"] == S.OPTIONAL_INT64_SCHEMA and sch["bi"] == S.INT64_SCHEMA
        assert sch["r"] == S.OPTIONAL_FLOAT32_SCHEMA and sch["f"] == S.OPTIONAL_FLOAT64_SCHEMA
        assert sch["n"] == S.OPTIONAL_INT32_SCHEMA and r.value.get("n") == 12345
        assert sch["dd"] == S.decimal_schema(3, True, 6) and r.value.get("dd") == decimal.Decimal("1.500")
        assert sch["s"] == S.OPTIONAL_STRING_SCHEMA and sch["bl"] == S.OPTIONAL_BYTES_SCHEMA
        assert r.value.get("bl") == b"\x01\x02"
        assert sch["d"] == S.date_schema(True) and r.value.get("d") == dt.date(2023, 11, 14)
        assert sch["ts"] == S.timestamp_schema(True)
        assert S.timestamp_to_millis(r.value.get("ts")) == 1700000000123
        r.value.validate()


async def test_validate_non_null_message(db, tmp_path):
    path, con = db
    con.execute("CREATE TABLE nn (id INTEGER, ts TIMESTAMP)")
    async with Harness(str(tmp_path / "off.json")) as h:
        with pytest.raises(
            Exception,
            match="Cannot make incremental queries using incrementing column id on nn because this column is nullable.",
        ):
            await h.start_task(cfg_for(path, '"nn"', mode="incrementing", **{"incrementing.column.name": "id"}))
        with pytest.raises(Exception, match="Incrementing column: nope does not exist in table 'nn'"):
            await h.start_task(cfg_for(path, '"nn"', mode="incrementing", **{"incrementing.column.name": "nope"}))
        task = await h.start_task(
            cfg_for(
                path, '"nn"', mode="incrementing", **{"incrementing.column.name": "id", "validate.non.null": "false"}
            )
        )
        assert await task.poll() is None


async def test_connector_tables_filters_tasks_and_new_tables(jdbc_db):
    path, con = jdbc_db
    for t in ("a", "b", "c", "skip_me"):
        con.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY)")
    c = await connector_for(
        base(path, mode="bulk", **{"table.blacklist": "skip_me", "table.poll.interval.ms": 100, "tasks.max": 2})
    )
    try:
        cfgs = await c.task_configs(2)
        assert [x["tables"] for x in cfgs] == ['"a","b"', '"c"']
        assert all(x["tables.fetched"] == "true" for x in cfgs)
        assert not c.context.reconfiguration_requested.is_set()
        con.execute("CREATE TABLE d (id INTEGER PRIMARY KEY)")
        import asyncio

        await asyncio.wait_for(c.context.reconfiguration_requested.wait(), 5)
        assert [x["tables"] for x in await c.task_configs(3)] == ['"a","b"', '"c"', '"d"']
        c.context.reconfiguration_requested.clear()
        con.execute("DROP TABLE a")
        await asyncio.wait_for(c.context.reconfiguration_requested.wait(), 5)
        assert [x["tables"] for x in await c.task_configs(5)] == ['"b"', '"c"', '"d"']
    finally:
        await c.stop()
        await c.stop()
    c = await connector_for(base(path, mode="bulk", **{"table.include.list": "[a-c]", "table.exclude.list": "c"}))
    try:
        assert [x["tables"] for x in await c.task_configs(4)] == ['"b"']
    finally:
        await c.stop()


async def test_query_mode_single_task_and_validation(db):
    path, _ = db
    c = await connector_for(base(path, mode="bulk", query="SELECT 1"))
    try:
        assert len(await c.task_configs(5)) == 1
    finally:
        await c.stop()
    errs = {k: v.errors for k, v in c.validate(base(path, mode="bulk")).items() if v.errors}
    assert "At least one table filtering configuration is required" in errs["table.whitelist"][0]
    errs = {k: v.errors for k, v in c.validate(base(path, mode="", **{"table.whitelist": "x"})).items() if v.errors}
    assert errs["mode"] == ["Query mode must be specified"]
    errs = {k: v.errors for k, v in c.validate(base(path, mode="bulk", query="DELETE FROM x")).items() if v.errors}
    assert "Only SELECT statements are supported" in errs["query"][0]
    ok = c.validate(
        base(
            path, mode="incrementing", **{"table.whitelist": "x", "poll.interval.ms": 2000, "validate.non.null": False}
        )
    )
    assert not any(v.errors for v in ok.values())


async def test_legacy_v0_offsets_and_views(jdbc_db, tmp_path):
    path, con = jdbc_db
    con.execute("CREATE TABLE old (id INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO old VALUES (?, ?)", [(i, "x") for i in range(1, 5)])
    con.execute("CREATE VIEW old_view AS SELECT * FROM old")
    cfg = cfg_for(path, '"old"', mode="incrementing", **{"incrementing.column.name": "id"})
    async with Harness(str(tmp_path / "off.json")) as h:
        await h.store.put("src", {'{"table":"old"}': {"incrementing": 2}})  # written by a pre-CP-5.0 connector
        task = await h.start_task(cfg)
        recs = await h.poll(task, 2)
        assert values(recs) == [3, 4] and recs[0].source_partition == {"protocol": "1", "table": "old"}
    c = await connector_for(base(path, mode="bulk", **{"table.whitelist": "old,old_view", "table.types": "VIEW"}))
    try:
        assert [x["tables"] for x in await c.task_configs(3)] == ['"old_view"']
    finally:
        await c.stop()


async def test_duckdb_types_listing_and_query_mode_through_the_generic_dialect(tmp_path):
    """DuckDB's types as its JDBC driver would report them, tables listed with their schema, and a query's column
    types taken from the values the driver returns."""
    path = str(tmp_path / "types.duckdb")
    con = DuckDbCon(path)
    con.execute(
        "CREATE TABLE ty (id INTEGER PRIMARY KEY, ti TINYINT, si SMALLINT, bi BIGINT NOT NULL, r REAL, f DOUBLE, "
        "dd DECIMAL(6,3), s VARCHAR, bl BLOB, b BOOLEAN, d DATE, t TIME, ts TIMESTAMP, tz TIMESTAMPTZ)"
    )
    con.execute(
        "INSERT INTO ty VALUES (1, 7, 300, 9000000000, 1.5, 2.25, 1.5, 'hi', '\\x01\\x02'::BLOB, true, "
        "'2023-11-14', '12:34:56.789', '2023-11-14 22:13:20.123', '2023-11-14 22:13:20.123+00')"
    )
    try:
        cfg = cfg_for(DbFile(path), '"ty"', mode="incrementing", **{"incrementing.column.name": "id"})
        cfg["connection.url"] = f"duckdb:///{path}"
        async with Harness(str(tmp_path / "off.json")) as h:
            task = await h.start_task(cfg)
            (r,) = await h.poll(task, 1)
            sch = {f.name: f.schema for f in r.value_schema.fields}
            assert sch["id"] == S.INT32_SCHEMA and sch["bi"] == S.INT64_SCHEMA
            assert sch["ti"] == S.OPTIONAL_INT8_SCHEMA and sch["si"] == S.OPTIONAL_INT16_SCHEMA
            assert sch["r"] == S.OPTIONAL_FLOAT32_SCHEMA and sch["f"] == S.OPTIONAL_FLOAT64_SCHEMA
            assert sch["dd"] == S.decimal_schema(3, True, 6) and r.value.get("dd") == decimal.Decimal("1.500")
            assert sch["s"] == S.OPTIONAL_STRING_SCHEMA and sch["b"] == S.OPTIONAL_BOOLEAN_SCHEMA
            assert sch["bl"] == S.OPTIONAL_BYTES_SCHEMA and r.value.get("bl") == b"\x01\x02"
            assert sch["d"] == S.date_schema(True) and r.value.get("d") == dt.date(2023, 11, 14)
            assert sch["t"] == S.time_schema(True) and r.value.get("t") == dt.time(12, 34, 56, 789000)
            assert S.timestamp_to_millis(r.value.get("ts")) == 1700000000123
            assert S.timestamp_to_millis(r.value.get("tz")) == 1700000000123
            r.value.validate()
            await h.stop()
            q = base(
                DbFile(path),
                query="SELECT id, dd FROM ty",
                mode="bulk",
                **{"tables": "", "tables.fetched": "true", "topic.prefix": "q"},
            )
            q["connection.url"] = f"duckdb:///{path}"
            task = await h.start_task(q)
            (r, *_) = await h.poll(task, 1)
            dd = r.value_schema.field("dd").schema
            assert dd.name == S.DECIMAL and S.decimal_scale(dd) == 3 and r.value.get("dd") == decimal.Decimal("1.500")
        c = await connector_for({**base(DbFile(path), mode="bulk"), "connection.url": f"duckdb:///{path}"})
        try:
            cfgs = await c.task_configs(2)
        finally:
            await c.stop()
        assert [x["tables"] for x in cfgs] == ['"main"."ty"']
    finally:
        con.close()
