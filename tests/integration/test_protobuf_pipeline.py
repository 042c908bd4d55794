"""PostgreSQL -> JDBC source -> Protobuf topic -> JDBC sink -> MariaDB through a real `miniconnect standalone` worker
that serves the Schema Registry itself, on the embedded log: the rows arrive (NULLs too, with
optional.for.nullables), a column added to the source table reaches the sink table by auto.evolve (schema version 2),
and records that are not Protobuf of a known schema fail the task naming topic/partition/offset, or go to the dead
letter queue."""

from __future__ import annotations

import datetime as dt
import decimal

import httpx
from helpers.log_records import consume, produce
from helpers.registry_pipeline import connector, failed_trace, registry_worker, sink_rows
from helpers.source_e2e import sql

PROTOBUF = "io.confluent.connect.protobuf.ProtobufConverter"
SOURCE_TABLE = """CREATE TABLE products (
    id serial PRIMARY KEY, i16 smallint NOT NULL, i64 bigint, r real, d double precision, n numeric(12,3),
    b boolean, t text NOT NULL, v varchar(20), by bytea, day date, tm time(3), ts timestamp(3))"""
ROWS = [
    "(1, -32768, 9223372036854775807, 1.5, -2.25, 123456789.123, true, 'héllo, 世界 \U0001f600', 'v', "
    "'\\x00ff10'::bytea, '2023-11-14', '12:34:56.789', '2023-11-14 22:13:20.123')",
    "(2, 7, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL)",
    "(3, 0, -1, 0, 1e300, -0.001, false, 'quote '' and \\ back', '', '\\x'::bytea, '1969-12-31', '00:00:00', "
    "'1969-12-31 23:59:59.999')",
]


def test_postgres_to_protobuf_to_mariadb_with_auto_evolve(tmp_path, pg_db, mysql_db):
    sql(pg_db, SOURCE_TABLE, f"INSERT INTO products VALUES {', '.join(ROWS)}")
    worker, url = registry_worker(tmp_path, PROTOBUF, {"optional.for.nullables": "true"})
    worker.start(timeout=60)
    try:
        source = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            **pg_db.connection_config(),
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": "products",
            "topic.prefix": "shop_",
            "poll.interval.ms": "200",
        }
        connector(worker, "pg-source", source)
        sink = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            **mysql_db.connection_config(scheme="mariadb"),
            "auto.create": "true",
            "auto.evolve": "true",
            "topics": "shop_products",
            "table.name.format": "products",
        }
        connector(worker, "maria-sink", sink)
        columns = "id, i16, i64, r, d, n, b, t, v, `by`, day, tm, ts"
        got = worker.wait_for(lambda: len(rows := sink_rows(mysql_db, "products", columns)) == 3 and rows, 90, "3 rows")
        want = sql(pg_db, f"SELECT {columns.replace('`', '')} FROM products ORDER BY id")
        for g, w in zip(got, want, strict=True):
            assert (g[0], g[1], g[2]) == (w[0], w[1], w[2])
            assert g[3] == w[3] or (g[3] is not None and abs(g[3] - w[3]) < 1e-6)
            assert g[4] == w[4]
            assert g[5] == w[5]  # numeric(12,3) -> confluent.type.Decimal, exactly
            assert (None if g[6] is None else bool(g[6])) == w[6]
            assert (g[7], g[8]) == (w[7], w[8])
            assert (None if g[9] is None else bytes(g[9])) == (None if w[9] is None else bytes(w[9]))
            assert g[10] == w[10]
            assert (None if g[11] is None else (dt.datetime.min + g[11]).time()) == w[11]
            assert g[12] == w[12]
        assert got[0][5] == decimal.Decimal("123456789.123") and got[0][7] == "héllo, 世界 \U0001f600"
        assert got[1][2:7] == (None, None, None, None, None)  # NULLs stay NULL: proto3 `optional` fields

        # the records are Confluent-framed Protobuf of a schema our registry holds
        latest = httpx.get(f"{url}/subjects/shop_products-value/versions/latest").json()
        assert latest["schemaType"] == "PROTOBUF" and "message products {" in latest["schema"]
        assert "optional int64 i64 = 3;" in latest["schema"]

        # a column added at the source reaches the sink by auto.evolve
        sql(
            pg_db,
            "ALTER TABLE products ADD COLUMN note text",
            "INSERT INTO products (id, i16, t, note) VALUES (4, 4, 'four', 'new')",
        )
        worker.wait_for(lambda: sink_rows(mysql_db, "products", "id, note")[-1:] == [(4, "new")], 90, "the evolved row")
        assert sink_rows(mysql_db, "products", "id, note")[:3] == [(1, None), (2, None), (3, None)]
        assert httpx.get(f"{url}/subjects/shop_products-value/versions").json() == [1, 2]
        status = worker.rest("GET", "/connectors/maria-sink/status").json()
        assert [t["state"] for t in status["tasks"]] == ["RUNNING"]
    finally:
        worker.stop()


