"""A full disk under the embedded log (a small tmpfs filled to the last byte, so writes fail with ENOSPC as on any
full disk): the FileStreamSource task waits RUNNING with a trace naming the full disk, and once space is freed it
goes on by itself; every line reaches the sink."""

from __future__ import annotations

import errno
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from worker_process import WorkerProcess

LINES = 2_000


@pytest.fixture
def small_fs(tmp_path: Path) -> Path:
    """A 16 MiB tmpfs of the test's own."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory: Path) -> Path:
    """Writes zeros until the filesystem is full; returns the file holding them."""
    filler = directory / "filler"
    chunk = b"\0" * (64 << 10)
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        try:
            while True:
                f.write(b"\0")
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def lines(first: int, last: int) -> str:
    return "".join(f"line-{i:06d}-{'x' * 80}\n" for i in range(first, last))


def test_full_disk_under_the_embedded_log(small_fs: Path, tmp_path: Path) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text(lines(0, LINES))
    worker = WorkerProcess(tmp_path / "worker", extra={"embedded.log.dir": str(small_fs / "log")})
    worker.start()
    try:
        for name, config in (
            ("source", {"connector.class": "FileStreamSource", "file": str(src), "topic": "disk"}),
            ("sink", {"connector.class": "FileStreamSink", "file": str(out), "topics": "disk"}),
        ):
            assert worker.rest("PUT", f"/connectors/{name}/config", config).status_code == 201

        def written() -> list[str]:
            return out.read_text().splitlines() if out.exists() else []

        worker.wait_for(lambda: len(written()) >= LINES, 60, "the first lines in the sink")
        filler = fill(small_fs)
        with open(src, "a") as f:
            f.write(lines(LINES, 2 * LINES))

        def waiting() -> Any:
            t = worker.rest("GET", "/connectors/source/status").json()["tasks"][0]
            assert t["state"] != "FAILED", t
            return t if t["state"] == "RUNNING" and "No space left" in (t.get("trace") or "") else None

        status = worker.wait_for(waiting, 60, "the source waiting for space")
        print(f"\nwhile the disk is full: {status['trace'][:300]}")
        assert "Waiting" in status["trace"]
        time.sleep(5)  # the disk stays full a while: still waiting, not failed
        assert waiting() is not None
        filler.unlink()
        freed = time.monotonic()
        worker.wait_for(lambda: len(set(written())) == 2 * LINES, 60, "every line in the sink")
        print(f"resumed {time.monotonic() - freed:.1f} s after space was freed")
        got = written()
        assert set(got) == set(lines(0, 2 * LINES).splitlines())
        assert len(got) - len(set(got)) <= 500  # at most a batch written again
        worker.wait_for(
            lambda: not worker.rest("GET", "/connectors/source/status").json()["tasks"][0].get("trace"),
            30,
            "the trace cleared",
        )
    finally:
        worker.stop()
