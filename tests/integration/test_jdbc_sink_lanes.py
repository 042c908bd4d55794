"""PostgreSQL upserts split by key over several connections (plugins/jdbc/sink/lanes): against the real server, a put
written over two connections leaves exactly what one connection leaves (record path with tombstones interleaved,
column path with every type and several tables per put), a commit failing on one lane after the other committed is
repaired by redelivering the put (rows-written-total counting what each lane committed), a second connection the
server refuses leaves the task on one, and float keys that PostgreSQL holds equal (NaN, -0.0 and 0.0) go as one
key."""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from typing import Any

import pytest
from helpers.jdbc_sink_db import Db, db_for
from helpers.sink_columns import batches, table_rows, task_for, value, write_by_records
from miniconnect_plugins.jdbc.sink import JdbcSinkTask
from miniconnect_plugins.jdbc.sink.lanes import MIN_ROWS

from miniconnect.connector import SinkTaskContext
from miniconnect.converters.json import JsonConverter
from miniconnect.data.columns import ColumnBatch
from miniconnect.data.records import SinkRecord
from miniconnect.data.schema import (
    FLOAT64_SCHEMA,
    INT32_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    Schema,
    Struct,
)
from miniconnect.runtime.sink_columns import ColumnConverter

KEY = Schema.struct([("id", INT32_SCHEMA)], name="key")
ITEM = Schema.struct([("id", INT32_SCHEMA), ("name", OPTIONAL_STRING_SCHEMA), ("qty", OPTIONAL_INT32_SCHEMA)])


