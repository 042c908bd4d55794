"""Embedded log throughput: durable appends (batches of 500, fsync'd) and reads, plus bytes on disk. Each line gives
the process's CPU seconds per 100k records too (every thread: the writer's and the fsyncs' included).

python bench/bench_embedded_log.py [--records 1000000] [--concurrency 4] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time

from miniconnect.transport.base import NewTopic, ProducerRecord
from miniconnect.transport.embedded import EmbeddedLog

BATCH = 500


def make_batches(topic: str, keyed: bool, distinct: int = 20) -> list[list[ProducerRecord]]:
    # ~100-byte records: a 10-byte key (or none) and a JSON-ish value; reused so the bench measures the log
    return [
        [
            ProducerRecord(
                topic,
                b"key-%06d" % (b * BATCH + i) if keyed else None,
                (
                    b'{"id":%08d,"name":"customer name","amount":12345.67,"note":"abcdefghijklmnopq"}' % (b * BATCH + i)
                ).ljust(100, b" "),
            )
            for i in range(BATCH)
        ]
        for b in range(distinct)
    ]


async def append(log: EmbeddedLog, topic: str, records: int, concurrency: int, keyed: bool) -> float:
    batches = make_batches(topic, keyed)
    n_batches = records // BATCH
    producers = [log.producer() for _ in range(concurrency)]
    next_batch = iter(range(n_batches))

    async def run(producer) -> None:
        for b in next_batch:
            await producer.send_batch(batches[b % len(batches)])

    rounds = log._group_commit.rounds
    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(run(p) for p in producers))
    dt, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(
        f"  append {topic}: {n_batches * BATCH / dt:>10,.0f} records/s  {cpu * 1e5 / (n_batches * BATCH):.3f} CPU-s/100k"
        f"  ({concurrency} concurrent producer(s), {n_batches} batches, {log._group_commit.rounds - rounds} fsync "
        f"rounds, {dt:.2f} s)"
    )
    return dt


async def read(log: EmbeddedLog, topic: str, records: int, batches: bool) -> float:
    """Polls every record: as ConsumerRecords (poll), or as RecordBatch columns (poll_batches, as sinks read)."""
    consumer = log.consumer(f"bench-{topic}-{batches}")
    await consumer.subscribe(topics=[topic])
    t0, cpu0 = time.perf_counter(), time.process_time()
    n = 0
    while n < records:
        if batches:
            n += sum(map(len, await consumer.poll_batches(max_records=BATCH, timeout_ms=1000)))
        else:
            n += len(await consumer.poll(max_records=BATCH, timeout_ms=1000))
    dt, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await consumer.stop()
    how = "poll_batches" if batches else "poll"
    print(
        f"  read   {topic}: {n / dt:>10,.0f} records/s  {cpu * 1e5 / n:.3f} CPU-s/100k  ({how} of {BATCH}, {dt:.2f} s)"
    )
    return dt


def disk_mb(path: str) -> float:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 1e6


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="bench-embedded-")
    log = EmbeddedLog(directory)
    await log.start()
    try:
        await log.create_topics([NewTopic("seq"), NewTopic("conc"), NewTopic("keyed", partitions=4)])
        print(f"{args.records:,} records of ~100 bytes, batches of {BATCH}, durable (fsync, group commit)")
        await append(log, "seq", args.records, 1, keyed=False)
        await append(log, "conc", args.records, args.concurrency, keyed=False)
        await append(log, "keyed", args.records // 5, args.concurrency, keyed=True)
        await read(log, "seq", args.records, batches=False)
        await read(log, "seq", args.records, batches=True)
        seq_mb = disk_mb(os.path.join(directory, "topics", "seq"))
        print(
            f"  disk: {seq_mb:.1f} MB for {args.records:,} records ({seq_mb * 1e6 / args.records:.0f} bytes/record);"
            f" whole directory {disk_mb(directory):.1f} MB"
        )
    finally:
        await log.stop()
    try:
        reopened = EmbeddedLog(directory)
        await reopened.start()
        t0 = time.perf_counter()
        reopened.partition("seq", 0)  # log recovery: every batch's header and CRC checked once per process
        dt = time.perf_counter() - t0
        await reopened.stop()
        print(f"  reopen seq (recovery check): {dt:.3f} s for {seq_mb:.1f} MB ({seq_mb / dt:,.0f} MB/s)")
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
