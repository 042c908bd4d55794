"""PostgreSQL -> JDBC source -> Avro topic -> JDBC sink -> MariaDB through a real `miniconnect standalone` worker that
serves the Schema Registry itself (schema.registry.listeners), on the embedded log and on Kafka: the rows arrive,
a column added to the source table reaches the sink table by auto.evolve (schema version 2), and records that are not
Avro of a known schema fail the task naming topic/partition/offset, or go to the dead letter queue."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from helpers.log_records import consume, produce
from helpers.registry_pipeline import (
    ROWS,
    SOURCE_TABLE,
    assert_column_added_reaches_the_sink,
    assert_rows_copied,
    bad_records_fail_or_go_to_the_dlq,
    connector,
)
from helpers.source_e2e import sql
from registry_testkit import free_port, running_registry
from worker_process import WorkerProcess

from miniconnect.config.properties import load_properties
from miniconnect.converters.avro import AvroConverter
from miniconnect.data.schema import FLOAT64_SCHEMA, INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, Schema, Struct

CONFIG = Path(__file__).resolve().parents[2] / "config"


def avro_worker(tmp_path: Path, bootstrap: str | None = None, converter: str = "") -> tuple[WorkerProcess, str]:
    """The README's worker file (config/connect-standalone-avro.properties), its ports and directories moved into
    the test's; `converter`: another key and value converter class than its AvroConverter."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    props = load_properties(str(CONFIG / "connect-standalone-avro.properties"))
    extra = {k: v.replace("http://localhost:8081", url) for k, v in props.items() if "storage" not in k}
    extra["schema.registry.listeners"] = url
    for key in ("listeners", "embedded.log.dir"):
        extra.pop(key)
    if bootstrap:
        extra["bootstrap.servers"] = bootstrap
        extra["schema.registry.topic"] = f"_schemas_{uuid.uuid4().hex[:8]}"
    if converter:
        extra["key.converter"] = extra["value.converter"] = converter
    return WorkerProcess(tmp_path, extra=extra), url


def config_file(name: str, **changes: str) -> dict[str, str]:
    """The config of one of the README's connector files (config/avro/), with test settings."""
    return {**json.loads((CONFIG / "avro" / name).read_text())["config"], **changes}


@pytest.mark.parametrize(
    "log, converter",
    [("embedded", ""), ("kafka", ""), ("embedded", "io.confluent.connect.json.JsonSchemaConverter")],
)
def test_postgres_to_avro_to_mariadb_with_auto_evolve(log, converter, request, tmp_path, pg_db, mysql_db):
    """(also with JsonSchemaConverter in place of AvroConverter)"""
    bootstrap = request.getfixturevalue("kafka_bootstrap") if log == "kafka" else None
    # config/avro/jdbc-source-postgres.json's topic.prefix; on the session's Kafka, topics of this test's own
    prefix = "shop_" if log == "embedded" else f"shop_{uuid.uuid4().hex[:8]}_"
    topic = f"{prefix}products"
    sql(pg_db, SOURCE_TABLE, f"INSERT INTO products VALUES {', '.join(ROWS)}")
    worker, url = avro_worker(tmp_path, bootstrap, converter)
    worker.start(timeout=60)
    try:
        source = config_file("jdbc-source-postgres.json", **pg_db.connection_config())
        connector(
            worker,
            "pg-source",
            {**source, "table.whitelist": "products", "topic.prefix": prefix, "poll.interval.ms": "200"},
        )
        # the seed's sink config (config/avro/jdbc-sink-mariadb.json), converter keys aside: they come from the worker
        sink = config_file("jdbc-sink-mariadb.json", **mysql_db.connection_config(scheme="mariadb"))
        connector(worker, "maria-sink", {**sink, "topics": topic, "table.name.format": "products"})
        assert_rows_copied(worker, pg_db, mysql_db)

        # the records are Confluent-framed Avro of a schema our registry holds
        subjects = httpx.get(f"{url}/subjects").json()
        assert f"{topic}-value" in subjects
        registered = json.loads(httpx.get(f"{url}/subjects/{topic}-value/versions/latest").json()["schema"])
        if converter:
            assert registered["type"] == "object" and registered["title"] == "products"
        else:
            assert registered["type"] == "record" and registered["connect.name"] == "products"

        assert_column_added_reaches_the_sink(worker, pg_db, mysql_db)
        assert httpx.get(f"{url}/subjects/{topic}-value/versions").json() == [1, 2]
        status = worker.rest("GET", "/connectors/maria-sink/status").json()
        assert [t["state"] for t in status["tasks"]] == ["RUNNING"]
    finally:
        worker.stop()


