"""Pipelines through a real `miniconnect standalone` worker that serves the Schema Registry itself
(schema.registry.listeners) on the embedded log, with a schema-registry converter as key and value converter:
the worker, its connectors, the sink table's rows and a task's FAILED trace (records in and out of its log:
helpers.log_records)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from registry_testkit import free_port
from servers import DbServer
from worker_process import WorkerProcess

from helpers.log_records import consume, produce
from helpers.source_e2e import sql
from miniconnect.converters.base import Converter
from miniconnect.data.schema import INT32_SCHEMA, STRING_SCHEMA, Schema, Struct

# the source table of the pipeline tests: every column type the JDBC source maps, NULLs, unicode, quotes
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
COLUMNS = "id, i16, i64, r, d, n, b, t, v, `by`, day, tm, ts"


def registry_worker(
    tmp_path: Path, converter: str, converter_config: Mapping[str, str] | None = None
) -> tuple[WorkerProcess, str]:
    """A worker on the embedded log in tmp_path/log serving its registry on a free port; (worker, registry URL)."""
    url = f"http://127.0.0.1:{free_port()}"
    extra = {"schema.registry.listeners": url}
    for side in ("key", "value"):
        extra[f"{side}.converter"] = converter
        extra[f"{side}.converter.schema.registry.url"] = url
        extra.update({f"{side}.converter.{k}": v for k, v in (converter_config or {}).items()})
    return WorkerProcess(tmp_path, extra=extra), url


def connector(worker: WorkerProcess, name: str, config: dict[str, Any]) -> None:
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    assert r.status_code == 201, r.text


def sink_rows(mysql_db: DbServer, table: str, columns: str) -> list[tuple]:
    """The table's rows ordered by id ([] while the sink has not created it)."""
    try:
        return sql(mysql_db, f"SELECT {columns} FROM `{table}` ORDER BY id")
    except Exception:
        return []


def failed_trace(worker: WorkerProcess, name: str, timeout: float = 60) -> str:
    """The trace of the connector's first task once it is FAILED."""
    return worker.wait_for(  # type: ignore[no-any-return]
        lambda: (
            (t := worker.rest("GET", f"/connectors/{name}/status").json()["tasks"])
            and t[0]["state"] == "FAILED"
            and t[0]["trace"]
        ),
        timeout,
        f"the task of {name} FAILED",
    )


def assert_rows_copied(worker: WorkerProcess, pg_db: DbServer, mysql_db: DbServer) -> list[tuple]:
    """Waits for the three source ROWS in the MariaDB table `products` and checks them column by column against
    PostgreSQL's (MariaDB's types where they differ: tinyint booleans, time as timedelta); the sink's rows."""
    got = worker.wait_for(lambda: len(rows := sink_rows(mysql_db, "products", COLUMNS)) == 3 and rows, 90, "3 rows")
    want = sql(pg_db, f"SELECT {COLUMNS.replace('`', '')} FROM products ORDER BY id")
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
    return got  # type: ignore[no-any-return]


def assert_column_added_reaches_the_sink(worker: WorkerProcess, pg_db: DbServer, mysql_db: DbServer) -> None:
    """A column added to the source table, and a row that fills it, reach the sink table by auto.evolve."""
    sql(
        pg_db,
        "ALTER TABLE products ADD COLUMN note text",
        "INSERT INTO products (id, i16, t, note) VALUES (4, 4, 'four', 'new')",
    )
    worker.wait_for(lambda: sink_rows(mysql_db, "products", "id, note")[-1:] == [(4, "new")], 90, "the evolved row")
    assert sink_rows(mysql_db, "products", "id, note")[:3] == [(1, None), (2, None), (3, None)]


def bad_records_fail_or_go_to_the_dlq(
    worker: WorkerProcess,
    tmp_path: Path,
    bootstrap: str | None,
    mysql_db: DbServer,
    conv: Converter,
    corrupt: Callable[[bytes], bytes],
    topic: str = "things",
    dlq: str = "dlq",
) -> list[dict[str, bytes]]:
    """Two records `conv` writes around three bad ones (a wrong magic byte, an unknown schema id, `corrupt` of the
    first good record), in `topic` and `{topic}_dlq`: a strict sink's task FAILS naming the first bad record's
    topic/partition/offset and writes nothing past it; a tolerant one with a dead letter queue `dlq` writes both good
    rows and sends the three bad records there, in order. The dead letters' headers."""
    schema = Schema.struct([("id", INT32_SCHEMA), ("name", STRING_SCHEMA)], name="things")
    good = [conv.from_connect_data("things", schema, Struct(schema, [i, f"n{i}"])) for i in (1, 2)]
    assert good[0] is not None and good[1] is not None
    bad = [b"\x01" + good[0][1:], b"\x00\x00\x00\x7f\xff" + good[0][5:], corrupt(good[0])]
    for name in (topic, f"{topic}_dlq"):
        produce(tmp_path, bootstrap, name, [good[0], *bad, good[1]])
    sink = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        **mysql_db.connection_config(scheme="mariadb"),
        "auto.create": "true",
        "tasks.max": "1",
    }
    connector(worker, "strict", {**sink, "topics": topic, "table.name.format": "strict_things"})
    trace = failed_trace(worker, "strict")
    assert f"topic '{topic}', partition 0, offset 1" in trace and "Unknown magic byte" in trace
    assert sink_rows(mysql_db, "strict_things", "id") in ([], [(1,)])  # nothing past the bad record

    tolerant = {
        **sink,
        "topics": f"{topic}_dlq",
        "table.name.format": "tolerant_things",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }
    connector(worker, "tolerant", tolerant)
    worker.wait_for(lambda: sink_rows(mysql_db, "tolerant_things", "id") == [(1,), (2,)], 60, "the good rows")
    dead = worker.wait_for(lambda: len(r := consume(tmp_path, bootstrap, dlq)) == 3 and r, 60, "3 in the DLQ")
    assert [r.value for r in dead] == bad
    headers = [dict(r.headers) for r in dead]
    messages = [h["__connect.errors.exception.message"].decode() for h in headers]
    assert "Unknown magic byte" in messages[0]
    assert "schema for id 32767" in messages[1] and "40403" in messages[1]
    assert [h["__connect.errors.offset"] for h in headers] == [b"1", b"2", b"3"]
    assert {h["__connect.errors.topic"] for h in headers} == {f"{topic}_dlq".encode()}
    return headers
