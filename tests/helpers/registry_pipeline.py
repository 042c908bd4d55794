"""Pipelines through a real `miniconnect standalone` worker that serves the Schema Registry itself
(schema.registry.listeners) on the embedded log, with a schema-registry converter as key and value converter:
the worker, its connectors, the sink table's rows and a task's FAILED trace (records in and out of its log:
helpers.log_records)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registry_testkit import free_port
from servers import DbServer
from worker_process import WorkerProcess

from helpers.source_e2e import sql


def registry_worker(
    tmp_path: Path, converter: str, converter_config: Mapping[str, str] | None = None
) -> tuple[WorkerProcess, str]:
    """A worker on the embedded log in tmp_path/log serving its registry on a free port; (worker, registry URL)."""
    url = f"http://127.0.0.1:{free_port()}"
    extra = {"schema.registry.listeners": url}
    for side in ("key", "value"):
        extra[f"{side}.converter"] = converter
        extra[f"{side}.converter.schema.registry.url"] = url
        extra.update({f"{side}.converter.{k}": v for k, v in (converter_config or {}).items()})
    return WorkerProcess(tmp_path, extra=extra), url


def connector(worker: WorkerProcess, name: str, config: dict[str, Any]) -> None:
    r = worker.rest("POST", "/connectors", {"name": name, "config": config})
    assert r.status_code == 201, r.text


def sink_rows(mysql_db: DbServer, table: str, columns: str) -> list[tuple]:
    """The table's rows ordered by id ([] while the sink has not created it)."""
    try:
        return sql(mysql_db, f"SELECT {columns} FROM `{table}` ORDER BY id")
    except Exception:
        return []


def failed_trace(worker: WorkerProcess, name: str, timeout: float = 60) -> str:
    """The trace of the connector's first task once it is FAILED."""
    return worker.wait_for(  # type: ignore[no-any-return]
        lambda: (
            (t := worker.rest("GET", f"/connectors/{name}/status").json()["tasks"])
            and t[0]["state"] == "FAILED"
            and t[0]["trace"]
        ),
        timeout,
        f"the task of {name} FAILED",
    )
