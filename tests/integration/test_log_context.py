"""Log lines of a real worker carry Kafka's MDC connector context: `[name|task-0] ` for a task's lines, `[name|worker] `
for the connector's own; `MINICONNECT_LOG_FORMAT=json` (or `log.format=json`) writes one JSON object per line with
the same connector and task; `/admin/loggers` still changes what is logged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from worker_process import WorkerProcess


def _source(db: Path) -> dict[str, Any]:
    return {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": f"jdbc:sqlite:{db}",
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "topic.prefix": "lc_",
        "poll.interval.ms": "100",
        "tasks.max": "1",
    }


def _table(tmp_path: Path) -> Path:
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        con.executemany("INSERT INTO t (v) VALUES (?)", [(f"v{i}",) for i in range(10)])
    return db


def test_text_lines_carry_connector_and_task(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        assert worker.rest("PUT", "/connectors/src/config", _source(_table(tmp_path))).status_code == 201
        worker.wait_running("src")
        # the querier logs its query from the task's poll(); the connector's table monitor lists the tables
        task_line = worker.wait_for(
            lambda: next((ln for ln in worker.log().splitlines() if "Begin using SQL query" in ln), None),
            30,
            "the task's query line",
        )
        assert " INFO [src|task-0] Begin using SQL query: " in task_line
        worker_line = next(ln for ln in worker.log().splitlines() if "Tables for connector src" in ln)
        assert " INFO [src|worker] Tables for connector src" in worker_line
        # lines of the worker itself carry no context
        assert any(" INFO REST server listening at " in ln for ln in worker.log().splitlines())

        # /admin/loggers still works: DEBUG on the runtime shows the task's debug lines, with their context
        r = worker.rest("PUT", "/admin/loggers/miniconnect.runtime", {"level": "DEBUG"})
        assert r.status_code == 200 and "miniconnect.runtime" in r.json()
        assert worker.rest("GET", "/admin/loggers/miniconnect.runtime").json()["level"] == "DEBUG"
        r = worker.rest("PUT", "/admin/loggers/miniconnect.runtime", {"level": "INFO"})
        assert r.status_code == 200
        assert worker.rest("GET", "/admin/loggers/miniconnect.runtime").json()["level"] == "INFO"
    finally:
        worker.stop()
    stopped = [ln for ln in worker.log().splitlines() if "Connector src stopped" in ln]
    assert stopped and all("[src|worker] Connector src stopped" in ln for ln in stopped)


@pytest.mark.parametrize("how", ["env", "property"])
def test_json_lines(how: str, tmp_path: Path) -> None:
    if how == "env":
        worker = WorkerProcess(tmp_path, env={"MINICONNECT_LOG_FORMAT": "json"})
    else:
        worker = WorkerProcess(tmp_path, {"log.format": "json"})
    worker.start()
    try:
        assert worker.rest("PUT", "/connectors/src/config", _source(_table(tmp_path))).status_code == 201
        worker.wait_running("src")
        worker.wait_for(lambda: "Begin using SQL query" in worker.log(), 30, "the task's query line")
    finally:
        worker.stop()
    lines = [ln for ln in worker.log().splitlines() if ln.strip()]
    if how == "property":  # the lines before the worker config was read are text
        lines = lines[next(i for i, ln in enumerate(lines) if ln.startswith("{")) :]
    records = [json.loads(ln) for ln in lines]  # every line is one JSON object
    query = next(r for r in records if r["message"].startswith("Begin using SQL query"))
    assert query["connector"] == "src" and query["task"] == 0 and query["level"] == "INFO"
    assert query["logger"].startswith("miniconnect_plugins.jdbc") or query["logger"].startswith("plugins.jdbc")
    assert query["time"].endswith("Z")
    tables = next(r for r in records if r["message"].startswith("Tables for connector src"))
    assert tables["connector"] == "src" and tables["task"] == "worker"
    ready = next(r for r in records if r["message"].startswith("REST server listening"))
    assert "connector" not in ready and "task" not in ready
