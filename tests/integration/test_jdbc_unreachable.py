"""JDBC connectors against a database that cannot be reached (a loopback port nobody listens on), through a real
`miniconnect standalone` worker: POST /connectors answers at once (the connector's start() goes on after the
answer), and the connector goes FAILED with the database error as its trace once connection.attempts are spent,
with no task started."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from worker_process import WorkerProcess, free_port

ATTEMPTS, BACKOFF_MS = 3, 1000
CONNECTORS = {
    "source": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "mode": "bulk",
        "table.whitelist": "t",
        "topic.prefix": "unreachable_",
    },
    "sink": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "topics": "unreachable",
        "auto.create": "true",
    },
}


def jdbc_config(kind: str, scheme: str, port: int, attempts: int = ATTEMPTS) -> dict[str, str]:
    return {
        **CONNECTORS[kind],
        "connection.url": f"jdbc:{scheme}://127.0.0.1:{port}/db",
        "connection.user": "u",
        "connection.password": "p",
        "connection.attempts": str(attempts),
        "connection.backoff.ms": str(BACKOFF_MS),
        "tasks.max": "1",
    }


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    w = WorkerProcess(tmp_path_factory.mktemp("unreachable"))
    w.start()
    # The first use of a plugin imports it and its database driver: done here, so that the POSTs measured below
    # time the answer, not the imports (one attempt fails at once: the POST waits for that and answers 500).
    for kind in CONNECTORS:
        for scheme in ("postgresql", "mysql"):
            w.rest("POST", "/connectors", {"name": "warm-up", "config": jdbc_config(kind, scheme, free_port(), 1)})
            w.rest("DELETE", "/connectors/warm-up")
    yield w
    w.stop()


@pytest.mark.parametrize(
    "kind,scheme", [("source", "postgresql"), ("sink", "postgresql"), ("source", "mysql"), ("sink", "mysql")]
)
def test_unreachable_database_fails_the_connector(worker: WorkerProcess, kind: str, scheme: str) -> None:
    port = free_port()  # nothing listens there: every connection attempt is refused
    name = f"{kind}-{scheme}"
    config = jdbc_config(kind, scheme, port)

    t0 = time.monotonic()
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    answered = time.monotonic() - t0
    assert r.status_code == 201, r.text
    assert r.json()["tasks"] == []  # not started yet: its start() is still trying to connect
    assert answered < 1.0, f"POST took {answered:.2f} s"  # an upper bound only: starting happens after the answer

    status = worker.rest("GET", f"/connectors/{name}/status").json()
    assert status["connector"]["state"] in ("UNASSIGNED", "FAILED"), status  # never RUNNING

    def failed() -> Any:
        body = worker.rest("GET", f"/connectors/{name}/status").json()
        return body if body["connector"]["state"] == "FAILED" else None

    # FAILED after ATTEMPTS x BACKOFF_MS; the deadline is generous for a loaded machine
    status = worker.wait_for(failed, ATTEMPTS * BACKOFF_MS / 1000 + 30, f"{name} FAILED")
    trace = status["connector"]["trace"]
    assert "Could not connect to database" in trace and f"after {ATTEMPTS} attempt(s)" in trace, trace
    assert str(port) in trace, trace
    assert status["tasks"] == []
    assert worker.rest("GET", f"/connectors/{name}/tasks").json() == []

    # a restart tries again, in the background as well, and fails the same way
    r = worker.rest("POST", f"/connectors/{name}/restart")
    assert r.status_code == 204, r.text
    worker.wait_for(failed, ATTEMPTS * BACKOFF_MS / 1000 + 30, f"{name} FAILED again")
    assert worker.rest("DELETE", f"/connectors/{name}").status_code == 204


def test_reachable_path_unchanged_for_quick_connectors(worker: WorkerProcess, tmp_path: Path) -> None:
    """A connector whose start() returns at once is answered with its tasks, as Kafka's standalone worker does."""
    (tmp_path / "in.txt").write_text("")
    r = worker.rest(
        "POST",
        "/connectors",
        {
            "name": "quick",
            "config": {"connector.class": "FileStreamSource", "file": str(tmp_path / "in.txt"), "topic": "quick"},
        },
    )
    assert r.status_code == 201 and r.json()["tasks"] == [{"connector": "quick", "task": 0}], r.text
    worker.wait_running("quick")
    assert worker.rest("DELETE", "/connectors/quick").status_code == 204
