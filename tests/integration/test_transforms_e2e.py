"""Transforms and error tolerance end to end through a real worker on the embedded log: a JDBC source (SQLite) keyed
by ValueToKey + ExtractField$Key with its topic renamed by RegexRouter; a Filter with TopicNameMatches; a sink with
errors.tolerance=all whose bad records land in a dead letter queue topic with Kafka's error context headers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from worker_process import WorkerProcess

from miniconnect.cli import load_worker_config, make_transport


async def _read_topic(props: Path, topic: str, want: int) -> list[Any]:
    transport = make_transport(load_worker_config(str(props), []))
    await transport.start()
    try:
        consumer = transport.consumer(f"reader-{uuid.uuid4().hex[:8]}", {"auto.offset.reset": "earliest"})
        await consumer.start()
        await consumer.subscribe([topic])
        out: list[Any] = []
        for _ in range(120):
            out += await consumer.poll(1000, 250)
            if len(out) >= want:
                break
        await consumer.stop()
        return out
    finally:
        await transport.stop()


def _produce(worker: WorkerProcess, topic: str, lines: list[str]) -> None:
    """The lines as raw record values, through a FileStreamSource with the StringConverter."""
    src = worker.workdir / f"{topic}.txt"
    src.write_text("".join(f"{line}\n" for line in lines))
    r = worker.rest(
        "POST",
        "/connectors",
        {
            "name": f"feed-{topic}",
            "config": {
                "connector.class": "FileStreamSource",
                "file": str(src),
                "topic": topic,
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                "transforms": "tag",
                "transforms.tag.type": "InsertHeader",
                "transforms.tag.header": "h",
                "transforms.tag.value.literal": "v",
            },
        },
    )
    assert r.status_code == 201, r.text


def _wait_failed(worker: WorkerProcess, connector: str) -> dict[str, Any]:
    """The connector's first task once it is FAILED."""

    def failed() -> Any:
        tasks = worker.rest("GET", f"/connectors/{connector}/status").json().get("tasks") or []
        return tasks and tasks[0]["state"] == "FAILED" and tasks[0]

    return worker.wait_for(failed, what=f"{connector} task FAILED", timeout=120)


@pytest.mark.parametrize("transport", ["embedded", "kafka"])
def test_jdbc_source_keyed_and_renamed_then_filtered(
    transport: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:8]
    renamed, dropped, kept = f"renamed-{uid}-orders", f"dropped-{uid}", f"kept-{uid}"
    extra = {"bootstrap.servers": request.getfixturevalue("kafka_bootstrap")} if transport == "kafka" else {}
    db = tmp_path / "src.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    con.executemany("INSERT INTO orders VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 51)])
    con.close()
    worker = WorkerProcess(tmp_path, extra=extra)
    worker.start()
    try:
        r = worker.rest(
            "POST",
            "/connectors",
            {
                "name": f"src-{uid}",
                "config": {
                    "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
                    "connection.url": f"jdbc:sqlite:{db}",
                    "mode": "incrementing",
                    "incrementing.column.name": "id",
                    "table.whitelist": "orders",
                    "topic.prefix": f"db{uid}-",
                    "poll.interval.ms": "100",
                    "transforms": "createKey,extractId,route",
                    "transforms.createKey.type": "org.apache.kafka.connect.transforms.ValueToKey",
                    "transforms.createKey.fields": "id",
                    "transforms.extractId.type": "org.apache.kafka.connect.transforms.ExtractField$Key",
                    "transforms.extractId.field": "id",
                    "transforms.route.type": "RegexRouter",
                    "transforms.route.regex": f"db{uid}-(.*)",
                    "transforms.route.replacement": f"renamed-{uid}-$1",
                },
            },
        )
        assert r.status_code == 201, r.text
        # a sink that drops every record of topics matching "renamed-.*" writes nothing; another one keeps them
        for name, negate in ((dropped, "false"), (kept, "true")):
            r = worker.rest(
                "POST",
                "/connectors",
                {
                    "name": name,
                    "config": {
                        "connector.class": "FileStreamSink",
                        "topics": renamed,
                        "file": str(tmp_path / name),
                        "transforms": "drop",
                        "transforms.drop.type": "Filter",
                        "transforms.drop.predicate": "isRenamed",
                        "transforms.drop.negate": negate,
                        "predicates": "isRenamed",
                        "predicates.isRenamed.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                        "predicates.isRenamed.pattern": "renamed-.*",
                    },
                },
            )
            assert r.status_code == 201, r.text
        worker.wait_running(f"src-{uid}")
        worker.wait_for(
            lambda: (tmp_path / kept).exists() and len((tmp_path / kept).read_text().splitlines()) == 50,
            what="kept records",
            timeout=120,
        )
        # the dropped records' offsets are committed like the others
        worker.wait_for(
            lambda: (
                worker.rest("GET", f"/connectors/{dropped}/offsets").json()["offsets"]
                == [{"partition": {"kafka_topic": renamed, "kafka_partition": 0}, "offset": {"kafka_offset": 50}}]
            ),
            what="dropped records' offsets committed",
            timeout=120,
        )
        assert not (tmp_path / dropped).exists() or (tmp_path / dropped).read_text() == ""
        assert worker.stop() == 0
    finally:
        worker.stop()
    records = asyncio.run(_read_topic(worker.props, renamed, 50))
    assert [json.loads(r.key) for r in records] == [
        {"schema": {"type": "int32", "optional": False}, "payload": i} for i in range(1, 51)
    ]
    assert json.loads(records[0].value)["payload"] == {"id": 1, "name": "n1"}
    assert f"db{uid}-orders" not in asyncio.run(_topics(worker.props))


