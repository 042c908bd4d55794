"""Prints seconds from process start to the REST API answering, and RSS idle and with 10 running connectors.

Usage: python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(workdir: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    props = workdir / "worker.properties"
    props.write_text(
        f"offset.storage.file.filename={workdir}/offsets\nembedded.log.dir={workdir}/log\n"
        f"listeners=http://127.0.0.1:{port}\n"
    )
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "miniconnect.cli", "standalone", str(props)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with httpx.Client() as client:
        while True:
            try:
                if client.get(url + "/", timeout=0.2).status_code == 200:
                    return proc, url, time.monotonic() - t0
            except httpx.HTTPError:
                time.sleep(0.005)
            if proc.poll() is not None:
                raise SystemExit("worker exited during startup")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            proc, _, secs = start(Path(d))
            times.append(secs)
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    print(
        f"startup to REST answering: median {statistics.median(times):.3f} s, "
        f"min {min(times):.3f} s, max {max(times):.3f} s over {args.runs} runs"
    )

    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        proc, url, _ = start(work)
        time.sleep(1.0)
        idle = rss_mb(proc.pid)
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(5):
                (work / f"in{i}.txt").write_text("".join(f"line {n}\n" for n in range(1000)))
                client.post(
                    "/connectors",
                    json={
                        "name": f"src-{i}",
                        "config": {
                            "connector.class": "FileStreamSource",
                            "file": str(work / f"in{i}.txt"),
                            "topic": f"t{i}",
                        },
                    },
                )
                client.post(
                    "/connectors",
                    json={
                        "name": f"sink-{i}",
                        "config": {
                            "connector.class": "FileStreamSink",
                            "file": str(work / f"out{i}.txt"),
                            "topics": f"t{i}",
                        },
                    },
                )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done = all(
                    (work / f"out{i}.txt").exists() and len((work / f"out{i}.txt").read_text().splitlines()) >= 1000
                    for i in range(5)
                )
                if done:
                    break
                time.sleep(0.1)
            running = client.get("/connectors?expand=status").json()
            states = [v["status"]["connector"]["state"] for v in running.values()]
        busy = rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    print(f"RSS idle: {idle:.1f} MB")
    print(
        f"RSS with {len(states)} connectors ({states.count('RUNNING')} RUNNING, 5 file sources + 5 file sinks "
        f"on the embedded log, 5,000 lines moved): {busy:.1f} MB"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "0")
    main()
