"""Files at rest through a real worker: connector configs owner-only and never torn by a SIGKILL; a damaged
embedded log is reported by the worker that opens it."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import orjson
from worker_process import WorkerProcess

SECRET = "s3cret-pa55word"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _config(i: int) -> dict[str, str]:
    return {
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "topics": "t",
        "file": f"/tmp/nowhere-{i}",
        "connection.password": SECRET,
    }


def test_connector_configs_are_owner_only_and_loose_files_are_tightened(tmp_path: Path) -> None:
    worker = WorkerProcess(tmp_path)
    store = Path(f"{tmp_path / 'connect.offsets'}.connectors.json")
    worker.start()
    try:
        assert worker.rest("PUT", "/connectors/c/config", _config(0)).status_code == 201
        assert _mode(store) == 0o600
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp file left behind
    finally:
        worker.stop()

    os.chmod(store, 0o644)
    worker = WorkerProcess(tmp_path, port=worker.port)
    worker.start()
    try:  # the herder loads its stores once the REST server is up: wait for its word
        worker.wait_for(
            lambda: f"{store} was readable by group or others (mode 644): changed to 600" in worker.log(),
            what="the WARN about the loose config file",
        )
        assert _mode(store) == 0o600
    finally:
        worker.stop()


def test_sigkill_during_config_writes_never_leaves_a_torn_file(tmp_path: Path) -> None:
    store = Path(f"{tmp_path / 'connect.offsets'}.connectors.json")
    written: set[str] = {"/tmp/nowhere-0"}
    port = None
    rng = random.Random(7)
    for round_ in range(6):
        worker = WorkerProcess(tmp_path, port=port)
        port = worker.port
        worker.start()
        stop = threading.Event()

        def writer(base: int) -> None:
            i = base
            with httpx.Client(timeout=5) as client:
                while not stop.is_set():
                    i += 1
                    written.add(f"/tmp/nowhere-{i}")
                    try:
                        client.put(f"{worker.url}/connectors/c/config", json=_config(i))
                    except httpx.HTTPError:
                        return  # the worker is gone

        thread = threading.Thread(target=writer, args=(round_ * 100_000,))
        thread.start()
        try:
            worker.wait_for(lambda: store.exists(), what="the config file")
            threading.Event().wait(rng.uniform(0.3, 1.2))  # many writes in flight when the kill comes
            worker.kill()
        finally:
            stop.set()
            thread.join(30)
            worker.stop()
        data = orjson.loads(store.read_bytes())  # a torn file fails here
        assert data["connectors"]["c"]["config"]["file"] in written
        assert _mode(store) == 0o600


def _topics(props: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-P", "-m", "miniconnect.cli", "topics", str(props), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_worker_reports_a_damaged_topic_and_the_reset_it_causes(tmp_path: Path) -> None:
    sink = tmp_path / "out.txt"
    worker = WorkerProcess(tmp_path)
    for part in range(4):  # four batches of 500 lines
        r = _topics(worker.props, "produce", "lines", stdin="".join(f"line {part * 500 + i}\n" for i in range(500)))
        assert r.returncode == 0, r.stderr
    worker.start()
    try:
        assert (
            worker.rest(
                "PUT",
                "/connectors/sink/config",
                {
                    "connector.class": "FileStreamSink",
                    "tasks.max": "1",
                    "file": str(sink),
                    "topics": "lines",
                    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                },
            ).status_code
            == 201
        )
        worker.wait_for(lambda: sink.exists() and len(sink.read_text().splitlines()) == 2000, what="2000 lines")
    finally:
        assert worker.stop() == 0

    segment_dir = tmp_path / "log" / "topics" / "lines" / "0"
    [segment] = sorted(segment_dir.glob("*.log"))
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the third batch
    segment.write_bytes(bytes(data))
    assert _topics(worker.props, "verify").returncode == 1

    worker = WorkerProcess(tmp_path, port=worker.port)
    worker.start()
    try:
        worker.wait_for(lambda: "out of range" in worker.log(), what="the consumer's reset")
        text = worker.log()
        assert f"lines-0: CRC mismatch in segment {segment}" in text and "first bad offset 1000" in text
        assert "Consumer group connect-sink has committed offset 2000 for lines-0, beyond the log end 1000" in text
        assert "Fetch position 2000 is out of range for partition lines-0 of group connect-sink" in text
        worker.wait_for(lambda: len(sink.read_text().splitlines()) == 3000, what="the replayed lines")
    finally:
        worker.stop()
    assert _topics(worker.props, "verify").returncode == 0