def test_bad_records_fail_the_task_or_go_to_the_dead_letter_queue(tmp_path, mysql_db):
    worker, url = registry_worker(tmp_path, PROTOBUF)
    worker.start(timeout=60)
    try:
        # good records, registered through our converter against the worker's registry, and three bad ones
        from miniconnect.converters.protobuf import ProtobufConverter
        from miniconnect.data.schema import INT32_SCHEMA, STRING_SCHEMA, Schema, Struct

        conv = ProtobufConverter()
        conv.configure({"schema.registry.url": url}, False)
        schema = Schema.struct([("id", INT32_SCHEMA), ("name", STRING_SCHEMA)], name="things")
        good = [conv.from_connect_data("things", schema, Struct(schema, [i, f"n{i}"])) for i in (1, 2)]
        bad = [
            b"\x01" + good[0][1:],  # wrong magic byte
            b"\x00\x00\x00\x7f\xff" + good[0][5:],  # unknown schema id
            good[0][:5] + b"\x01" + good[0][6:],  # corrupt message-index list (count -1)
        ]
        for name in ("things", "things_dlq"):
            produce(tmp_path, None, name, [good[0], *bad, good[1]])
        sink = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            **mysql_db.connection_config(scheme="mariadb"),
            "auto.create": "true",
            "tasks.max": "1",
        }
        connector(worker, "strict", {**sink, "topics": "things", "table.name.format": "strict_things"})
        trace = failed_trace(worker, "strict")
        assert "topic 'things', partition 0, offset 1" in trace and "Unknown magic byte" in trace
        assert sink_rows(mysql_db, "strict_things", "id") in ([], [(1,)])  # nothing past the bad record

        connector(
            worker,
            "tolerant",
            {
                **sink,
                "topics": "things_dlq",
                "table.name.format": "tolerant_things",
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": "dlq",
                "errors.deadletterqueue.topic.replication.factor": "1",
                "errors.deadletterqueue.context.headers.enable": "true",
            },
        )
        worker.wait_for(lambda: sink_rows(mysql_db, "tolerant_things", "id") == [(1,), (2,)], 60, "the good rows")
        dead = worker.wait_for(lambda: len(r := consume(tmp_path, None, "dlq")) == 3 and r, 60, "3 in the DLQ")
        assert [r.value for r in dead] == bad
        headers = [dict(r.headers) for r in dead]
        messages = [h["__connect.errors.exception.message"].decode() for h in headers]
        assert "Unknown magic byte" in messages[0]
        assert "schema for id 32767" in messages[1] and "40403" in messages[1]
        assert "corrupt message-index list" in messages[2]
        assert [h["__connect.errors.offset"] for h in headers] == [b"1", b"2", b"3"]
        assert {h["__connect.errors.topic"] for h in headers} == {b"things_dlq"}
    finally:
        worker.stop()
