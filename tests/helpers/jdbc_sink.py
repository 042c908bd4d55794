"""Producing records for the JDBC sink tests: through `miniconnect topics produce`, or straight into Kafka."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from servers import run_async
from worker_process import WorkerProcess


def topics_produce(worker: WorkerProcess, topic: str, lines: list[str], key_separator: str | None = None) -> None:
    args = [sys.executable, "-m", "miniconnect.cli", "topics", str(worker.props), "produce", topic]
    if key_separator:
        args += ["--key-separator", key_separator]
    subprocess.run(args, input="".join(f"{line}\n" for line in lines).encode(), check=True, timeout=120)


def kafka_produce(
    bootstrap: str, topic: str, values: list[bytes], keys: list[bytes | None] | None = None, partitions: int = 1
) -> None:
    """Creates the topic if needed and sends the records in large batches (aiokafka, acks=all)."""

    async def run() -> None:
        from aiokafka import AIOKafkaProducer
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            if topic not in await admin.list_topics():
                await admin.create_topics([NewTopic(topic, partitions, 1)])
        finally:
            await admin.close()
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1 << 20, compression_type=None
        )
        await producer.start()
        try:
            futures = []
            ks = keys or [None] * len(values)
            for _i, (k, v) in enumerate(zip(ks, values)):
                futures.append(await producer.send(topic, v, key=k))
                if len(futures) >= 20000:
                    await asyncio.gather(*futures)
                    futures = []
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    run_async(run, timeout=600)
