"""Pipelines through a real `miniconnect standalone` worker that serves the Schema Registry itself
(schema.registry.listeners) on the embedded log, with a schema-registry converter as key and value converter:
the worker, its connectors, the sink table's rows, a task's FAILED trace, and records put into / read from the log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registry_testkit import free_port
from servers import DbServer, run_async
from worker_process import WorkerProcess

from helpers.source_e2e import sql
from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog


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


def produce(log_dir: Path, topic: str, values: list[bytes]) -> None:
    """Appends records (no key) to a topic of the embedded log in log_dir (another process's, as the CLI does)."""

    async def go() -> None:
        log = EmbeddedLog(str(log_dir))
        await log.start()
        try:
            await log.create_topics([NewTopic(topic, 1, 1)])
            producer = log.producer()
            await producer.start()
            await producer.send_batch([ProducerRecord(topic, None, v, 0) for v in values])
            await producer.stop()
        finally:
            await log.stop()

    run_async(go)


def consume(log_dir: Path, topic: str) -> list[Any]:
    """Every record of the topic (from the start, a new group each time)."""

    async def go() -> list[Any]:
        log = EmbeddedLog(str(log_dir))
        await log.start()
        try:
            consumer = log.consumer(f"check-{uuid.uuid4().hex[:8]}", {"auto.offset.reset": "earliest"})
            await consumer.start()
            await consumer.subscribe([topic])
            records = await consumer.poll(100, 3000)
            await consumer.stop()
            return records  # type: ignore[no-any-return]
        finally:
            await log.stop()

    return run_async(go)  # type: ignore[no-any-return]
