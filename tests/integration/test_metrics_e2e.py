"""GET /metrics of a real worker scraped while a JDBC source -> embedded log -> JDBC sink pipeline runs against the
test PostgreSQL: parsed with prometheus_client's parser, the record counts match the rows moved, and the names are
those the Confluent jmx-monitoring-stacks Grafana dashboard (kafka-connect-cluster.json) queries."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from servers import DbServer, run_async
from worker_process import WorkerProcess, distributed_worker, free_port

ROWS = 1500

# Every Kafka Connect metric the dashboard's panels and variables query (JVM and Kafka-client network metrics
# aside): the names must be there for its panels to show anything.
DASHBOARD_NAMES = [
    "kafka_connect_app",
    "kafka_connect_connect_worker_metrics_connector_count",
    "kafka_connect_connect_worker_metrics_task_count",
    "kafka_connect_connect_worker_metrics_connector_startup_failure_total",
    "kafka_connect_connect_worker_metrics_connector_startup_success_total",
    "kafka_connect_connect_worker_metrics_task_startup_failure_total",
    "kafka_connect_connect_worker_metrics_task_startup_success_total",
    "kafka_connect_connect_worker_metrics_connector_total_task_count",
    "kafka_connect_connect_worker_metrics_connector_running_task_count",
    "kafka_connect_connect_worker_metrics_connector_paused_task_count",
    "kafka_connect_connect_worker_metrics_connector_failed_task_count",
    "kafka_connect_connect_worker_metrics_connector_unassigned_task_count",
    "kafka_connect_connect_worker_metrics_connector_destroyed_task_count",
    "kafka_connect_connector_metrics",
    "kafka_connect_connector_task_metrics_batch_size_avg",
    "kafka_connect_connector_task_metrics_batch_size_max",
    "kafka_connect_connector_task_metrics_offset_commit_avg_time_ms",
    "kafka_connect_connector_task_metrics_offset_commit_success_percentage",
    "kafka_connect_connector_task_metrics_running_ratio",
    "kafka_connect_connector_task_metrics_pause_ratio",
    "kafka_connect_sink_task_metrics_offset_commit_completion_rate",
    "kafka_connect_sink_task_metrics_offset_commit_skip_rate",
    "kafka_connect_sink_task_metrics_partition_count",
    "kafka_connect_sink_task_metrics_put_batch_avg_time_ms",
    "kafka_connect_sink_task_metrics_put_batch_max_time_ms",
    "kafka_connect_sink_task_metrics_sink_record_active_count_avg",
    "kafka_connect_sink_task_metrics_sink_record_active_count_max",
    "kafka_connect_sink_task_metrics_sink_record_read_rate",
    "kafka_connect_sink_task_metrics_sink_record_send_rate",
    "kafka_connect_source_task_metrics_poll_batch_avg_time_ms",
    "kafka_connect_source_task_metrics_poll_batch_max_time_ms",
    "kafka_connect_source_task_metrics_source_record_active_count_avg",
    "kafka_connect_source_task_metrics_source_record_active_count_max",
    "kafka_connect_source_task_metrics_source_record_poll_rate",
    "kafka_connect_source_task_metrics_source_record_write_rate",
    "kafka_connect_task_error_metrics_deadletterqueue_produce_failures",
    "kafka_connect_task_error_metrics_deadletterqueue_produce_requests",
    "kafka_connect_task_error_metrics_total_errors_logged",
    "kafka_connect_task_error_metrics_total_record_errors",
    "kafka_connect_task_error_metrics_total_record_failures",
    "kafka_connect_task_error_metrics_total_records_skipped",
    "kafka_connect_task_error_metrics_total_retries",
    "process_cpu_seconds_total",
]


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> [(labels, value)], as Prometheus would store them."""
    r = httpx.get(url + "/metrics", timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def find(samples: dict[str, Any], name: str, **labels: str) -> float | None:
    """The one sample's value, None while the metric is not there (yet)."""
    matches = [v for ls, v in samples.get(name, []) if all(ls.get(k) == w for k, w in labels.items())]
    return matches[0] if len(matches) == 1 else None


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    matches = [v for ls, v in samples.get(name, []) if all(ls.get(k) == w for k, w in labels.items())]
    assert len(matches) == 1, f"{name}{labels}: {samples.get(name)}"
    return matches[0]


def test_metrics_count_the_rows_of_a_jdbc_pipeline(pg_db: DbServer, tmp_path: Path) -> None:
    async def setup() -> None:
        con = await pg_db.connect()
        try:
            await con.execute("CREATE TABLE orders (id SERIAL PRIMARY KEY, item TEXT NOT NULL, qty INT NOT NULL)")
            await con.execute(
                f"INSERT INTO orders (item, qty) SELECT 'item-' || g, g FROM generate_series(1, {ROWS}) g"
            )
        finally:
            await con.close()

    run_async(setup)
    # the row path, whose polls hold batch.max.rows rows (the columnar one hands over larger batches)
    worker = WorkerProcess(tmp_path, env={"MINICONNECT_JDBC_COLUMNAR": "off"})
    worker.start()
    try:
        source = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            **pg_db.connection_config(),
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": "orders",
            "topic.prefix": "m_",
            "poll.interval.ms": "200",
            "batch.max.rows": "400",
            "tasks.max": "1",
        }
        sink = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            **pg_db.connection_config(),
            "topics": "m_orders",
            "table.name.format": "orders_copy",
            "auto.create": "true",
            "insert.mode": "insert",
            "tasks.max": "1",
        }
        assert worker.rest("PUT", "/connectors/src/config", source).status_code == 201
        assert worker.rest("PUT", "/connectors/snk/config", sink).status_code == 201
        upsert = {
            **sink,
            "table.name.format": "orders_upsert",
            "insert.mode": "upsert",
            "pk.mode": "record_value",
            "pk.fields": "id",
        }
        assert worker.rest("PUT", "/connectors/ups/config", upsert).status_code == 201
        worker.wait_running("src")
        worker.wait_running("snk")
        worker.wait_running("ups")

        async def copied() -> int:
            con = await pg_db.connect()
            try:
                return await con.fetchval("SELECT count(*) FROM orders_copy")
            except Exception:
                return 0
            finally:
                await con.close()

        worker.wait_for(lambda: run_async(copied) == ROWS, 60, f"{ROWS} rows in orders_copy")
        src, snk = {"connector": "src", "task": "0"}, {"connector": "snk", "task": "0"}
        # the sink's counters follow put(); the offsets commit (and its metrics) follow within the flush interval
        m = worker.wait_for(
            lambda: (
                (s := scrape(worker.url))
                and value(s, "kafka_connect_sink_task_metrics_sink_record_send_total", **snk) == ROWS
                and value(s, "kafka_connect_sink_task_metrics_offset_commit_completion_total", **snk) > 0
                and s
            ),
            30,
            "the sink's metrics to count every row",
        )
        assert value(m, "kafka_connect_source_task_metrics_source_record_poll_total", **src) == ROWS
        assert value(m, "kafka_connect_source_task_metrics_source_record_write_total", **src) == ROWS
        assert value(m, "kafka_connect_sink_task_metrics_sink_record_read_total", **snk) == ROWS
        assert value(m, "kafka_connect_source_task_metrics_source_record_poll_rate", **src) > 0
        assert value(m, "kafka_connect_sink_task_metrics_sink_record_send_rate", **snk) > 0
        assert value(m, "kafka_connect_connector_task_metrics_batch_size_max", **src) == 400
        assert value(m, "kafka_connect_sink_task_metrics_partition_count", **snk) == 1
        assert value(m, "kafka_connect_sink_task_metrics_sink_record_active_count", **snk) == 0
        assert value(m, "kafka_connect_connector_task_metrics_status", status="running", **src) == 1
        assert value(m, "kafka_connect_connector_task_metrics_offset_commit_success_percentage", **snk) == 1.0
        assert value(m, "kafka_connect_connector_task_metrics_running_ratio", **snk) == 1.0
        assert value(m, "kafka_connect_task_error_metrics_total_record_errors", **snk) == 0
        agg = {"connector": "aggregate"}
        assert value(m, "kafka_connect_connect_worker_metrics_connector_count", **agg) == 3
        assert value(m, "kafka_connect_connect_worker_metrics_task_count", **agg) == 3
        assert value(m, "kafka_connect_connect_worker_metrics_connector_startup_success_total", **agg) == 3
        assert value(m, "kafka_connect_connect_worker_metrics_task_startup_success_total", **agg) == 3
        assert value(m, "kafka_connect_connect_worker_metrics_task_startup_success_percentage", **agg) == 1.0
        assert value(m, "kafka_connect_connect_worker_metrics_connector_running_task_count", connector="snk") == 1
        assert value(m, "kafka_connect_connector_metrics", connector="src", status="running") == 1
        assert value(
            m,
            "kafka_connect_connector_metrics",
            connector="snk",
            connector_class="io.confluent.connect.jdbc.JdbcSinkConnector",
        )
        assert value(m, "kafka_connect_connector_metrics", connector="snk", connector_type="sink") == 1
        # Kafka 4.1's string attributes of a task (KIP-891)
        task_info = "kafka_connect_connector_task_metrics_"
        assert value(m, task_info + "task_class", task_class="io.confluent.connect.jdbc.sink.JdbcSinkTask", **snk)
        assert value(m, task_info + "connector_type", connector_type="source", **src) == 1
        assert value(
            m,
            task_info + "value_converter_class",
            value_converter_class="org.apache.kafka.connect.json.JsonConverter",
            **snk,
        )
        assert find(m, task_info + "task_version", **src) == 1
        # the JDBC source's own gauges, per table
        jdbc = "kafka_connect_jdbc_source_task_metrics_"
        [(table_labels, rows)] = m[jdbc + "rows_total"]
        assert rows == ROWS and table_labels["connector"] == "src" and "orders" in table_labels["table"]
        assert value(m, jdbc + "last_incrementing_offset", **table_labels) == ROWS
        worker.wait_for(  # the queries after the last rows find nothing new
            lambda: find(scrape(worker.url), jdbc + "last_poll_rows", **table_labels) == 0, 30, "an empty poll"
        )
        # the JDBC sinks count the rows they committed per table and statement kind
        written = "kafka_connect_jdbc_sink_task_metrics_rows_written_total"
        assert value(m, written, table="orders_copy", statement="insert", **snk) == ROWS
        worker.wait_for(
            lambda: find(scrape(worker.url), written, connector="ups", task="0", table="orders_upsert") == ROWS,
            60,
            "the upserts to be counted",
        )
        assert value(scrape(worker.url), written, connector="ups", statement="upsert") == ROWS
        missing = [n for n in DASHBOARD_NAMES if n not in m]
        assert not missing, missing

        # pausing shows in the task's status and pause ratio
        assert worker.rest("PUT", "/connectors/snk/pause").status_code == 202
        paused = worker.wait_for(
            lambda: (
                (s := scrape(worker.url))
                and value(s, "kafka_connect_connector_task_metrics_pause_ratio", **snk) > 0
                and s
            ),
            30,
            "the sink's pause ratio",
        )
        assert value(paused, "kafka_connect_connector_task_metrics_status", status="paused", **snk) == 1
        assert value(paused, "kafka_connect_connector_metrics", connector="snk", status="paused") == 1
    finally:
        worker.stop()