async def _topics(props: Path) -> list[str]:
    from miniconnect import topics

    transport = make_transport(load_worker_config(str(props), []))
    await transport.start()
    try:
        return [line.split()[0] for line in await topics.list_topics(transport)]
    finally:
        await transport.stop()


@pytest.mark.parametrize("transport", ["embedded", "kafka"])
def test_sink_errors_tolerated_into_a_dead_letter_queue(
    transport: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:8]
    topic, dlq_topic = f"in-{uid}", f"dlq-{uid}"
    extra = {"bootstrap.servers": request.getfixturevalue("kafka_bootstrap")} if transport == "kafka" else {}
    good = [json.dumps({"schema": {"type": "string", "optional": False}, "payload": str(i)}) for i in range(200)]
    lines = list(good)
    bad_at = [3, 50, 51, 120, 199]
    for n, i in enumerate(bad_at):
        # bad JSON, and a value that makes the Cast transform fail
        lines.insert(
            i + n,
            "{not json"
            if n % 2 == 0
            else json.dumps({"schema": {"type": "string", "optional": False}, "payload": "cast me"}),
        )
    worker = WorkerProcess(tmp_path, extra=extra)
    worker.start()
    try:
        _produce(worker, topic, lines)
        r = worker.rest(
            "POST",
            "/connectors",
            {
                "name": "sink",
                "config": {
                    "connector.class": "FileStreamSink",
                    "topics": topic,
                    "file": str(tmp_path / "out.txt"),
                    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "transforms": "cast",
                    "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
                    "transforms.cast.spec": "int32",
                    "transforms.cast.predicate": "notOk",
                    "transforms.cast.negate": "false",
                    "predicates": "notOk",
                    "predicates.notOk.type": "HasHeaderKey",
                    "predicates.notOk.name": "h",
                    "errors.tolerance": "all",
                    "errors.log.enable": "true",
                    "errors.deadletterqueue.topic.name": dlq_topic,
                    "errors.deadletterqueue.topic.replication.factor": "1",
                    "errors.deadletterqueue.context.headers.enable": "true",
                },
            },
        )
        assert r.status_code == 201, r.text
        worker.wait_for(
            lambda: (tmp_path / "out.txt").exists() and len((tmp_path / "out.txt").read_text().splitlines()) >= 200,
            what="good records",
            timeout=60,
        )
        assert (tmp_path / "out.txt").read_text().splitlines() == [str(i) for i in range(200)]
        worker.wait_running("sink")
        assert worker.stop() == 0
    finally:
        worker.stop()
    dlq = asyncio.run(_read_topic(worker.props, dlq_topic, 5))
    stages = {int(dict(r.headers)["__connect.errors.offset"]): dict(r.headers)["__connect.errors.stage"] for r in dlq}
    assert stages == {
        3: b"VALUE_CONVERTER",
        51: b"TRANSFORMATION",
        53: b"VALUE_CONVERTER",
        123: b"TRANSFORMATION",
        203: b"VALUE_CONVERTER",
    }
    cast = next(r for r in dlq if dict(r.headers)["__connect.errors.offset"] == b"51")
    assert dict(cast.headers)["__connect.errors.class.name"] == b"org.apache.kafka.connect.transforms.Cast$Value"
    assert (
        dict(cast.headers)["__connect.errors.exception.message"]
        == b"Value (cast me) was out of range for requested data type"
    )
    first = dlq[0]
    assert first.value == b"{not json"
    headers = dict(first.headers)
    assert headers["h"] == b"v"
    assert headers["__connect.errors.topic"] == topic.encode()
    assert headers["__connect.errors.partition"] == b"0"
    assert headers["__connect.errors.offset"] == b"3"
    assert headers["__connect.errors.connector.name"] == b"sink"
    assert headers["__connect.errors.task.id"] == b"0"
    assert headers["__connect.errors.stage"] == b"VALUE_CONVERTER"
    assert headers["__connect.errors.class.name"] == b"org.apache.kafka.connect.json.JsonConverter"
    assert headers["__connect.errors.exception.class.name"] == b"org.apache.kafka.connect.errors.DataException"
    assert headers["__connect.errors.exception.message"]
    assert b"Traceback" in headers["__connect.errors.exception.stacktrace"]


