"""The logic of `miniconnect topics list|consume|produce|verify`, for any Transport (verify: the embedded log)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TextIO

from .transport.base import ProducerRecord, Transport
from .transport.embedded.recovery import verify_log

PRODUCE_BATCH = 500


async def list_topics(transport: Transport) -> list[str]:
    """Print-ready lines "name<TAB>partitions", sorted by name."""
    topics = await transport.list_topics()
    return [f"{name}\t{n}" for name, n in sorted(topics.items())]


def _text(data: bytes | None) -> str:
    return "null" if data is None else data.decode("utf-8", errors="replace")


async def consume(
    transport: Transport,
    topic: str,
    from_beginning: bool,
    out: TextIO,
    max_messages: int | None = None,
    timeout_ms: int | None = None,
    print_key: bool = False,
) -> int:
    """Prints record values (with print_key: "key<TAB>value") one per line, like kafka-console-consumer.
    Without from_beginning only records produced from now on. Stops after max_messages, or once timeout_ms
    passes without a record (None: runs until cancelled). Returns how many records were printed.

    Uses a throwaway group that never commits, so a worker's committed positions are never touched."""
    consumer = transport.consumer(
        f"miniconnect-console-consumer-{uuid.uuid4().hex[:8]}",
        {"auto.offset.reset": "earliest" if from_beginning else "latest"},
    )
    count = 0
    await consumer.start()
    try:
        await consumer.subscribe(topics=[topic])
        while max_messages is None or count < max_messages:
            want = 500 if max_messages is None else min(500, max_messages - count)
            records = await consumer.poll(max_records=want, timeout_ms=timeout_ms if timeout_ms is not None else 1000)
            if not records:
                if timeout_ms is not None:
                    break
                continue
            if print_key:
                lines = [f"{_text(r.key)}\t{_text(r.value)}\n" for r in records]
            else:
                lines = [_text(r.value) + "\n" for r in records]
            out.write("".join(lines))
            out.flush()
            count += len(records)
    finally:
        await consumer.stop()
    return count


async def produce(transport: Transport, topic: str, lines: Iterable[str], key_separator: str | None = None) -> int:
    """Sends each line (without its line break) as a record, in batches; with key_separator the text before
    its first occurrence is the key (lines without it get a null key). Returns the number of records."""
    producer = transport.producer({})
    count = 0
    batch: list[ProducerRecord] = []
    await producer.start()
    try:
        for line in lines:
            line = line.rstrip("\r\n")
            key: bytes | None = None
            if key_separator is not None and key_separator in line:
                k, line = line.split(key_separator, 1)
                key = k.encode()
            batch.append(ProducerRecord(topic, key, line.encode()))
            if len(batch) >= PRODUCE_BATCH:
                await producer.send_batch(batch)
                count += len(batch)
                batch = []
        if batch:
            await producer.send_batch(batch)
            count += len(batch)
    finally:
        await producer.stop()
    return count


def verify(directory: str, topics: list[str], out: TextIO) -> bool:
    """Checks every batch of the embedded log in `directory` (only `topics` when given) and prints a line per
    partition; changes nothing. True when the log is intact."""
    intact = True
    for topic, partition, end, damage in verify_log(directory, topics or None):
        if damage is None:
            out.write(f"{topic}-{partition}\tok\t{end} records\n")
        else:
            intact = False
            kind = "torn" if damage.torn else "damaged"
            out.write(f"{topic}-{partition}\t{kind}\t{damage.describe(topic, partition)}\n")
    return intact