def test_metrics_on_a_listener_of_their_own(tmp_path: Path) -> None:
    port = free_port()
    worker = WorkerProcess(tmp_path, {"metrics.listeners": f"http://127.0.0.1:{port}"})
    worker.start()
    try:
        assert worker.rest("GET", "/metrics").status_code == 404  # not on the REST listener any more
        m = scrape(f"http://127.0.0.1:{port}")
        assert value(m, "kafka_connect_connect_worker_metrics_connector_count", connector="aggregate") == 0
        assert httpx.get(f"http://127.0.0.1:{port}/connectors", timeout=10).status_code == 404
    finally:
        worker.stop()


def test_rebalance_metrics_of_a_distributed_worker(kafka_bootstrap: str, tmp_path: Path) -> None:
    group = f"metrics-{uuid.uuid4().hex[:8]}"
    first = distributed_worker(tmp_path / "w1", kafka_bootstrap, group)
    second = distributed_worker(tmp_path / "w2", kafka_bootstrap, group)
    first.start(60)
    try:
        rebalance = "kafka_connect_connect_worker_rebalance_metrics_"
        m = first.wait_for(
            lambda: (s := scrape(first.url)) and value(s, rebalance + "completed_rebalances_total") >= 1 and s,
            60,
            "a first completed rebalance",
        )
        assert value(m, rebalance + "epoch") >= 1
        assert value(m, rebalance + "rebalancing") == 0
        assert value(m, rebalance + "time_since_last_rebalance_ms") >= 0
        assert value(m, rebalance + "rebalance_max_time_ms") >= 0
        assert value(m, rebalance + "leader_name", leader_name=first.url + "/") == 1
        assert value(m, rebalance + "connect_protocol", connect_protocol="SESSIONED") == 1
        completed = value(m, rebalance + "completed_rebalances_total")
        source = {
            "connector.class": "FileStreamSource",
            "file": str(tmp_path / "in.txt"),
            "topic": f"{group}-lines",
            "tasks.max": "1",
        }
        (tmp_path / "in.txt").write_text("".join(f"line {i}\n" for i in range(50)))
        assert first.rest("PUT", "/connectors/lines/config", source).status_code == 201
        first.wait_for(
            lambda: (
                find(
                    scrape(first.url),
                    "kafka_connect_source_task_metrics_source_record_write_total",
                    connector="lines",
                    task="0",
                )
                == 50
            ),
            60,
            "50 records written",
        )

        second.start(60)  # joining makes the group rebalance: the first worker counts it
        m = first.wait_for(
            lambda: (
                (s := scrape(first.url))
                and value(s, rebalance + "completed_rebalances_total") > completed
                and value(s, rebalance + "rebalancing") == 0
                and s
            ),
            90,
            "the rebalance after the second worker joined",
        )
        assert value(m, rebalance + "epoch") >= 2
        theirs = second.wait_for(
            lambda: (s := scrape(second.url)) and value(s, rebalance + "completed_rebalances_total") >= 1 and s,
            60,
            "the second worker's first rebalance",
        )
        assert value(theirs, rebalance + "leader_name", leader_name=first.url + "/") == 1
    finally:
        second.stop()
        first.stop()


