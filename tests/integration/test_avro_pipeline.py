"""PostgreSQL -> JDBC source -> Avro topic -> JDBC sink -> MariaDB through a real `miniconnect standalone` worker that
serves the Schema Registry itself (schema.registry.listeners), on the embedded log and on Kafka: the rows arrive,
a column added to the source table reaches the sink table by auto.evolve (schema version 2), and records that are not
Avro of a known schema fail the task naming topic/partition/offset, or go to the dead letter queue."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.log_records import consume, produce
from registry_testkit import free_port, running_registry
from servers import DbServer
from test_jdbc_source_e2e import sql
from worker_process import WorkerProcess

from miniconnect.config.properties import load_properties

CONFIG = Path(__file__).resolve().parents[2] / "config"
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


def connector(worker: WorkerProcess, name: str, config: dict[str, Any]) -> None:
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    assert r.status_code == 201, r.text


def sink_rows(mysql_db: DbServer, table: str, columns: str) -> list[tuple]:
    try:
        return sql(mysql_db, f"SELECT {columns} FROM `{table}` ORDER BY id")
    except Exception:
        return []


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
        columns = "id, i16, i64, r, d, n, b, t, v, `by`, day, tm, ts"
        got = worker.wait_for(lambda: len(rows := sink_rows(mysql_db, "products", columns)) == 3 and rows, 90, "3 rows")
        want = sql(pg_db, f"SELECT {columns.replace('`', '')} FROM products ORDER BY id")
        for g, w in zip(got, want, strict=True):
            assert (g[0], g[1], g[2]) == (w[0], w[1], w[2])
            assert g[3] == w[3] or (g[3] is not None and abs(g[3] - w[3]) < 1e-6)
            assert g[4] == w[4]
            assert g[5] == w[5]  # numeric(12,3) -> Decimal, exactly
            assert (None if g[6] is None else bool(g[6])) == w[6]
            assert (g[7], g[8]) == (w[7], w[8])
            assert (None if g[9] is None else bytes(g[9])) == (None if w[9] is None else bytes(w[9]))
            assert g[10] == w[10]
            assert (None if g[11] is None else (dt.datetime.min + g[11]).time()) == w[11]
            assert g[12] == w[12]
        assert got[0][5] == decimal.Decimal("123456789.123") and got[0][7] == "héllo, 世界 \U0001f600"

        # the records are Confluent-framed Avro of a schema our registry holds
        subjects = httpx.get(f"{url}/subjects").json()
        assert f"{topic}-value" in subjects
        registered = json.loads(httpx.get(f"{url}/subjects/{topic}-value/versions/latest").json()["schema"])
        if converter:
            assert registered["type"] == "object" and registered["title"] == "products"
        else:
            assert registered["type"] == "record" and registered["connect.name"] == "products"

        # a column added at the source reaches the sink by auto.evolve
        sql(
            pg_db,
            "ALTER TABLE products ADD COLUMN note text",
            "INSERT INTO products (id, i16, t, note) VALUES (4, 4, 'four', 'new')",
        )
        worker.wait_for(lambda: sink_rows(mysql_db, "products", "id, note")[-1:] == [(4, "new")], 90, "the evolved row")
        assert sink_rows(mysql_db, "products", "id, note")[:3] == [(1, None), (2, None), (3, None)]
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
        # one good record, registered through our converter's registry, then three bad ones
        from miniconnect.converters.avro import AvroConverter
        from miniconnect.data.schema import INT32_SCHEMA, STRING_SCHEMA, Schema, Struct

        conv = AvroConverter()
        conv.configure({"schema.registry.url": url}, False)
        schema = Schema.struct([("id", INT32_SCHEMA), ("name", STRING_SCHEMA)], name="things")
        good = [conv.from_connect_data("things", schema, Struct(schema, [i, f"n{i}"])) for i in (1, 2)]
        bad = [
            b"\x01" + good[0][1:],  # wrong magic byte
            b"\x00\x00\x00\x7f\xff" + good[0][5:],  # unknown schema id
            good[0][:-2],  # truncated
        ]
        for name in (topic, f"{topic}_dlq"):
            produce(tmp_path, bootstrap, name, [good[0], *bad, good[1]])
        sink = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            **mysql_db.connection_config(scheme="mariadb"),
            "auto.create": "true",
            "tasks.max": "1",
        }
        connector(worker, "strict", {**sink, "topics": topic, "table.name.format": "strict_things"})
        trace = worker.wait_for(
            lambda: (
                (t := worker.rest("GET", "/connectors/strict/status").json()["tasks"])
                and t[0]["state"] == "FAILED"
                and t[0]["trace"]
            ),
            60,
            "the strict task FAILED",
        )
        assert f"topic '{topic}', partition 0, offset 1" in trace and "Unknown magic byte" in trace
        assert sink_rows(mysql_db, "strict_things", "id") in ([], [(1,)])  # nothing past the bad record

        connector(
            worker,
            "tolerant",
            {
                **sink,
                "topics": f"{topic}_dlq",
                "table.name.format": "tolerant_things",
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": dlq,
                "errors.deadletterqueue.topic.replication.factor": "1",
                "errors.deadletterqueue.context.headers.enable": "true",
            },
        )
        worker.wait_for(lambda: sink_rows(mysql_db, "tolerant_things", "id") == [(1,), (2,)], 60, "the good rows")
        dead = worker.wait_for(lambda: len(r := consume(tmp_path, bootstrap, dlq)) == 3 and r, 60, "3 in the DLQ")
        assert [r.value for r in dead] == bad
        messages = [dict(r.headers)["__connect.errors.exception.message"].decode() for r in dead]
        assert "Unknown magic byte" in messages[0]
        assert "schema for id 32767" in messages[1] and "40403" in messages[1]
        assert "truncated" in messages[2] or "do not match" in messages[2]
        assert {dict(r.headers)["__connect.errors.topic"] for r in dead} == {f"{topic}_dlq".encode()}
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
