"""Auto-restart through a real worker: a task that fails (a FileStreamSink whose directory is missing) is FAILED
and visible, restarted on the schedule (auto.restart.backoff.ms shortened to 1 s: 0, 2, 6 ... s), and runs once the
cause is gone; with auto.restart.enable=false it stays FAILED."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from worker_process import WorkerProcess


def start_pipeline(worker: WorkerProcess, tmp_path: Path) -> Path:
    src, out = tmp_path / "in.txt", tmp_path / "missing" / "out.txt"
    src.write_text("".join(f"line-{i}\n" for i in range(100)))
    for name, config in (
        ("source", {"connector.class": "FileStreamSource", "file": str(src), "topic": "restarts"}),
        ("sink", {"connector.class": "FileStreamSink", "file": str(out), "topics": "restarts"}),
    ):
        assert worker.rest("PUT", f"/connectors/{name}/config", config).status_code == 201
    return out


def sink_task(worker: WorkerProcess) -> dict[str, Any]:
    return (worker.rest("GET", "/connectors/sink/status").json().get("tasks") or [{}])[0]


def test_failed_task_restarts_by_itself(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path / "worker", extra={"auto.restart.backoff.ms": "1000"})
    worker.start()
    try:
        out = start_pipeline(worker, tmp_path)
        failed = worker.wait_for(lambda: sink_task(worker).get("state") == "FAILED" and sink_task(worker), 30, "FAILED")
        assert "No such file or directory" in failed["trace"]
        worker.wait_for(lambda: "Auto-restart of task sink-0 now" in worker.log(), 30, "a first restart")
        out.parent.mkdir()
        worker.wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 100, 60, "the lines written")
        assert sink_task(worker)["state"] == "RUNNING"
        log = worker.log()
        assert "Auto-restart of task sink-0 in" in log and "No such file or directory" in log  # names the failure
        metrics = worker.rest("GET", "/metrics").text
        restarts = next(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("kafka_connect_connect_worker_metrics_auto_restart_total")
        )
        assert restarts >= 1, metrics
    finally:
        worker.stop()


def test_auto_restart_can_be_turned_off(tmp_path: Path) -> None:
    worker = WorkerProcess(
        tmp_path / "worker", extra={"auto.restart.enable": "false", "auto.restart.backoff.ms": "1000"}
    )
    worker.start()
    try:
        out = start_pipeline(worker, tmp_path)
        worker.wait_for(lambda: sink_task(worker).get("state") == "FAILED", 30, "FAILED")
        out.parent.mkdir()
        time.sleep(5)  # the schedule would have restarted it twice by now
        assert sink_task(worker)["state"] == "FAILED"
        assert "Auto-restart" not in worker.log()
    finally:
        worker.stop()