def test_columnar_reads_and_writes_count_their_rows(pg_db: DbServer, tmp_path: Path) -> None:
    """A table large enough for the columnar paths (the source's encoded batches, the sink's column batches):
    the record counts are rows, as on the row paths."""
    rows = 12_000

    async def setup() -> None:
        con = await pg_db.connect()
        try:
            await con.execute("CREATE TABLE big (id SERIAL PRIMARY KEY, item TEXT NOT NULL, qty INT NOT NULL)")
            await con.execute(f"INSERT INTO big (item, qty) SELECT 'item-' || g, g FROM generate_series(1, {rows}) g")
            await con.execute("ANALYZE big")  # the planner's estimate sends the first run to the columnar path
        finally:
            await con.close()

    run_async(setup)
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        source = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            **pg_db.connection_config(),
            "mode": "incrementing",
            "incrementing.column.name": "id",
            "table.whitelist": "big",
            "topic.prefix": "c_",
            "poll.interval.ms": "200",
        }
        sink = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            **pg_db.connection_config(),
            "topics": "c_big",
            "table.name.format": "big_copy",
            "auto.create": "true",
        }
        assert worker.rest("PUT", "/connectors/src/config", source).status_code == 201
        assert worker.rest("PUT", "/connectors/snk/config", sink).status_code == 201
        src, snk = {"connector": "src", "task": "0"}, {"connector": "snk", "task": "0"}
        m = worker.wait_for(
            lambda: (
                (s := scrape(worker.url))
                and find(s, "kafka_connect_sink_task_metrics_sink_record_send_total", **snk) == rows
                and s
            ),
            120,
            f"{rows} rows through",
        )
        assert value(m, "kafka_connect_source_task_metrics_source_record_poll_total", **src) == rows
        assert value(m, "kafka_connect_source_task_metrics_source_record_write_total", **src) == rows
        assert value(m, "kafka_connect_sink_task_metrics_sink_record_read_total", **snk) == rows
        written = "kafka_connect_jdbc_sink_task_metrics_rows_written_total"
        assert value(m, written, table="big_copy", statement="insert", **snk) == rows
    finally:
        worker.stop()


