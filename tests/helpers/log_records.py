"""Records written into and read from a worker's log from outside the worker, as another client of it would: the
embedded log's directory (the worker's `<workdir>/log`, shared between processes) or Kafka."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from servers import run_async

from miniconnect.transport.base import NewTopic, ProducerRecord, Transport
from miniconnect.transport.embedded import EmbeddedLog
from miniconnect.transport.kafka import KafkaTransport


def log_transport(workdir: Path, bootstrap: str | None) -> Transport:
    """A client of the worker's log: the embedded log's directory (another process's, as the CLI's) or Kafka."""
    return KafkaTransport(bootstrap) if bootstrap else EmbeddedLog(str(workdir / "log"))


def produce(workdir: Path, bootstrap: str | None, topic: str, values: list[bytes]) -> None:
    async def go() -> None:
        log = log_transport(workdir, bootstrap)
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


def consume(workdir: Path, bootstrap: str | None, topic: str) -> list[Any]:
    """The records of `topic` there now (up to 100, waiting up to 3 s for the first)."""

    async def go() -> list[Any]:
        log = log_transport(workdir, bootstrap)
        await log.start()
        try:
            consumer = log.consumer(f"check-{uuid.uuid4().hex[:8]}", {"auto.offset.reset": "earliest"})
            await consumer.start()
            await consumer.subscribe([topic])
            records = await consumer.poll(100, 3000)
            await consumer.stop()
            return records
        finally:
            await log.stop()

    return run_async(go)


async def drain(consumer: Any, n: int, timeout: float = 10.0) -> list[Any]:
    """Polls a consumer until n records arrived (or fails after timeout)."""
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        assert time.monotonic() < deadline, f"got {len(out)} of {n} records"
        out.extend(await consumer.poll(max_records=1000, timeout_ms=200))
    return out
