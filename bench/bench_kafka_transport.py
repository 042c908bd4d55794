"""Prints records/s through KafkaTransport: durable produce (acks=all, idempotent) and consume.

Uses MINICONNECT_TEST_KAFKA=host:port when set, else starts the test harness's single KRaft broker.
Usage: python bench/bench_kafka_transport.py [RECORDS] [BATCH]
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from miniconnect.connector import TopicPartition
from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.kafka import KafkaTransport


async def run(bootstrap: str, n: int, batch: int) -> None:
    transport = KafkaTransport(bootstrap, {}, {}, {})
    await transport.start()
    for partitions, keyed in ((1, False), (4, True)):
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        await transport.create_topics([NewTopic(topic, partitions)])
        value = b"x" * 100
        records = [ProducerRecord(topic, str(i).encode() if keyed else None, value) for i in range(n)]
        producer = transport.producer({})
        await producer.start()
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            await producer.send_batch(records[i : i + batch])
        secs = time.perf_counter() - t0
        await producer.stop()
        print(
            f"produce {n:,} x 100 B, {partitions} partition(s){' keyed' if keyed else ''}, batches of {batch}: "
            f"{n / secs:,.0f} records/s"
        )
        consumer = transport.consumer(f"bench-{topic}", {})
        await consumer.start()
        await consumer.subscribe([topic])
        got, t0 = 0, time.perf_counter()
        while got < n:
            got += len(await consumer.poll(2000, 1000))
        secs = time.perf_counter() - t0
        await consumer.stop()
        ends = await transport.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        assert sum(ends.values()) == n, ends
        print(f"consume {n:,}: {n / secs:,.0f} records/s")
    await transport.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    from servers import kafka_server

    with kafka_server() as bootstrap:
        asyncio.run(run(bootstrap, n, batch))


if __name__ == "__main__":
    main()