def test_task_error_metrics_count_tolerated_records(tmp_path: Path) -> None:
    lines = [f'{{"n": {i}}}' if i % 4 else f"not json {i}" for i in range(12)]  # 3 of 12 are not JSON
    (tmp_path / "in.txt").write_text("".join(line + "\n" for line in lines))
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        source = {
            "connector.class": "FileStreamSource",
            "file": str(tmp_path / "in.txt"),
            "topic": "errs",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        }
        sink = {
            "connector.class": "FileStreamSink",
            "file": str(tmp_path / "out.txt"),
            "topics": "errs",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "errors.tolerance": "all",
            "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": "errs-dlq",
            "errors.deadletterqueue.topic.replication.factor": "1",
        }
        assert worker.rest("PUT", "/connectors/src/config", source).status_code == 201
        assert worker.rest("PUT", "/connectors/snk/config", sink).status_code == 201
        snk = {"connector": "snk", "task": "0"}
        errors = "kafka_connect_task_error_metrics_"
        m = worker.wait_for(
            lambda: (
                (s := scrape(worker.url))
                and find(s, "kafka_connect_sink_task_metrics_sink_record_read_total", **snk) == 12
                and find(s, errors + "deadletterqueue_produce_requests", **snk) == 3
                and s
            ),
            30,
            "12 records read, 3 of them sent to the DLQ",
        )
        assert value(m, "kafka_connect_sink_task_metrics_sink_record_send_total", **snk) == 9
        assert value(m, errors + "total_record_errors", **snk) == 3
        assert value(m, errors + "total_record_failures", **snk) == 3
        assert value(m, errors + "total_records_skipped", **snk) == 3
        assert value(m, errors + "total_errors_logged", **snk) == 3
        assert value(m, errors + "deadletterqueue_produce_failures", **snk) == 0
        assert value(m, errors + "last_error_timestamp", **snk) > 1.7e12
        assert value(m, errors + "total_record_errors", connector="src", task="0") == 0
    finally:
        worker.stop()


