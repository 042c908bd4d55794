"""A Schema Registry that is down holds only the tasks that need it: a real worker (standalone on the embedded log,
distributed on Kafka) whose registry (a real one, on loopback) is away keeps answering REST and, distributed, stays in
its group (no rebalance), its other connectors keep moving, the Avro tasks wait (RUNNING, their trace naming the
records' topic, partition and offset) without losing or skipping anything, and once the registry is back the Avro
pipelines finish with every row."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.log_records import produce
from helpers.source_e2e import sql
from registry_testkit import free_port, running_registry
from servers import DbServer
from worker_process import WorkerProcess, distributed_worker

from miniconnect.converters.avro import AvroConverter
from miniconnect.data.schema import INT32_SCHEMA, STRING_SCHEMA, Schema, Struct

STRING = "org.apache.kafka.connect.storage.StringConverter"
PRE, FROM_DB = 200, 300  # records written before the outage; rows the source reads during it


def rows(db: DbServer, table: str) -> list[tuple]:
    try:
        return sql(db, f'SELECT id, name FROM "{table}" ORDER BY id')
    except Exception:  # not created yet
        return []


def task(worker: WorkerProcess, name: str) -> dict[str, Any]:
    tasks = worker.rest("GET", f"/connectors/{name}/status").json().get("tasks") or [{}]
    return tasks[0]


class RestProbe(threading.Thread):
    """GET /connectors every 100 ms: every answer and the slowest one, while the registry is away."""

    def __init__(self, worker: WorkerProcess):
        super().__init__(daemon=True)
        self.worker, self.stop = worker, threading.Event()
        self.answers: list[int] = []
        self.slowest = 0.0

    def run(self) -> None:
        while not self.stop.wait(0.1):
            started = time.monotonic()
            try:
                status = httpx.get(self.worker.url + "/connectors", timeout=10).status_code
            except httpx.HTTPError:
                status = 0
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.answers.append(status)


@pytest.mark.parametrize("mode", ["standalone", "distributed"])
def test_a_registry_that_is_down_holds_only_the_tasks_that_need_it(
    mode: str, request: pytest.FixtureRequest, tmp_path: Path, pg_db: DbServer
) -> None:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if mode == "distributed" else None
    uid = uuid.uuid4().hex[:8] if bootstrap else ""  # the session's Kafka: topics of this test's own
    pre_topic, db_prefix, lines_topic = f"pre{uid}", f"db{uid}_", f"lines{uid}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    registry_dir = tmp_path / "registry"
    # records of a schema the sink has never seen, registered while the registry was up
    schema = Schema.struct([("id", INT32_SCHEMA), ("name", STRING_SCHEMA)], name="pre")
    with running_registry(registry_dir, port=port):
        writer = AvroConverter()
        writer.configure({"schema.registry.url": url}, False)
        pre = [writer.from_connect_data(pre_topic, schema, Struct(schema, [i, f"pre {i}"])) for i in range(PRE)]
    sql(
        pg_db,
        "CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL)",
        f"INSERT INTO things (name) SELECT 'thing ' || n FROM generate_series(1, {FROM_DB}) AS n",
    )
    converters = {
        "key.converter": STRING,
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": url,
        "value.converter.retries.wait.ms": "200",
        "value.converter.retries.max.wait.ms": "1000",
    }
    workdir = tmp_path / "worker"
    if bootstrap:
        worker = distributed_worker(workdir, bootstrap, f"outage-{uid}", converters)
    else:
        worker = WorkerProcess(workdir, extra=converters)
    produce(workdir, bootstrap, pre_topic, pre)
    lines_in, lines_out = tmp_path / "in.txt", tmp_path / "out.txt"
    lines_in.write_text("")
    worker.start(timeout=60)
    probe = RestProbe(worker)
    try:
        jdbc_sink = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            **pg_db.connection_config(),
            "auto.create": "true",
            "tasks.max": "1",
        }
        plain = {"key.converter": STRING, "value.converter": STRING}
        for name, config in {
            "pre-sink": {**jdbc_sink, "topics": pre_topic, "table.name.format": "pre_copy"},
            "db-source": {
                "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
                **pg_db.connection_config(),
                "mode": "incrementing",
                "incrementing.column.name": "id",
                "table.whitelist": "things",
                "topic.prefix": db_prefix,
                "poll.interval.ms": "200",
            },
            "db-sink": {**jdbc_sink, "topics": f"{db_prefix}things", "table.name.format": "things_copy"},
            "lines-in": {"connector.class": "FileStreamSource", "file": str(lines_in), "topic": lines_topic, **plain},
            "lines-out": {"connector.class": "FileStreamSink", "file": str(lines_out), "topics": lines_topic, **plain},
        }.items():
            r = worker.rest("POST", "/connectors", {"name": name, "config": config})
            assert r.status_code == 201, r.text

        # the Avro tasks wait for the registry, RUNNING, saying which records wait
        def waiting(name: str, *words: str) -> Any:
            t = task(worker, name)
            return t.get("state") == "RUNNING" and all(w in (t.get("trace") or "") for w in words) and t["trace"]

        trace = worker.wait_for(lambda: waiting("pre-sink", "attempt 3"), 60, "the sink waiting for the registry")
        assert (
            "Waiting for the Schema Registry" in trace and f"topic '{pre_topic}', partition 0, from offset 0" in trace
        )
        assert f"Schema Registry at {url} is unreachable" in trace
        trace = worker.wait_for(lambda: waiting("db-source", "attempt 3"), 60, "the source waiting for the registry")
        assert f"topic '{db_prefix}things'" in trace and "unreachable" in trace

        # meanwhile the worker's other connectors move, and nothing of the Avro pipelines goes past the registry
        def copied(n: int) -> None:
            with lines_in.open("a") as f:
                f.write(f"line {n}\n")
            want = "".join(f"line {i}\n" for i in range(n + 1))
            worker.wait_for(lambda: lines_out.exists() and lines_out.read_text() == want, 60, f"line {n} copied")

        copied(0)
        for name in ("pre-sink", "db-source", "db-sink", "lines-in", "lines-out"):
            worker.wait_running(name, timeout=60)
        rebalances = worker.log().count("Rebalance started")  # distributed: every connector assigned; none from here
        probe.start()

        def attempts(name: str) -> int:
            trace = waiting(name, "Waiting for the Schema Registry") or "(attempt 0,"
            return int(trace.split("(attempt ")[1].split(",")[0])

        first = attempts("pre-sink")
        for n in (1, 2, 3):
            copied(n)
        worker.wait_for(lambda: attempts("pre-sink") >= first + 5, 60, "5 more attempts")
        assert rows(pg_db, "pre_copy") == [] and rows(pg_db, "things_copy") == []
        assert waiting("db-source", "Waiting for the Schema Registry")
        probe.stop.set()
        probe.join()
        assert probe.answers and set(probe.answers) == {200}, probe.answers
        assert worker.log().count("Rebalance started") == rebalances

        # the registry comes back (same port, same `_schemas`): both pipelines finish with every row
        with running_registry(registry_dir, port=port):
            back = time.monotonic()
            worker.wait_for(lambda: len(rows(pg_db, "pre_copy")) == PRE, 120, "every record written before")
            worker.wait_for(lambda: len(rows(pg_db, "things_copy")) == FROM_DB, 120, "every row of the source")
            recovered = time.monotonic() - back
            assert rows(pg_db, "pre_copy") == [(i, f"pre {i}") for i in range(PRE)]
            assert rows(pg_db, "things_copy") == [(i, f"thing {i}") for i in range(1, FROM_DB + 1)]
            for name in ("pre-sink", "db-source", "db-sink"):
                worker.wait_for(
                    lambda n=name: task(worker, n).get("state") == "RUNNING" and not task(worker, n).get("trace"),
                    30,
                    f"{name} working",
                )
        print(
            f"\nREST during the outage: {len(probe.answers)} answers, slowest {probe.slowest * 1000:.0f} ms; "
            f"every row copied {recovered:.1f} s after the registry came back"
        )
    finally:
        probe.stop.set()
        worker.stop()
