"""End to end through the REST API only: file -> embedded log -> file, across a graceful restart."""

from __future__ import annotations

from pathlib import Path

from worker_process import WorkerProcess


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_file_source_to_file_sink_survives_graceful_restart(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    first = [f"line {i}" for i in range(1000)]
    src.write_text("".join(f"{line}\n" for line in first))
    worker = WorkerProcess(tmp_path)
    worker.start()
    try:
        r = worker.rest(
            "POST",
            "/connectors",
            {
                "name": "file-source",
                "config": {"connector.class": "FileStreamSource", "tasks.max": "1", "file": str(src), "topic": "lines"},
            },
        )
        assert r.status_code == 201, r.text
        r = worker.rest(
            "PUT",
            "/connectors/file-sink/config",
            {
                "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "tasks.max": "1",
                "file": str(dst),
                "topics": "lines",
            },
        )
        assert r.status_code == 201, r.text
        worker.wait_running("file-source")
        worker.wait_running("file-sink")
        worker.wait_for(lambda: len(_lines(dst)) >= len(first), what="first lines in the sink file")
        assert worker.stop() == 0
    finally:
        worker.stop()

    with src.open("a") as f:
        f.write("".join(f"after {i}\n" for i in range(500)))
    restarted = WorkerProcess(tmp_path, port=worker.port)
    restarted.start()
    try:
        assert sorted(restarted.rest("GET", "/connectors").json()) == ["file-sink", "file-source"]
        restarted.wait_running("file-source")
        expected = first + [f"after {i}" for i in range(500)]
        restarted.wait_for(lambda: len(_lines(dst)) >= len(expected), what="all lines after the restart")
        assert _lines(dst) == expected  # nothing lost, nothing written twice, in order
        expected_offsets = {
            "offsets": [{"partition": {"filename": str(src)}, "offset": {"position": src.stat().st_size}}]
        }
        restarted.wait_for(
            lambda: restarted.rest("GET", "/connectors/file-source/offsets").json() == expected_offsets,
            what="source offsets flushed",
        )
    finally:
        assert restarted.stop() == 0