def test_connector_startup_failures_are_counted(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        unreachable = {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "connection.url": f"jdbc:postgresql://127.0.0.1:{free_port()}/nowhere",
            "connection.user": "u",
            "connection.password": "p",
            "connection.attempts": "2",  # start() outlasts the POST: the connector fails in the background
            "connection.backoff.ms": "1000",
            "mode": "bulk",
            "table.whitelist": "t",
            "topic.prefix": "x_",
        }
        assert worker.rest("POST", "/connectors", {"name": "down", "config": unreachable}).status_code == 201
        agg = {"connector": "aggregate"}
        m = worker.wait_for(
            lambda: (
                (s := scrape(worker.url))
                and find(s, "kafka_connect_connect_worker_metrics_connector_startup_failure_total", **agg) == 1
                and s
            ),
            60,
            "the failed start to be counted",
        )
        assert value(m, "kafka_connect_connect_worker_metrics_connector_startup_attempts_total", **agg) == 1
        assert value(m, "kafka_connect_connect_worker_metrics_connector_startup_success_total", **agg) == 0
        assert value(m, "kafka_connect_connect_worker_metrics_connector_startup_failure_percentage", **agg) == 1.0
        assert value(m, "kafka_connect_connector_metrics", connector="down", status="failed") == 1
    finally:
        worker.stop()
