"""Runs a real `miniconnect standalone` or `distributed` process for end-to-end tests, driven through its REST API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerProcess:
    def __init__(
        self,
        workdir: Path,
        extra: dict[str, str] | None = None,
        connector_files: list[str] | None = None,
        port: int | None = None,
        mode: str = "standalone",
        scheme: str = "http",
        client: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ):
        """mode "standalone" or "distributed"; scheme "https" makes the listener https (its ssl keys in `extra`);
        `client` are httpx arguments for every request (verify=, auth=); `env` is added to the worker's
        environment."""
        self.workdir = workdir
        self.mode = mode
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.props = workdir / "worker.properties"
        lines = {
            **({"offset.storage.file.filename": str(workdir / "connect.offsets")} if mode == "standalone" else {}),
            "embedded.log.dir": str(workdir / "log"),
            "offset.flush.interval.ms": "500",
            "listeners": f"{scheme}://127.0.0.1:{self.port}",
            **(extra or {}),
        }
        self.props.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        self.connector_files = connector_files or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.client = client or {}
        self.env = env or {}
        self.log_path = workdir / "worker.log"

    def start(self, timeout: float = 20.0) -> float:
        """Starts the process and returns the seconds until the REST API answered."""
        t0 = time.monotonic()
        log = open(self.log_path, "ab")
        # -P: the caller's working directory does not go on sys.path, where a `miniconnect/` directory (the quick
        # start's /tmp/miniconnect, another checkout) would shadow the installed package
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "miniconnect.cli", self.mode, str(self.props), *self.connector_files],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/", timeout=0.5, **self.client).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        self.proc.kill()  # not left running behind the error
        self.proc.wait()
        raise TimeoutError(f"worker did not answer within {timeout} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cpu_seconds(self) -> float:
        """User + system CPU of the running process so far (Linux /proc): benchmarks tell the worker's own cost
        from the load of the other processes on a shared machine with it."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> tuple[float, float]:
        """Resident memory of the running process now and at its peak, in MB (Linux /proc)."""
        assert self.proc is not None
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines())
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def rest(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return httpx.request(method, self.url + path, json=json, timeout=60, **self.client)

    def wait_for(self, predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {what}\n--- worker log:\n{self.log()[-5000:]}")

    def wait_running(self, name: str, tasks: int = 1, timeout: float = 30.0) -> dict[str, Any]:
        def ok() -> Any:
            r = self.rest("GET", f"/connectors/{name}/status")
            if r.status_code != 200:
                return None
            body = r.json()
            states = [t["state"] for t in body["tasks"]]
            return body if body["connector"]["state"] == "RUNNING" and states == ["RUNNING"] * tasks else None

        return self.wait_for(ok, timeout, f"{name} RUNNING with {tasks} tasks")


def distributed_worker(
    workdir: Path, bootstrap: str, group: str, extra: dict[str, str] | None = None, port: int | None = None
) -> WorkerProcess:
    """A `miniconnect distributed` worker in `group`, with that group's internal topics and a short rebalance
    delay, advertised at 127.0.0.1:<port>."""
    port = port or free_port()
    return WorkerProcess(
        workdir,
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "config.storage.topic": f"{group}-configs",
            "offset.storage.topic": f"{group}-offsets",
            "status.storage.topic": f"{group}-status",
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.partitions": "3",
            "status.storage.partitions": "1",
            "scheduled.rebalance.max.delay.ms": "5000",
            "heartbeat.interval.ms": "1000",
            "session.timeout.ms": "10000",
            "rest.advertised.host.name": "127.0.0.1",
            "rest.advertised.port": str(port),
            "offset.flush.interval.ms": "500",
            **(extra or {}),
        },
        port=port,
        mode="distributed",
    )