@pytest.fixture(params=["postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Db:
    return db_for(request, tmp_path)


async def started(db: Db, table: str, connections: int, **overrides: str) -> JdbcSinkTask:
    props = {
        "name": "lanes-test",
        "topics": "items",
        "auto.create": "true",
        "insert.mode": "upsert",
        "pk.mode": "record_key",
        "delete.enabled": "true",
        "table.name.format": table,
        "upsert.connections": str(connections),
        "max.retries": "0",
        **db.config,
        **overrides,
    }
    task = JdbcSinkTask()
    task.context = SinkTaskContext("lanes-test", 0, props)
    await task.start(props)
    return task


def item(offset: int, id_: int, qty: int | None) -> SinkRecord:
    """An upsert of key id_, or its tombstone when qty is None."""
    key = Struct(KEY, [id_])
    if qty is None:
        return SinkRecord("items", 0, KEY, key, ITEM, None, offset)
    return SinkRecord("items", 0, KEY, key, ITEM, Struct(ITEM, [id_, f"n{offset}", qty]), offset)


def stream(n: int, keys: int, seed: int) -> list[SinkRecord]:
    """n records over `keys` keys: mostly upserts, one in five a tombstone."""
    rnd = random.Random(seed)
    return [item(o, rnd.randrange(keys), None if rnd.random() < 0.2 else rnd.randrange(1000)) for o in range(n)]


def last_per_key(records: list[SinkRecord]) -> list[tuple[Any, ...]]:
    rows: dict[int, tuple[Any, ...] | None] = {}
    for r in records:
        rows[r.key.values[0]] = None if r.value is None else tuple(r.value.values)
    return sorted(v for v in rows.values() if v is not None)


async def lanes_used(task: JdbcSinkTask) -> int:
    """The task's connections that are open (its own and the lanes')."""
    assert task.db is not None
    return sum(w.conn is not None for w in [task.db.writer, *task.db.lanes.extra])


async def test_upserts_and_tombstones_over_two_connections_leave_what_one_leaves(db: Db) -> None:
    """Puts of 3,000 records over 500 keys, tombstones among the upserts and keys repeated within and across puts
    (batch.size 700: several statements per lane): each key's records apply in order on whichever connection."""
    records = stream(4 * 3000, 500, seed=23)
    for table, connections in (("items_two", 2), ("items_one", 1)):
        task = await started(db, table, connections, **{"batch.size": "700"})
        try:
            for lo in range(0, len(records), 3000):
                await task.put(records[lo : lo + 3000])
            assert await lanes_used(task) == connections
        finally:
            await task.stop()
    expected = last_per_key(records)
    assert len(expected) > 300
    assert sorted(await db.rows('SELECT "id", "name", "qty" FROM "items_two"')) == expected
    assert sorted(await db.rows('SELECT "id", "name", "qty" FROM "items_one"')) == expected


async def test_small_puts_stay_on_one_connection(db: Db) -> None:
    records = stream(MIN_ROWS - 1, 100, seed=5)
    task = await started(db, "items_small", 2)
    try:
        await task.put(records)
        assert await lanes_used(task) == 1
    finally:
        await task.stop()
    assert sorted(await db.rows('SELECT "id", "name", "qty" FROM "items_small"')) == last_per_key(records)


async def test_columns_of_every_type_into_two_tables_over_two_connections(db: Db) -> None:
    """The column path: every type the sink maps, keys repeated in the put, two topics into two tables in one put
    (table.name.format), upserted twice over (the second time onto existing keys): the same rows as the record
    path over one connection."""
    conv = JsonConverter()
    conv.configure({"schemas.enable": "true"}, False)
    kc = JsonConverter()
    kc.configure({"schemas.enable": "true"}, True)

    def envelopes(lo: int, n: int) -> list[bytes]:
        out = []
        for i in range(n):
            v = value(lo + i)
            v.values[0] = f"id-{(i * 7) % 600:04d}"  # 600 keys, some twice in the put
            out.append(conv.from_connect_data("t", v.schema, v))
        return out

    config = {"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id"}
    suffix = uuid.uuid4().hex[:6]
    for lo in (0, 900):  # (value(i) is in every column's range for i < 1696)
        raw = batches("t", envelopes(lo, 700)) + batches("u", envelopes(lo + 50, 700))
        columns = ColumnConverter(kc, conv)
        units = columns.plan(raw)
        assert units is not None
        batch = columns.read(units)
        assert batch is not None
        task = await task_for(db, f"${{topic}}_{suffix}", topics="t,u", **config, **{"upsert.connections": "2"})
        try:
            assert await task.put_columns(batch)
            assert await lanes_used(task) == 2
        finally:
            await task.stop()
        for topic in ("t", "u"):
            await write_by_records(
                db,
                f"{topic}_expected",
                [b for b in raw if b.topic == topic],
                kc,
                conv,
                **config,
                **{"upsert.connections": "1"},
            )
    for topic in ("t", "u"):
        expected = await table_rows(db, f"{topic}_expected")
        assert len(expected) == 600
        assert await table_rows(db, f"{topic}_{suffix}") == expected


async def test_a_commit_failing_on_one_connection_is_repaired_by_redelivery(db: Db) -> None:
    """A deferred constraint fails the COMMIT of the lane holding key 7 while the other lane commits: the put fails
    (the worker would redeliver it, its offsets not committed), and the same records put again, once the database
    takes them, leave every key's last value: the lane that had committed is upserted again to the same rows."""
    await db.execute('CREATE TABLE "items_fail" ("id" INT PRIMARY KEY, "name" TEXT, "qty" INT)')
    await db.execute(
        "CREATE FUNCTION no_seven() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN IF NEW.id = 7 THEN RAISE EXCEPTION 'seven refused at commit'; END IF; RETURN NEW; END $$"
    )
    await db.execute(
        'CREATE CONSTRAINT TRIGGER seven AFTER INSERT OR UPDATE ON "items_fail" DEFERRABLE INITIALLY DEFERRED '
        "FOR EACH ROW EXECUTE FUNCTION no_seven()"
    )
    first = [item(o, o % 800, o) for o in range(2000)]
    records = [item(2000 + o, o % 800, 5000 + o) for o in range(2000)]
    task = await started(db, "items_fail", 2)
    try:
        await task.put([r for r in first if r.key.values[0] != 7])
        with pytest.raises(Exception, match="seven refused at commit"):
            await task.put(records)
        rows = dict(await db.rows('SELECT "id", "qty" FROM "items_fail"'))
        updated = {k for k, q in rows.items() if q >= 5000}
        assert 7 not in rows
        assert updated and len(updated) < 799  # one lane committed the put's rows, the other none
        assert task.db is not None
        first_put = len(first) - sum(r.key.values[0] == 7 for r in first)
        committed = sum(r.key.values[0] in updated for r in records)  # the committed lane's records
        assert sum(task.db.rows_written.values()) == first_put + committed
        await db.execute('DROP TRIGGER seven ON "items_fail"')
        await task.put(records)  # the redelivery
        assert sum(task.db.rows_written.values()) == first_put + committed + len(records)
    finally:
        await task.stop()
    assert sorted(await db.rows('SELECT "id", "name", "qty" FROM "items_fail"')) == last_per_key(first + records)


async def test_a_refused_second_connection_leaves_the_task_on_one(db: Db) -> None:
    """A role allowed one connection: the lane's connection is refused, the task warns and writes through its own."""
    role = f"lanes_{uuid.uuid4().hex[:8]}"
    database = db.server.database
    await db.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw' CONNECTION LIMIT 1")
    await db.execute(f'GRANT ALL ON DATABASE "{database}" TO {role}')
    await db.execute(f"GRANT ALL ON SCHEMA public TO {role}")
    records = stream(3000, 400, seed=7)
    task = await started(db, "items_limited", 2, **{"connection.user": role, "connection.password": "pw"})
    try:
        await task.put(records[:1500])
        await task.put(records[1500:])
        assert await lanes_used(task) == 1
        assert task.db is not None and task.db.lanes.disabled
    finally:
        await task.stop()
    assert sorted(await db.rows('SELECT "id", "name", "qty" FROM "items_limited"')) == last_per_key(records)


async def test_a_lane_waiting_for_the_others_row_does_not_hang(db: Db) -> None:
    """Another unique column: key 1 (one lane) gives up the value 'v' that key 2 (the other lane, hash parity)
    takes later in the same put. Key 2's insert may wait for key 1's transaction, which must commit without waiting
    for key 2's lane; or key 2's lane goes first and fails, and the redelivered put then succeeds."""
    await db.execute('CREATE TABLE "items_unique" ("id" INT PRIMARY KEY, "name" TEXT UNIQUE, "qty" INT)')
    task = await started(db, "items_unique", 2, **{"delete.enabled": "false"})
    ids = [i for i in range(3, 2003)]
    try:
        await task.put([item(0, 1, 0), *(item(i, i, i) for i in ids)])  # key 1 named n0
        named = SinkRecord("items", 0, KEY, Struct(KEY, [2]), ITEM, Struct(ITEM, [2, "n0", 2]), 5000)
        put = [item(4000, 1, 1), *(item(4000 + i, i, -i) for i in ids), named]
        for attempt in range(3):  # the worker's redelivery (max.retries)
            try:
                await asyncio.wait_for(task.put(put), 120)
                break
            except TimeoutError:
                raise
            except Exception:
                assert attempt < 2
    finally:
        await task.stop()
    rows = dict((r[0], r[1]) for r in await db.rows('SELECT "id", "name" FROM "items_unique"'))
    assert rows[1] == "n4000" and rows[2] == "n0" and len(rows) == 2 + len(ids)


FKEY = Schema.struct([("k", FLOAT64_SCHEMA)], name="fkey")
FITEM = Schema.struct([("k", FLOAT64_SCHEMA), ("qty", INT32_SCHEMA)], name="fitem")


def float_keys(n: int) -> list[float]:
    """n float keys: 300 ordinary ones, and every 7th a NaN (a new object each, every other with its sign bit set),
    every 11th -0.0 or 0.0: keys that PostgreSQL's unique index holds equal though Python's hash and Arrow's
    grouping tell them apart."""
    keys = []
    for i in range(n):
        if i % 7 == 0:
            keys.append(float("nan") if i % 2 else -float("nan"))
        elif i % 11 == 0:
            keys.append(-0.0 if i % 2 else 0.0)
        else:
            keys.append(float(i % 300) + 0.5)
    return keys


def last_qty_per_float_key(keys: list[float], qtys: list[int]) -> list[tuple[str, int]]:
    last = {("nan" if math.isnan(k) else repr(k + 0.0)): q for k, q in zip(keys, qtys)}
    return sorted(last.items())


async def float_rows(db: Db, table: str) -> list[tuple[str, int]]:
    rows = await db.rows(f'SELECT "k", "qty" FROM "{table}"')
    return sorted(("nan" if math.isnan(k) else repr(k + 0.0), q) for k, q in rows)


async def test_nan_and_signed_zero_keys_are_one_key_each_on_the_record_path(db: Db) -> None:
    """Records keyed by NaN (each its own float object, hashed by identity) and by -0.0 / 0.0 are upserted over two
    connections as PostgreSQL compares the keys: one row each, with the last record's value."""
    keys = float_keys(6000)
    records = [
        SinkRecord("items", 0, FKEY, Struct(FKEY, [k]), FITEM, Struct(FITEM, [k, o]), o) for o, k in enumerate(keys)
    ]
    task = await started(db, "items_float", 2, **{"delete.enabled": "false"})
    try:
        for lo in range(0, len(records), 3000):
            await task.put(records[lo : lo + 3000])
        assert await lanes_used(task) == 2
    finally:
        await task.stop()
    expected = last_qty_per_float_key(keys, list(range(len(keys))))
    assert len(expected) == 302
    assert await float_rows(db, "items_float") == expected


async def test_nan_and_signed_zero_keys_are_one_key_each_on_the_column_path(db: Db) -> None:
    """The same keys as Arrow columns, the NaNs with and without their sign bit and -0.0 next to 0.0: the put is
    written as columns over two connections (not refused), one row per key as PostgreSQL compares them."""
    import pyarrow as pa

    keys = float_keys(3000)
    for round_, qty in enumerate((0, 10_000)):
        qtys = [qty + i for i in range(len(keys))]
        values = pa.table({"k": pa.array(keys, pa.float64()), "qty": pa.array(qtys, pa.int32())})
        n = len(keys)
        batch = ColumnBatch("t", [0] * n, list(range(n)), [0] * n, None, None, FITEM, values)
        task = await task_for(
            db,
            "items_float_columns",
            **{"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "k", "upsert.connections": "2"},
        )
        try:
            assert await task.put_columns([batch]), f"round {round_}: the column path refused the put"
            assert await lanes_used(task) == 2
            assert task.db is not None and sum(task.db.rows_written.values()) == n
        finally:
            await task.stop()
        assert await float_rows(db, "items_float_columns") == last_qty_per_float_key(keys, qtys)