@pytest.mark.parametrize("log", ["embedded", "kafka"])
def test_bad_records_fail_the_task_or_go_to_the_dead_letter_queue(log, request, tmp_path, mysql_db):
    bootstrap = request.getfixturevalue("kafka_bootstrap") if log == "kafka" else None
    topic, dlq = (f"things_{uuid.uuid4().hex[:8]}", f"dlq_{uuid.uuid4().hex[:8]}") if bootstrap else ("things", "dlq")
    worker, url = avro_worker(tmp_path, bootstrap)
    worker.start(timeout=60)
    try:
        conv = AvroConverter()
        conv.configure({"schema.registry.url": url}, False)
        truncated = bad_records_fail_or_go_to_the_dlq(
            worker, tmp_path, bootstrap, mysql_db, conv, lambda good: good[:-2], topic, dlq
        )[2]
        message = truncated["__connect.errors.exception.message"].decode()
        assert "truncated" in message or "do not match" in message
    finally:
        worker.stop()


def test_registry_down_holds_the_source_task_and_nothing_is_lost(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    worker = WorkerProcess(
        tmp_path,
        extra={
            "value.converter": "io.confluent.connect.avro.AvroConverter",
            "value.converter.schema.registry.url": url,
            "value.converter.retries.wait.ms": "100",
            "value.converter.retries.max.wait.ms": "500",
        },
    )
    lines = tmp_path / "in.txt"
    lines.write_text("one\ntwo\nthree\n")
    worker.start(timeout=60)
    try:
        connector(worker, "lines", {"connector.class": "FileStreamSource", "file": str(lines), "topic": "lines"})
        trace = worker.wait_for(
            lambda: (
                (t := worker.rest("GET", "/connectors/lines/status").json()["tasks"])
                and t[0]["state"] == "RUNNING"
                and "attempt 2" in (t[0].get("trace") or "")
                and t[0]["trace"]
            ),
            60,
            "the source task waiting for the registry",
        )
        assert f"Schema Registry at {url} is unreachable" in trace and "topic 'lines'" in trace
        assert consume(tmp_path, None, "lines") == []
        # the registry comes up: the task, never restarted, sends every line, none lost
        with running_registry(tmp_path / "registry", port=port):
            records = worker.wait_for(lambda: len(r := consume(tmp_path, None, "lines")) == 3 and r, 60, "3 records")
            from miniconnect.converters.avro import AvroConverter

            conv = AvroConverter()
            conv.configure({"schema.registry.url": url}, False)
            assert [conv.to_connect_data("lines", r.value)[1] for r in records] == ["one", "two", "three"]
    finally:
        worker.stop()


@pytest.mark.parametrize("log", ["embedded", "kafka"])
def test_transformed_records_in_large_batches(log, request, tmp_path, pg_db):
    """A transform keeps the sink on the record path, where batches of 256 records or more of a flat Avro schema are
    read by polars (checked); a record with a byte after its datum, in the third batch, goes to the dead letter
    queue with the record path's message and every other row arrives, renamed."""
    bootstrap = request.getfixturevalue("kafka_bootstrap") if log == "kafka" else None
    suffix = uuid.uuid4().hex[:8]
    topic, dlq, table = f"orders_{suffix}", f"orders_dlq_{suffix}", f"orders_{suffix}"
    worker, url = avro_worker(tmp_path, bootstrap)
    worker.start(timeout=60)
    try:
        conv = AvroConverter()
        conv.configure({"schema.registry.url": url}, False)
        schema = Schema.struct(
            [("id", INT32_SCHEMA), ("name", OPTIONAL_STRING_SCHEMA), ("price", FLOAT64_SCHEMA)], name="orders"
        )
        values = [Struct(schema, [i, None if i % 5 == 0 else f"n{i} 'é\\", i / 4]) for i in range(1200)]
        records = conv.from_connect_batch(topic, [schema] * len(values), values)
        bad = records[1000] + b"\x00"
        produce(tmp_path, bootstrap, topic, [*records[:1000], bad, *records[1001:]])
        connector(
            worker,
            "renaming-sink",
            {
                "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
                **pg_db.connection_config(),
                "topics": topic,
                "table.name.format": table,
                "auto.create": "true",
                "tasks.max": "1",
                "transforms": "rename",
                "transforms.rename.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
                "transforms.rename.renames": "name:label",
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": dlq,
                "errors.deadletterqueue.topic.replication.factor": "1",
                "errors.deadletterqueue.context.headers.enable": "true",
            },
        )
        count = f'SELECT COUNT(*) FROM "{table}"'
        worker.wait_for(lambda: _rows(pg_db, count) == [(1199,)], 90, "1199 rows")
        rows = _rows(pg_db, f'SELECT id, label, price FROM "{table}" ORDER BY id')
        assert rows == [(i, None if i % 5 == 0 else f"n{i} 'é\\", i / 4) for i in range(1200) if i != 1000]
        dead = worker.wait_for(lambda: (r := consume(tmp_path, bootstrap, dlq)) and r, 60, "the dead letter")
        assert [r.value for r in dead] == [bad]
        headers = dict(dead[0].headers)
        assert headers["__connect.errors.offset"] == b"1000"
        assert "bytes after the datum" in headers["__connect.errors.exception.message"].decode()
    finally:
        worker.stop()


def _rows(server, query: str) -> list[tuple]:
    try:
        return sql(server, query)
    except asyncpg.UndefinedTableError:  # auto.create has not made it yet
        return []
