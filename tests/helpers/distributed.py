"""Driving a cluster of worker processes over REST: requests, status polls, waiting with a deadline, file readers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from worker_process import WorkerProcess

TIMEOUT = 90.0


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def request(
    worker: WorkerProcess,
    method: str,
    path: str,
    json: Any = None,
    ok: tuple[int, ...] = (200, 201, 202, 204),
    timeout: float = TIMEOUT,
) -> httpx.Response:
    """A REST call retried while the cluster rebalances (409, or 500 "a rebalance is expected"), as clients of a
    Connect cluster do."""
    deadline = time.monotonic() + timeout
    while True:
        r = worker.rest(method, path, json)
        if r.status_code in ok:
            return r
        if time.monotonic() > deadline:
            raise AssertionError(f"{method} {path} on {worker.url}: {r.status_code} {r.text}\n{worker.log()[-4000:]}")
        time.sleep(0.3)


def wait_for(what: str, predicate: Callable[[], Any], workers: list[WorkerProcess], timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, KeyError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.3)
    logs = "\n".join(f"--- {w.url}\n{w.log()[-3000:]}" for w in workers)
    raise TimeoutError(f"timed out waiting for {what}\n{logs}")


def status(worker: WorkerProcess, name: str) -> dict[str, Any] | None:
    r = worker.rest("GET", f"/connectors/{name}/status")
    return r.json() if r.status_code == 200 else None


def running(worker: WorkerProcess, name: str, tasks: int) -> dict[str, Any] | None:
    s = status(worker, name)
    if s and s["connector"]["state"] == "RUNNING" and [t["state"] for t in s["tasks"]] == ["RUNNING"] * tasks:
        return s
    return None


def _grow(path: Path, stop: threading.Event, width: int = 8) -> list[int]:
    written: list[int] = []
    n = 0
    with open(path, "a") as f:
        while not stop.is_set():
            f.write("".join(f"{i:0{width}d}\n" for i in range(n, n + 50)))
            f.flush()
            written.extend(range(n, n + 50))
            n += 50
            time.sleep(0.02)
    return written
