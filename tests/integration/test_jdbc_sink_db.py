"""JDBC sink against real PostgreSQL, MariaDB and SQLite: the seed scenario, modes, deletes, evolve, types, errors."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from helpers.jdbc_sink_db import GENERIC, Db, db_for
from miniconnect_plugins.jdbc.sink import JdbcSinkConnector, JdbcSinkTask

from miniconnect.connector import SinkTaskContext
from miniconnect.converters.json import JsonConverter
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
    Type,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)
from miniconnect.errors import ConfigError, ConnectError, RetriableError

SEED_CONFIG = {
    "name": "my-order-sink-connect",
    "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
    "connection.url": "jdbc:mariadb://localhost:3306/cloudtest",
    "connection.user": "root",
    "connection.password": "passwd",
    "auto.create": "true",
    "auto.evolve": "true",
    "delete.enabled": "false",
    "tasks.max": "1",
    "topics": "orders",
}
SEED_MESSAGE = (
    b'{"schema": {"type": "struct", "fields": [{"type": "string", "optional": true, "field": "order_id"}, '
    b'{"type": "string", "optional": true, "field": "user_id"}, {"type": "string", "optional": true, '
    b'"field": "product_id"}, {"type": "int32", "optional": true, "field": "qty"}, {"type": "int32", '
    b'"optional": true, "field": "unit_price"}, {"type": "int32", "optional": true, "field": '
    b'"total_price"}], "optional": false, "name": "orders"}, "payload": {"order_id": '
    b'"887dfd6a-5bb7-4742-90e8-a793808e93f6", "user_id": "ea45be72-1806-44ae-b528-ebec466d0d61", '
    b'"product_id": "CATALOG-002", "qty": 20, "unit_price": 2000, "total_price": 40000}}'
)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb", *GENERIC])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    return db_for(request, tmp_path)


async def started(db: Db, **overrides: str) -> JdbcSinkTask:
    props = {"name": "sink-test", "topics": "orders", "auto.create": "true", **db.config, **overrides}
    task = JdbcSinkTask()
    task.context = SinkTaskContext("sink-test", 0, props)
    await task.start(props)
    return task


ORDER = Schema.struct(
    [
        ("order_id", OPTIONAL_STRING_SCHEMA),
        ("user_id", OPTIONAL_STRING_SCHEMA),
        ("product_id", OPTIONAL_STRING_SCHEMA),
        ("qty", OPTIONAL_INT32_SCHEMA),
        ("unit_price", OPTIONAL_INT32_SCHEMA),
        ("total_price", OPTIONAL_INT32_SCHEMA),
    ],
    name="orders",
)
KEY = Schema.struct([("id", INT32_SCHEMA)], name="key")
ITEM = Schema.struct([("id", INT32_SCHEMA), ("name", OPTIONAL_STRING_SCHEMA), ("qty", OPTIONAL_INT32_SCHEMA)])


def order(i: int, qty: int = 1, topic: str = "orders") -> SinkRecord:
    return SinkRecord(topic, 0, None, None, ORDER, Struct(ORDER, [f"o{i}", "u1", "P", qty, 10, 10 * qty]), i)


def item(offset: int, id_: int, name: str | None, qty: int | None = 1, tombstone: bool = False) -> SinkRecord:
    key = Struct(KEY, [id_])
    if tombstone:
        return SinkRecord("items", 0, KEY, key, ITEM, None, offset)
    return SinkRecord("items", 0, KEY, key, ITEM, Struct(ITEM, [id_, name, qty]), offset)


async def test_seed_scenario_verbatim(db: Db) -> None:
    props = {**SEED_CONFIG, **db.config}
    assert JdbcSinkConnector().validate(props)["connection.url"].errors == []
    conn = JdbcSinkConnector()
    await conn.start(props)
    (task_props,) = await conn.task_configs(1)
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    schema, value = conv.to_connect_data("orders", SEED_MESSAGE)
    task = JdbcSinkTask()
    task.context = SinkTaskContext("my-order-sink-connect", 0, task_props)
    await task.start(task_props)
    try:
        await task.put([SinkRecord("orders", 0, None, None, schema, value, 0)])
        await task.flush({})
    finally:
        await task.stop()
    assert await db.rows(
        'SELECT "order_id", "user_id", "product_id", "qty", "unit_price", "total_price" FROM "orders"'
    ) == [
        ("887dfd6a-5bb7-4742-90e8-a793808e93f6", "ea45be72-1806-44ae-b528-ebec466d0d61", "CATALOG-002", 20, 2000, 40000)
    ]
    assert await db.columns("orders") == ["order_id", "user_id", "product_id", "qty", "unit_price", "total_price"]


@pytest.mark.parametrize(
    "mode,pk",
    [
        ("insert", "none"),
        ("insert", "kafka"),
        ("insert", "record_key"),
        ("insert", "record_value"),
        ("upsert", "kafka"),
        ("upsert", "record_key"),
        ("upsert", "record_value"),
        ("update", "record_key"),
        ("update", "record_value"),
    ],
)
async def test_insert_modes_by_pk_modes(db: Db, mode: str, pk: str) -> None:
    extra = {"pk.fields": "id"} if pk == "record_value" else {}
    if mode == "update":  # update needs existing rows: create them with an upsert first
        seed = await started(db, **{"insert.mode": "upsert", "pk.mode": pk, **extra})
        await seed.put([item(0, 1, "a"), item(1, 2, "b")] if pk != "kafka" else [])
        await seed.stop()
    task = await started(db, **{"insert.mode": mode, "pk.mode": pk, "topics": "items", **extra})
    try:
        await task.put([item(0, 1, "a2", 5), item(1, 2, "b2", 6)])
        if mode == "upsert":
            await task.put([item(0, 1, "a3", 7)])  # redelivered offset 0 for kafka, same key for the others
    finally:
        await task.stop()
    rows = sorted(await db.rows('SELECT "id", "name", "qty" FROM "items"'))
    if mode == "upsert":
        assert rows == [(1, "a3", 7), (2, "b2", 6)]
    else:
        assert rows == [(1, "a2", 5), (2, "b2", 6)]
    cols = await db.columns("items")
    if pk == "kafka":
        assert cols[:3] == ["__connect_topic", "__connect_partition", "__connect_offset"]


async def test_upsert_without_keys_is_rejected(db: Db) -> None:
    task = await started(db, **{"insert.mode": "upsert", "pk.mode": "none"})
    with pytest.raises(ConnectError, match="in UPSERT mode requires key field names to be known"):
        await task.put([order(0)])
    await task.stop()


async def test_delete_requires_record_key(db: Db) -> None:
    with pytest.raises(ConfigError, match="Primary key mode must be 'record_key' when delete support is enabled"):
        await started(db, **{"delete.enabled": "true", "pk.mode": "record_value"})
    errors = JdbcSinkConnector().validate({**db.config, "delete.enabled": "true", "pk.mode": "none"})
    assert errors["delete.enabled"].errors == ["Deletes are only supported for pk.mode record_key"]
    assert errors["pk.mode"].errors == ["Deletes are only supported for pk.mode record_key"]


async def test_tombstones_delete_in_record_order(db: Db) -> None:
    task = await started(
        db, **{"insert.mode": "upsert", "pk.mode": "record_key", "delete.enabled": "true", "topics": "items"}
    )
    try:
        await task.put([item(0, 1, "a"), item(1, 2, "b"), item(2, 3, "c")])
        # one batch: delete 1 then re-insert it; upsert 2 then delete it; delete a key that never existed
        await task.put(
            [
                item(3, 1, None, tombstone=True),
                item(4, 1, "a-again"),
                item(5, 2, "b2"),
                item(6, 2, None, tombstone=True),
                item(7, 9, None, tombstone=True),
            ]
        )
    finally:
        await task.stop()
    assert sorted(await db.rows('SELECT "id", "name" FROM "items"')) == [(1, "a-again"), (3, "c")]


async def test_tombstone_without_delete_enabled_names_the_record(db: Db) -> None:
    task = await started(db, **{"pk.mode": "record_key", "topics": "items"})
    with pytest.raises(
        ConnectError,
        match=r"requires records with a non-null Struct or String value.*"
        r"topic='items',partition=0,offset=3",
    ):
        await task.put([item(3, 1, None, tombstone=True)])
    await task.stop()


async def test_evolve_adds_optional_and_defaulted_fields(db: Db) -> None:
    task = await started(db, **{"auto.evolve": "true"})
    v2 = Schema.struct(
        list((f.name, f.schema) for f in ORDER.fields)
        + [("note", OPTIONAL_STRING_SCHEMA), ("prio", INT32_SCHEMA.with_(default=42))],
        name="orders",
    )
    try:
        await task.put([order(0)])
        await task.put(
            [order(1), SinkRecord("orders", 0, None, None, v2, Struct(v2, ["o2", "u", "P", 1, 1, 1, "hi", None]), 2)]
        )
    finally:
        await task.stop()
    assert (await db.columns("orders"))[-2:] == ["note", "prio"]
    assert sorted(await db.rows('SELECT "order_id", "note", "prio" FROM "orders"')) == [
        ("o0", None, 42),
        ("o1", None, 42),
        ("o2", "hi", 42),
    ]


async def test_evolve_rejects_new_required_field(db: Db) -> None:
    task = await started(db, **{"auto.evolve": "true"})
    v2 = Schema.struct(list((f.name, f.schema) for f in ORDER.fields) + [("must", STRING_SCHEMA)], name="orders")
    await task.put([order(0)])
    with pytest.raises(
        ConnectError,
        match=r"Cannot ALTER TABLE .*\"orders\" to add missing field SinkRecordField"
        r"\{schema=Schema\{STRING\}, name='must', isPrimaryKey=false\}, as the "
        r"field is not optional and does not have a default value",
    ):
        await task.put([SinkRecord("orders", 0, None, None, v2, Struct(v2, ["o1", "u", "P", 1, 1, 1, "x"]), 1)])
    await task.stop()


async def test_evolve_disabled_and_missing_table(db: Db) -> None:
    task = await started(db, **{"auto.create": "false"})
    with pytest.raises(ConnectError, match=r"Table .*\"orders\" is missing and auto-creation is disabled"):
        await task.put([order(0)])
    await task.stop()
    task = await started(db)
    await task.put([order(0)])
    await task.stop()
    v2 = Schema.struct(list((f.name, f.schema) for f in ORDER.fields) + [("note", OPTIONAL_STRING_SCHEMA)])
    task = await started(db, **{"auto.evolve": "false"})
    with pytest.raises(
        ConnectError,
        match=r"is missing fields \(\[SinkRecordField\{schema=Schema\{STRING\}, "
        r"name='note', isPrimaryKey=false\}\]\) and auto-evolution is disabled",
    ):
        await task.put([SinkRecord("orders", 0, None, None, v2, Struct(v2, ["o1", "u", "P", 1, 1, 1, "n"]), 1)])
    await task.stop()


async def test_every_type_round_trips(db: Db) -> None:
    fields = [
        ("i8", INT8_SCHEMA),
        ("i16", INT16_SCHEMA),
        ("i32", INT32_SCHEMA),
        ("i64", INT64_SCHEMA),
        ("f32", FLOAT32_SCHEMA),
        ("f64", FLOAT64_SCHEMA),
        ("b", BOOLEAN_SCHEMA),
        ("s", STRING_SCHEMA),
        ("by", BYTES_SCHEMA),
        ("dec", decimal_schema(2)),
        ("d", date_schema()),
        ("t", time_schema()),
        ("ts", timestamp_schema()),
        ("opt", OPTIONAL_STRING_SCHEMA),
    ]
    schema = Schema.struct(fields, name="alltypes")
    values = [
        -8,
        -1600,
        320000,
        2**40,
        1.5,
        2.25,
        True,
        "héllo",
        b"\x00\xff",
        decimal.Decimal("123.45"),
        dt.date(2023, 11, 14),
        dt.time(12, 34, 56, 789000),
        dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.UTC),
        None,
    ]
    task = await started(db, topics="alltypes")
    try:
        await task.put([SinkRecord("alltypes", 0, None, None, schema, Struct(schema, values), 0)])
    finally:
        await task.stop()
    (row,) = await db.rows(
        'SELECT "i8","i16","i32","i64","f32","f64","b","s","by","dec","d","t","ts","opt" FROM "alltypes"'
    )
    got = list(row)
    assert got[:6] == values[:6]
    assert bool(got[6]) is True and got[7] == "héllo" and bytes(got[8]) == b"\x00\xff"
    assert decimal.Decimal(str(got[9])) == decimal.Decimal("123.45")
    if db.kind == "sqlite" and db.generic:  # SQLAlchemy's SQLite storage formats
        assert got[10:13] == ["2023-11-14", "12:34:56.789000", "2023-11-14 22:13:20.123000"]
    elif db.kind == "sqlite":
        assert got[10:13] == ["2023-11-14", "12:34:56.789", "2023-11-14 22:13:20.123"]
    else:
        assert got[10] == dt.date(2023, 11, 14)
        t = got[11]
        if isinstance(t, dt.timedelta):  # aiomysql returns TIME as timedelta
            t = (dt.datetime.min + t).time()
        assert t == dt.time(12, 34, 56, 789000)
        assert got[12] == dt.datetime(2023, 11, 14, 22, 13, 20, 123000)
    assert got[13] is None


async def test_upsert_keeps_one_row_per_key_across_batches(db: Db) -> None:
    task = await started(
        db, **{"insert.mode": "upsert", "pk.mode": "record_key", "batch.size": "100", "topics": "items"}
    )
    records = [item(i, i % 50, f"v{i}", i) for i in range(1000)]  # 20 versions of 50 keys, 10 DB batches
    try:
        await task.put(records[:250])
        await task.put(records[250:])
    finally:
        await task.stop()
    rows = sorted(await db.rows('SELECT "id", "name", "qty" FROM "items"'))
    assert rows == [(k, f"v{950 + k}", 950 + k) for k in range(50)]


async def stages(db: Db) -> int:
    """PostgreSQL: the upsert staging tables that exist (temp tables of every session are in pg_class)."""
    return (await db.rows("SELECT COUNT(*) FROM pg_class WHERE relname LIKE '__miniconnect_stage%'"))[0][0]


async def test_upsert_of_new_and_existing_keys_mixed_in_puts_and_batches(db: Db) -> None:
    """PostgreSQL tries each upsert batch as a COPY into the table first and, when it meets an existing key, rolls
    back to before it (the whole transaction when it was the first statement, else a savepoint) and upserts the
    batch through ON CONFLICT. Whatever path each batch takes, the table ends with the last value of every key and
    a put's earlier batches survive a later batch's fallback, while a put that fails still leaves nothing."""
    await db.execute(
        'CREATE TABLE "items" ("id" INT NOT NULL PRIMARY KEY, "name" VARCHAR(32), "qty" INT CHECK ("qty" < 100))'
    )
    task = await started(
        db,
        **{"insert.mode": "upsert", "pk.mode": "record_key", "batch.size": "10", "topics": "items", "max.retries": "0"},
    )
    try:
        await task.put([item(i, i, "new", i) for i in range(20)])  # two batches of new keys
        if db.kind == "postgresql":
            assert await stages(db) == 0  # written by COPY alone: no staging table was needed
        with pytest.raises(ConnectError):  # a batch with an existing key first, then one the table refuses
            await task.put(
                [item(20 + i, 500 + i, "lost", i) for i in range(9)]
                + [item(29, 1, "lost", 1)]
                + [item(30, 600, "bad", 100)]
            )
        assert await db.rows('SELECT "id" FROM "items" WHERE "name" IN (\'lost\', \'bad\')') == []
        # first batch: new keys and, last, an existing one (fails as a COPY at the end, as the transaction's first
        # statement); second batch: new keys; third: new keys then an existing key again (a savepoint's case)
        await task.put(
            [item(20 + i, 100 + i, "b1", i) for i in range(9)]
            + [item(29, 3, "b1-changed", 3)]
            + [item(30 + i, 200 + i, "b2", i) for i in range(10)]
            + [item(40 + i, 300 + i, "b3", i) for i in range(9)]
            + [item(49, 7, "b3-changed", 7)]
        )
        changed = dict(await db.rows('SELECT "id", "name" FROM "items" WHERE "id" < 20 AND "name" <> \'new\''))
        assert changed == {3: "b1-changed", 7: "b3-changed"}
        for n in range(6):  # later puts of new keys, then of existing ones, whatever the tries' back-off does
            await task.put([item(50 + 10 * n + i, 400 + 10 * n + i, f"p{n}", i) for i in range(10)])
        await task.put([item(110 + i, i, "again", i) for i in range(20)])
    finally:
        await task.stop()
    rows = dict((r[0], r[1]) for r in await db.rows('SELECT "id", "name" FROM "items"'))
    expected = {i: "again" for i in range(20)}
    expected.update({100 + i: "b1" for i in range(9)})
    expected.update({200 + i: "b2" for i in range(10)})
    expected.update({300 + i: "b3" for i in range(9)})
    expected.update({400 + 10 * n + i: f"p{n}" for n in range(6) for i in range(10)})
    assert rows == expected
    assert len(await db.rows('SELECT "id" FROM "items"')) == len(expected)


async def test_a_put_failing_in_its_last_batch_leaves_nothing_and_the_next_put_works(db: Db) -> None:
    """The last upsert batch of a put goes to PostgreSQL with the COMMIT, the others with emptying the stage: when
    the database rejects the last one, the put's earlier batches and its other table are rolled back with it, and the
    task writes the next put as usual."""
    await db.execute(
        'CREATE TABLE "items" ("id" INT NOT NULL PRIMARY KEY, "name" VARCHAR(32), "qty" INT CHECK ("qty" < 100))'
    )
    task = await started(
        db,
        **{
            "insert.mode": "upsert",
            "pk.mode": "record_key",
            "batch.size": "10",
            "topics": "other,items",
            "max.retries": "0",
        },
    )

    def other(offset: int, id_: int) -> SinkRecord:
        return SinkRecord("other", 0, KEY, Struct(KEY, [id_]), ITEM, Struct(ITEM, [id_, "o", 1]), offset)

    try:
        await task.put([item(0, 1, "a"), other(0, 1)])
        # "other" first, then 25 records of "items" in batches of 10, 10 and 5: key 1 changes in the first batch,
        # and the last record breaks the CHECK constraint
        records = (
            [other(1 + i, 10 + i) for i in range(3)]
            + [item(1, 1, "changed")]
            + [item(2 + i, 100 + i, "new", i) for i in range(23)]
            + [item(25, 200, "bad", 100)]
        )
        with pytest.raises(ConnectError):
            await task.put(records)
        assert await db.rows('SELECT "id", "name", "qty" FROM "items"') == [(1, "a", 1)]
        assert await db.rows('SELECT "id" FROM "other"') == [(1,)]
        await task.put(records[:-1])
    finally:
        await task.stop()
    assert len(await db.rows('SELECT "id" FROM "items"')) == 24
    assert await db.rows('SELECT "name" FROM "items" WHERE "id" = 1') == [("changed",)]
    assert sorted(await db.rows('SELECT "id" FROM "other"')) == [(1,), (10,), (11,), (12,)]


async def test_insert_bigger_than_batch_size(db: Db) -> None:
    task = await started(db, **{"batch.size": "7"})
    try:
        await task.put([order(i, i) for i in range(100)])
    finally:
        await task.stop()
    assert await db.rows('SELECT COUNT(*), SUM("qty") FROM "orders"') == [(100, sum(range(100)))]


TEXTS = [
    "it's",
    'say "hi"',
    "back\\slash \\' \\\\",
    "line\nbreak\r\n",
    "ctrl-z \x1a",
    "100% %s %(x)s",
    "é€😀",
    "",
    "sep \x01 inside",
]
TEXT = Schema.struct(
    [
        ("id", INT32_SCHEMA),
        ("text", OPTIONAL_STRING_SCHEMA),
        ("n", Schema(Type.INT64, optional=True)),
        ("ok", Schema(Type.BOOLEAN, optional=True)),
    ]
)


async def check_texts(db: Db, session_sql: str | None = None) -> None:
    task = await started(db, **{"topics": "texts", "batch.size": "5"})
    texts = TEXTS + ["\0 nul"] if db.kind != "postgresql" else TEXTS  # PostgreSQL text refuses NUL
    values = texts + [None] + [t + "!" for t in texts]
    records = [
        SinkRecord("texts", 0, None, None, TEXT, Struct(TEXT, [i, v, (-1) ** i * 2**62 + i, i % 2 == 0]), i)
        for i, v in enumerate(values)
    ]
    try:
        if session_sql is not None:
            await task.writer.connect()  # type: ignore[union-attr]
            async with task.writer.conn.cursor() as cur:  # type: ignore[union-attr]
                await cur.execute(session_sql)
        await task.put(records)
    finally:
        await task.stop()
    rows = sorted(await db.rows('SELECT "id", "text", "n", "ok" FROM "texts"'))
    assert [(r[0], r[1], r[2], bool(r[3])) for r in rows] == [
        (i, v, (-1) ** i * 2**62 + i, i % 2 == 0) for i, v in enumerate(values)
    ]


async def test_strings_quotes_backslashes_and_control_characters_arrive_as_sent(db: Db) -> None:
    """MySQL rows are written as SQL literals made a column at a time (mysql_values): every special character,
    NULLs among strings, big integers and booleans must arrive unchanged; the last batch holds the joining
    separator itself."""
    await check_texts(db)


async def test_mysql_strings_arrive_as_sent_under_no_backslash_escapes(mysql_db: Any) -> None:
    """sql_mode NO_BACKSLASH_ESCAPES: a backslash is an ordinary character and a quote is doubled."""
    db = Db("mysql", mysql_db.connection_config(scheme="mariadb"), mysql_db)
    await check_texts(db, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")


async def test_bad_record_fails_with_coordinates_and_writes_nothing(db: Db) -> None:
    task = await started(db)
    bad = Struct(ORDER, ["o5", "u", "P", "not-a-number", 1, 1])
    records = [order(i) for i in range(5)] + [SinkRecord("orders", 2, None, None, ORDER, bad, 5)] + [order(6)]
    with pytest.raises(ConnectError, match=r"topic 'orders', partition 2, offset 5"):
        await task.put(records)
    with pytest.raises(
        ConnectError,
        match=r"topic='orders',partition=0,offset=7.*HashMap value and null value "
        r"schema",
    ):
        t2 = await started(db, **{"auto.create": "false"})
        try:
            await t2.put([SinkRecord("orders", 0, None, None, None, {"a": 1}, 7)])
        finally:
            await t2.stop()
    with pytest.raises(ConnectError, match=r"topic 'orders', partition 0, offset 8"):
        await task.put([SinkRecord("orders", 0, None, None, ORDER, "just text", 8)])
    await task.stop()
    tables = await db.rows(
        "SELECT name FROM sqlite_master"
        if db.kind == "sqlite"
        else "SELECT table_name FROM information_schema.tables WHERE table_name = 'orders'"
    )
    if tables:
        assert await db.rows('SELECT COUNT(*) FROM "orders"') == [(0,)]


async def test_schemaless_values_infer_and_evolve(db: Db) -> None:
    task = await started(db, **{"auto.evolve": "true"})
    try:
        await task.put(
            [
                SinkRecord(
                    "orders",
                    0,
                    None,
                    None,
                    None,
                    {"id": 1, "name": "a", "price": 2.5, "ok": True, "tags": ["x"], "gone": None},
                    0,
                )
            ]
        )
        await task.put([SinkRecord("orders", 0, None, None, None, {"id": 2, "name": "b", "extra": "new"}, 1)])
    finally:
        await task.stop()
    cols = await db.columns("orders")
    assert cols == ["id", "name", "price", "ok", "tags", "extra"]
    rows = sorted(await db.rows('SELECT "id", "name", "price", "tags", "extra" FROM "orders"'))
    assert rows == [(1, "a", 2.5, '["x"]', None), (2, "b", None, None, "new")]


async def test_database_errors_retry_then_fail_with_sql_error(db: Db) -> None:
    task = await started(
        db,
        **{
            "pk.mode": "record_value",
            "pk.fields": "id",
            "topics": "items",
            "max.retries": "2",
            "retry.backoff.ms": "5",
        },
    )
    await task.put([item(0, 1, "a")])
    dup = [item(1, 1, "again")]  # insert mode: the primary key is violated on every try
    for _ in range(2):
        with pytest.raises(RetriableError):
            await task.put(dup)
        assert task.context.retry_timeout_ms == 5
    with pytest.raises(ConnectError, match=r"(?is)failed after 2 retries.*(duplicate|unique)") as info:
        await task.put(dup)
    assert not isinstance(info.value, RetriableError)
    await task.put([item(2, 2, "b")])  # works again once the cause is gone
    await task.stop()
    assert sorted(await db.rows('SELECT "id", "name" FROM "items"')) == [(1, "a"), (2, "b")]