def test_sink_transform_failure_fails_the_task_with_tolerance_none(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        _produce(
            worker,
            "in",
            [json.dumps({"schema": {"type": "string", "optional": False}, "payload": p}) for p in ("1", "2", "x", "4")],
        )
        r = worker.rest(
            "POST",
            "/connectors",
            {
                "name": "sink",
                "config": {
                    "connector.class": "FileStreamSink",
                    "topics": "in",
                    "file": str(tmp_path / "out.txt"),
                    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "transforms": "cast",
                    "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
                    "transforms.cast.spec": "int32",
                },
            },
        )
        assert r.status_code == 201, r.text
        task = _wait_failed(worker, "sink")
        assert "Tolerance exceeded in error handler" in task["trace"]
        assert "Value (x) was out of range for requested data type" in task["trace"]
        offsets = worker.rest("GET", "/connectors/sink/offsets").json()["offsets"]
        assert all(o["offset"]["kafka_offset"] <= 2 for o in offsets)  # nothing past the bad record
    finally:
        worker.stop()


# -- JDBC sink into PostgreSQL: bad records isolated and sent to the DLQ, good ones written ----------------------
ORDER = {
    "type": "struct",
    "name": "orders",
    "optional": False,
    "fields": [
        {"field": "id", "type": "int32", "optional": False},
        {"field": "name", "type": "string", "optional": True},
        {"field": "qty", "type": "int32", "optional": True},
    ],
}


def _order(i: int, name: Any = None, id_: Any = None) -> str:
    return json.dumps(
        {
            "schema": ORDER,
            "payload": {"id": i if id_ is None else id_, "name": f"n{i}" if name is None else name, "qty": i % 7},
        }
    )


def _jdbc_lines(n: int, bad_every: int) -> tuple[list[str], dict[int, str]]:
    """n records; every bad_every-th is bad in one of four ways (offset -> the stage Kafka reports it in)."""
    lines, bad = [], {}
    for i in range(n):
        kind = (i // bad_every) % 4 if i % bad_every == bad_every - 1 else None
        if kind is None:
            lines.append(_order(i))
            continue
        if kind == 0:
            lines.append("{bad json " + str(i))
            bad[i] = "VALUE_CONVERTER"
        elif kind == 1:
            lines.append(_order(i, id_="not an int"))  # does not fit its own schema
            bad[i] = "VALUE_CONVERTER"
        elif kind == 2:
            lines.append(_order(i, name="x" * 50))  # too long for VARCHAR(10)
            bad[i] = "TASK_PUT"
        else:
            lines.append(json.dumps({"schema": ORDER, "payload": {"id": i, "name": None, "qty": 1}}))  # NOT NULL
            bad[i] = "TASK_PUT"
    return lines, bad


def _pg_execute(server: Any, sql: str) -> Any:
    from servers import run_async

    async def run() -> Any:
        conn = await server.connect()
        try:
            return await conn.fetch(sql)
        finally:
            await conn.close()

    return run_async(run)


def _jdbc_sink(server: Any, tolerance: str) -> dict[str, str]:
    return {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        **server.connection_config(),
        "topics": "orders",
        "insert.mode": "insert",
        "auto.create": "false",
        "max.retries": "0",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "errors.tolerance": tolerance,
        "errors.deadletterqueue.topic.name": "dlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }


def test_jdbc_sink_tolerates_bad_records_into_the_dlq(pg_db: Any, tmp_path: Path) -> None:
    from helpers.jdbc_sink import topics_produce

    _pg_execute(pg_db, "CREATE TABLE orders (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL, qty INT)")
    lines, bad = _jdbc_lines(100_000, 2000)
    assert len(bad) == 50
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        topics_produce(worker, "orders", lines)
        r = worker.rest("POST", "/connectors", {"name": "pg-sink", "config": _jdbc_sink(pg_db, "all")})
        assert r.status_code == 201, r.text
        good = 100_000 - 50
        worker.wait_for(
            lambda: _pg_execute(pg_db, "SELECT COUNT(*) FROM orders")[0][0] >= good, what="the good rows", timeout=300
        )
        worker.wait_for(
            lambda: (
                worker.rest("GET", "/connectors/pg-sink/offsets").json()["offsets"]
                == [{"partition": {"kafka_topic": "orders", "kafka_partition": 0}, "offset": {"kafka_offset": 100_000}}]
            ),
            what="all offsets committed",
            timeout=120,
        )
        assert worker.rest("GET", "/connectors/pg-sink/status").json()["tasks"][0]["state"] == "RUNNING"
        assert worker.stop() == 0
    finally:
        worker.stop()
    ids = {r[0] for r in _pg_execute(pg_db, "SELECT id FROM orders")}
    assert ids == set(range(100_000)) - set(bad)
    dlq = asyncio.run(_read_topic(worker.props, "dlq", 50))
    assert len(dlq) == 50
    seen = {}
    for record in dlq:
        h = dict(record.headers)
        offset = int(h["__connect.errors.offset"])
        seen[offset] = h["__connect.errors.stage"].decode()
        assert record.value == lines[offset].encode()  # the bytes as they were read
        assert h["__connect.errors.topic"] == b"orders" and h["__connect.errors.connector.name"] == b"pg-sink"
        if seen[offset] == "TASK_PUT":
            assert h["__connect.errors.class.name"] == b"miniconnect_plugins.jdbc.sink.task.JdbcSinkTask"
            message = h["__connect.errors.exception.message"].decode()
            assert "value too long" in message or "null value in column" in message, message
    assert seen == bad


def test_jdbc_sink_fails_at_the_first_bad_record_with_tolerance_none(pg_db: Any, tmp_path: Path) -> None:
    from helpers.jdbc_sink import topics_produce

    _pg_execute(pg_db, "CREATE TABLE orders (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL, qty INT)")
    lines = [_order(i) for i in range(20)]
    lines[12] = _order(12, name="x" * 50)
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        topics_produce(worker, "orders", lines)
        r = worker.rest("POST", "/connectors", {"name": "pg-sink", "config": _jdbc_sink(pg_db, "none")})
        assert r.status_code == 201, r.text
        task = _wait_failed(worker, "pg-sink")
        assert "value too long" in task["trace"]
        offsets = worker.rest("GET", "/connectors/pg-sink/offsets").json()["offsets"]
        assert all(o["offset"]["kafka_offset"] <= 12 for o in offsets), offsets
        assert _pg_execute(pg_db, "SELECT COUNT(*) FROM orders")[0][0] <= 12
    finally:
        worker.stop()
