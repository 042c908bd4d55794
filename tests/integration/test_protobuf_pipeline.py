"""PostgreSQL -> JDBC source -> Protobuf topic -> JDBC sink -> MariaDB through a real `miniconnect standalone` worker
that serves the Schema Registry itself, on the embedded log: the rows arrive (NULLs too, with
optional.for.nullables), a column added to the source table reaches the sink table by auto.evolve (schema version 2),
and records that are not Protobuf of a known schema fail the task naming topic/partition/offset, or go to the dead
letter queue."""

from __future__ import annotations

import httpx
from helpers.registry_pipeline import (
    ROWS,
    SOURCE_TABLE,
    assert_column_added_reaches_the_sink,
    assert_rows_copied,
    bad_records_fail_or_go_to_the_dlq,
    connector,
    registry_worker,
)
from helpers.source_e2e import sql

from miniconnect.converters.protobuf import ProtobufConverter

PROTOBUF = "io.confluent.connect.protobuf.ProtobufConverter"


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
        got = assert_rows_copied(worker, pg_db, mysql_db)
        assert got[1][2:7] == (None, None, None, None, None)  # NULLs stay NULL: proto3 `optional` fields

        # the records are Confluent-framed Protobuf of a schema our registry holds
        latest = httpx.get(f"{url}/subjects/shop_products-value/versions/latest").json()
        assert latest["schemaType"] == "PROTOBUF" and "message products {" in latest["schema"]
        assert "optional int64 i64 = 3;" in latest["schema"]

        assert_column_added_reaches_the_sink(worker, pg_db, mysql_db)
        assert httpx.get(f"{url}/subjects/shop_products-value/versions").json() == [1, 2]
        status = worker.rest("GET", "/connectors/maria-sink/status").json()
        assert [t["state"] for t in status["tasks"]] == ["RUNNING"]
    finally:
        worker.stop()


def test_bad_records_fail_the_task_or_go_to_the_dead_letter_queue(tmp_path, mysql_db):
    worker, url = registry_worker(tmp_path, PROTOBUF)
    worker.start(timeout=60)
    try:
        conv = ProtobufConverter()
        conv.configure({"schema.registry.url": url}, False)
        corrupt = bad_records_fail_or_go_to_the_dlq(
            worker,
            tmp_path,
            None,
            mysql_db,
            conv,
            lambda good: good[:5] + b"\x01" + good[6:],  # message indexes: -1
        )[2]
        assert "corrupt message-index list" in corrupt["__connect.errors.exception.message"].decode()
    finally:
        worker.stop()
